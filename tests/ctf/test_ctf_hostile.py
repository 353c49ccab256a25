"""Hostile and broken files: each is refused with one sentence naming the file (and, where it
applies, the pupil by position and the element), creates nothing, and reads nothing else."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ctf_generator import generate, make_pupils, render

from desktop.assessments import Assessments
from desktop.ctf_import import CtfImport
from desktop.ctf_reader import Limits, read_ctf
from desktop.errors import BadImportFile

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<CTfile><Header><CTFversion>25.0</CTFversion>'
        "</Header><CTFpupilData>")
TAIL = "</CTFpupilData></CTfile>\n"


def pupil_xml(**overrides: str | None) -> str:
    values: dict[str, str | None] = {
        "UPN": "H801200001001", "Surname": "Quillonyx", "Forename": "Farthing",
        "DOB": "2016-04-30", "Sex": "F",
    }
    values.update(overrides)
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v is not None)
    return f"<Pupil>{inner}</Pupil>"


def refused(path: Path, **kwargs: Any) -> str:
    with pytest.raises(BadImportFile) as caught:
        read_ctf(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"The file {path.name} cannot be imported: ")
    assert message.endswith("Nothing was imported.")
    assert "\n" not in message
    assert "Quillonyx" not in message
    assert "H801200001001" not in message
    return message


def write(tmp_path: Path, content: str | bytes, name: str = "hostile.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE CTfile [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData>
<Pupil><Surname>&lol9;</Surname></Pupil></CTFpupilData></CTfile>"""

HOSTILE_DECLARATIONS = {
    "billion laughs": BILLION_LAUGHS,
    "external entity (file)": '<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY x SYSTEM '
                              '"file:///etc/passwd">]><CTfile><Header>&x;</Header></CTfile>',
    "external entity (network)": '<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY x SYSTEM '
                                 '"http://127.0.0.1:9/x">]><CTfile>&x;</CTfile>',
    "external DTD": '<?xml version="1.0"?><!DOCTYPE CTfile SYSTEM "http://127.0.0.1:9/ctf.dtd">'
                    "<CTfile/>",
    "parameter entity": '<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY % p SYSTEM '
                        '"file:///etc/passwd"> %p;]><CTfile/>',
    "internal DTD": '<?xml version="1.0"?><!DOCTYPE CTfile [<!ELEMENT CTfile ANY>]><CTfile/>',
}


class Watch:
    """Every file opened and socket made inside `with watch:` (an audit hook records them)."""

    def __init__(self) -> None:
        self.on = False
        self.events: list[tuple[str, str]] = []

    def __enter__(self) -> Watch:
        self.on = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.on = False

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.on and (event == "open" or event.startswith("socket.")):
            self.events.append((event, str(args[0]) if args else ""))

    @property
    def opened(self) -> list[str]:
        return [arg for event, arg in self.events if event == "open"]

    @property
    def sockets(self) -> list[tuple[str, str]]:
        return [e for e in self.events if e[0].startswith("socket.")]


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Watch]:
    # Warm up first: the parser's error path imports modules lazily, once per process.
    with pytest.raises(BadImportFile):
        read_ctf(write(tmp_path, HOSTILE_DECLARATIONS["external DTD"], "warm-up.xml"))
    watcher = Watch()
    sys.addaudithook(watcher.hook)  # hooks cannot be removed; this one is quiet outside `with`
    yield watcher
    watcher.on = False


