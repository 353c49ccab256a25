"""Property tests: whatever is done to a CTF, the reader raises nothing but its own error, and
the preview of whatever it reads raises nothing at all."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from ctf_generator import NAMESPACE, generate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.ctf_mapping import PupilMapper
from desktop.ctf_reader import CtfFile, Limits, read_ctf
from desktop.errors import BadImportFile
from forms.registry import load_definition

SEED_FILES = [generate(3, version=v, namespace=ns, seed=i)[0]
              for i, (v, ns) in enumerate([("25.0", None), ("12.0", NAMESPACE), ("16.0", None)])]
SNIPPETS = [b"<!DOCTYPE CTfile [<!ENTITY a 'b'>]>", b"&a;", b"<Pupil>", b"</Pupil>", b"<SEN>",
            b"<SENtypeRank>", b"\x00", b"\xff\xfe", b"\xc3", b"<![CDATA[", b"]]>", b"<?pi x?>",
            b"<DOB>1/1/1</DOB>", b"<UPN></UPN>", b"&#x0;", b"&#xD800;", b"<CTfile>", b"'\"<>&",
            b'encoding="UTF-16"', b"<a:b xmlns:a='x'>", b"</CTFpupilData>", b"\r\n",
            b"\xef\xbb\xbf"]
LIMITS = Limits(max_bytes=1_000_000, max_elements=20_000, max_depth=24, max_pupils=50)
MAPPER = PupilMapper(load_definition("national-send-assessment"), date(2026, 11, 2))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEED_FILES)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.one_of(st.sampled_from(SNIPPETS), st.binary(max_size=8)))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            span = draw(st.integers(1, 400))
            data[at:at] = data[at:at + span]
    return bytes(data)


def _read(content: bytes) -> CtfFile | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.xml"
        path.write_bytes(content)
        try:
            return read_ctf(path, limits=LIMITS)
        except BadImportFile as error:
            message = str(error)
            assert message.startswith("The file mutated.xml cannot be imported: ")
            assert "\n" not in message
            return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_file_is_read_or_refused_with_our_own_error(content: bytes) -> None:
    ctf = _read(content)
    if ctf is not None:
        for pupil in ctf.pupils:
            row = MAPPER.map(pupil)
            assert row.position == pupil.position
            for problem in row.problems:
                assert problem.severity in ("error", "flag", "note")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_read_or_refused_with_our_own_error(content: bytes) -> None:
    _read(b"<CTfile>" + content)
    _read(content)


TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)


@settings(max_examples=80, deadline=None)
@given(upn=TEXT, dob=TEXT, sex=TEXT, year=TEXT, provision=TEXT, rank=TEXT, need=TEXT)
def test_any_values_in_a_well_formed_file_map_without_raising(
    upn: str, dob: str, sex: str, year: str, provision: str, rank: str, need: str,
) -> None:
    from xml.sax.saxutils import escape  # noqa: PLC0415

    def e(value: str) -> str:
        return escape(value)

    xml = (f"<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData><Pupil>"
           f"<UPN>{e(upn)}</UPN><Surname>S</Surname><Forename>F</Forename><DOB>{e(dob)}</DOB>"
           f"<Sex>{e(sex)}</Sex><NCyearActual>{e(year)}</NCyearActual><SENhistory><SEN>"
           f"<StartDate>{e(dob)}</StartDate><SENprovision>{e(provision)}</SENprovision></SEN>"
           f"<SENneeds><SENneed><SENtypeRank>{e(rank)}</SENtypeRank><SENtype>{e(need)}</SENtype>"
           "</SENneed></SENneeds></SENhistory></Pupil></CTFpupilData></CTfile>")
    ctf = _read(xml.encode("utf-8"))
    if ctf is not None:
        row = MAPPER.map(ctf.pupils[0])
        assert row.importable == all(p.severity != "error" for p in row.problems)