@pytest.mark.parametrize("content", HOSTILE_DECLARATIONS.values(), ids=HOSTILE_DECLARATIONS.keys())
def test_dtds_and_entities_are_refused_without_reading_anything_else(
    tmp_path: Path, content: str, watch: Watch,
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(BadImportFile) as caught, watch:
        read_ctf(path)
    assert "DTD" in str(caught.value)
    assert watch.opened == [str(path)]
    assert watch.sockets == []


def test_a_good_file_opens_only_itself(
    tmp_path: Path, watch: Watch,
) -> None:
    xml, _ = generate(20, seed=4)
    path = write(tmp_path, xml)
    with watch:
        ctf = read_ctf(path)
    assert len(ctf.pupils) == 20
    assert watch.opened == [str(path)]
    assert watch.sockets == []


def test_a_2gb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as stream:  # sparse: no 2 GB is written to the disk
        stream.write(HEAD.encode())
        stream.truncate(2 * 1024**3)
    message = refused(path)
    assert "2,048 MB" in message
    assert "256 MB" in message


def test_a_file_that_outgrows_its_limit_while_read_is_refused(tmp_path: Path) -> None:
    xml, _ = generate(50)
    path = write(tmp_path, xml)
    message = refused(path, limits=Limits(max_bytes=len(xml) - 1))
    assert "larger than" in message


def test_deep_nesting_is_refused_naming_where(tmp_path: Path) -> None:
    deep = "<Notes>" * 5000 + "</Notes>" * 5000
    path = write(tmp_path, HEAD + pupil_xml() + f"<Pupil>{deep}</Pupil>" + TAIL)
    message = refused(path)
    assert "nest more than 24 deep" in message
    assert "(pupil 2, element Notes/Notes/" in message


def test_too_many_elements_and_too_many_pupils(tmp_path: Path) -> None:
    xml, _ = generate(30)
    path = write(tmp_path, xml)
    assert "more than 500 elements" in refused(path, limits=Limits(max_elements=500))
    assert "more than 29 pupils" in refused(path, limits=Limits(max_pupils=29))


@pytest.mark.parametrize(("content", "expected"), [
    ('<?xml version="1.0" encoding="UTF-16"?><CTfile/>', "does not match the encoding"),
    ('<?xml version="1.0" encoding="klingon"?><CTfile/>', "encoding OneSEND does not know"),
    ('<?xml version="1.0" encoding="Shift_JIS"?><CTfile/>', "encoding OneSEND cannot read"),
    (HEAD.encode() + pupil_xml(Surname="Zo\udceb").encode("utf-8", "surrogateescape")
     + TAIL.encode(), "is its encoding the one it declares?"),
], ids=["utf16-declared", "unknown", "multibyte", "latin1-bytes-declared-utf8"])
def test_wrong_encoding_declarations(tmp_path: Path, content: str | bytes, expected: str) -> None:
    message = refused(write(tmp_path, content))
    assert expected in message


def test_a_truncated_file_names_the_pupil_it_stopped_in(tmp_path: Path) -> None:
    xml, _ = generate(12, seed=5)
    cut = xml.index(b"<Pupil>", xml.index(b"<Pupil>") + 1) + 60  # inside pupil 2
    path = write(tmp_path, xml[:cut])
    message = refused(path)
    assert "truncated" in message
    assert "(pupil 2" in message


@pytest.mark.parametrize(("content", "expected"), [
    ("", "it is empty"),
    ("this is not XML at all", "not well-formed XML"),
    ("<html><body>not a CTF</body></html>", "not a Common Transfer File (its root element is "
                                            "html"),
    ("<CTfile><CTFpupilData/></CTfile>", "no Header element"),
    ("<CTfile><Header><DocumentName>x</DocumentName></Header><CTFpupilData/></CTfile>",
     "no CTFversion"),
    ("<CTfile><Header><CTFversion>25.0</CTFversion></Header></CTfile>", "no CTFpupilData"),
    ("<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData/></CTfile><x/>",
     "more after the end"),
    ("<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData><Pupil><UPN>x</Surname>"
     "</Pupil></CTFpupilData></CTfile>", "(pupil 1, element UPN)"),
    ("<CTfile>&#0;</CTfile>", "character that XML does not allow"),
], ids=["empty", "not-xml", "wrong-root", "no-header", "no-version", "no-pupil-data", "junk",
        "mismatch", "bad-char-ref"])
def test_broken_structure(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in refused(write(tmp_path, content))


def test_not_a_regular_file_and_missing_file(tmp_path: Path) -> None:
    assert "not a regular file" in refused(tmp_path)
    assert "cannot be read" in refused(tmp_path / "absent.xml")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.xml"
        os.mkfifo(fifo)
        assert "not a regular file" in refused(fifo)


def test_nothing_is_created_from_a_file_that_fails_late(
    tmp_path: Path, store: Assessments,
) -> None:
    xml, _ = generate(200, seed=6)
    path = write(tmp_path, xml[: len(xml) - 40])  # 199 good pupils, then the end is cut
    with pytest.raises(BadImportFile, match="truncated"):
        CtfImport(store).preview(path)
    assert store.count() == 0


# -- pupil-level problems: one pupil named by position; the other pupils still import ---------


def preview_of(tmp_path: Path, store: Assessments, *pupils: str) -> Any:
    path = write(tmp_path, HEAD + "".join(pupils) + TAIL)
    return CtfImport(store).preview(path)


@pytest.mark.parametrize(("override", "element", "message"), [
    ({"Surname": None}, "Surname", "Surname is missing"),
    ({"Forename": None}, "Forename", "Forename is missing"),
    ({"DOB": None}, "DOB", "DOB is missing"),
    ({"UPN": None}, "UPN", "UPN is missing"),
    ({"DOB": "30/04/2016"}, "DOB", "not a date in the form YYYY-MM-DD"),
    ({"DOB": "2016-02-30"}, "DOB", "not a date in the form YYYY-MM-DD"),
    ({"DOB": "2999-01-01"}, "DOB", "in the future"),
    ({"Surname": "x" * 201}, "Surname", "longer than 200"),
], ids=["no-surname", "no-forename", "no-dob", "no-upn", "dob-format", "dob-impossible",
        "dob-future", "long-name"])
def test_a_pupil_missing_a_mandatory_value_is_kept_out_by_position(
    tmp_path: Path, store: Assessments, override: dict[str, str | None], element: str,
    message: str,
) -> None:
    good = pupil_xml(UPN="X00180001701A")
    preview = preview_of(tmp_path, store, good, pupil_xml(**override))
    bad = preview.pupils[1]
    assert bad.position == 2
    assert bad.action == "not-importable"
    assert [(p.element, p.severity) for p in bad.problems] == [(element, "error")]
    assert message in bad.problems[0].message
    assert "Quillonyx" not in bad.problems[0].message
    assert preview.pupils[0].action == "create"
    report = CtfImport(store).run(preview)
    assert len(report.created) == 1
    assert report.problems == [{"pupil": 2, "reason": bad.reason}]
    assert store.count() == 1


@pytest.mark.parametrize(("override", "element", "question"), [
    ({"Sex": "Q"}, "Sex", ("child", "sex")),
    ({"NCyearActual": "Y7"}, "NCyearActual", ("child", "nc_year")),
], ids=["sex", "nc-year"])
def test_an_invalid_code_is_left_out_with_a_note(
    tmp_path: Path, store: Assessments, override: dict[str, str], element: str,
    question: tuple[str, str],
) -> None:
    row = preview_of(tmp_path, store, pupil_xml(**override)).pupils[0]
    assert row.action == "create"
    assert [(p.element, p.severity) for p in row.problems] == [(element, "note")]
    assert question[1] not in row.answers.get(question[0], {})


def test_invalid_sen_codes_and_ranks_are_left_out_with_notes(
    tmp_path: Path, store: Assessments,
) -> None:
    sen = ("<SENhistory><SEN><StartDate>2020-09-01</StartDate><SENprovision>Z</SENprovision>"
           "</SEN><SEN><StartDate>01/09/2021</StartDate><SENprovision>K</SENprovision></SEN>"
           "<SENneeds><SENneed><SENtypeRank>1</SENtypeRank><SENtype>XYZ</SENtype></SENneed>"
           "<SENneed><SENtypeRank>one</SENtypeRank><SENtype>ASD</SENtype></SENneed>"
           "<SENneed><SENtypeRank>2</SENtypeRank><SENtype>SLCN</SENtype></SENneed>"
           "<SENneed><SENtypeRank>3</SENtypeRank><SENtype>HI</SENtype></SENneed>"
           "</SENneeds></SENhistory>")
    xml = pupil_xml().replace("</Pupil>", sen + "</Pupil>")
    row = preview_of(tmp_path, store, xml).pupils[0]
    elements = [(p.element, p.severity) for p in row.problems]
    assert elements == [
        ("SENhistory/SEN[1]/SENprovision", "note"),
        ("SENhistory/SEN[2]/StartDate", "note"),
        ("SENneeds/SENneed[1]/SENtype", "note"),
        ("SENneeds/SENneed[2]/SENtypeRank", "note"),
        ("SENneeds/SENneed[4]/SENtypeRank", "note"),
        ("SENneeds", "flag"),  # a secondary need with no primary: kept, marked for checking
    ]
    assert row.answers["placement"] == {"sen_provision": "K"}
    assert row.answers["needs"] == {"secondary_need": "SLCN"}


def test_the_same_upn_twice_in_one_file_keeps_the_second_out(
    tmp_path: Path, store: Assessments,
) -> None:
    preview = preview_of(tmp_path, store, pupil_xml(), pupil_xml(UPN="h801 2000 01001"))
    assert preview.pupils[0].action == "create"
    second = preview.pupils[1]
    assert second.action == "not-importable"
    assert "same UPN as pupil 1" in second.reason


def test_a_generated_file_with_one_bad_date_imports_the_rest(
    tmp_path: Path, store: Assessments,
) -> None:
    pupils = make_pupils(30, seed=8)
    pupils[11].dob = pupils[11].dob.replace("-", "/")
    path = write(tmp_path, render(pupils))
    preview = CtfImport(store).preview(path)
    assert [p.position for p in preview.pupils if not p.importable] == [12]
    report = CtfImport(store).run(preview)
    assert len(report.created) == 29
    assert report.problems[0]["pupil"] == 12


@pytest.mark.parametrize("upn", ["A" + "\u00b2" * 12, "A" + "\u0663" * 12, "H8012 0000 1001 EXTRA"])
def test_a_strange_upn_is_flagged_never_an_exception(
    tmp_path: Path, store: Assessments, upn: str,
) -> None:
    row = preview_of(tmp_path, store, pupil_xml(UPN=upn)).pupils[0]
    assert row.action == "create"
    assert row.upn_valid is False
    assert [(p.element, p.severity) for p in row.problems] == [("UPN", "flag")]
