"""The CTF reader on generated files: every version, with and without a namespace, 1 to 2,000."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from ctf_generator import NAMESPACE, VERSIONS, generate, make_pupils, render

from desktop.ctf_reader import Limits, read_ctf


@pytest.mark.parametrize("namespace", [None, NAMESPACE], ids=["plain", "namespaced"])
@pytest.mark.parametrize("version", VERSIONS)
def test_reads_back_every_generated_value(
    write_ctf: Callable[..., tuple[Path, list]], version: str, namespace: str | None,
) -> None:
    path, pupils = write_ctf(40, version=version, namespace=namespace, seed=7)
    ctf = read_ctf(path)
    assert ctf.header.version == version
    assert ctf.header.document_name == "Common Transfer File"
    assert ctf.header.source_school.lea == "823"
    assert ctf.header.source_school.urn == "199999"
    assert ctf.header.dest_school.estab == "4002"
    assert [p.position for p in ctf.pupils] == list(range(1, 41))
    for read, made in zip(ctf.pupils, pupils, strict=True):
        assert (read.upn, read.surname, read.forename, read.dob, read.sex, read.nc_year,
                read.uln) == (made.upn, made.surname, made.forename, made.dob, made.sex,
                              made.nc_year, made.uln)
        assert read.sex_element == ("Gender" if version == "12.0" else "Sex")
        assert read.preferred_forename == made.preferred_forename
        assert read.preferred_surname == made.preferred_surname
        assert list(read.former_upns) == made.former_upns
        assert [(e.start_date, e.provision) for e in read.sen_history] == made.sen
        assert [(int(n.rank or 0), n.type) for n in read.sen_needs] == made.needs


def test_a_parents_names_are_never_taken_for_the_pupils(
    write_ctf: Callable[..., tuple[Path, list]],
) -> None:
    path, _ = write_ctf(5)
    ctf = read_ctf(path)
    assert all(not (p.surname or "").startswith("Parentname") for p in ctf.pupils)
    assert all(p.forename != "Carer" for p in ctf.pupils)


def test_one_pupil_and_two_thousand(tmp_path: Path) -> None:
    for count in (1, 2000):
        xml, pupils = generate(count, seed=count)
        path = tmp_path / f"{count}.xml"
        path.write_bytes(xml)
        ctf = read_ctf(path)
        assert len(ctf.pupils) == count
        assert ctf.pupils[-1].upn == pupils[-1].upn


def test_an_empty_pupil_list_is_a_file_with_no_pupils(tmp_path: Path) -> None:
    path = tmp_path / "none.xml"
    path.write_bytes(render([]))
    assert read_ctf(path).pupils == ()


def test_other_encodings_that_are_declared_truthfully_are_read(tmp_path: Path) -> None:
    pupils = make_pupils(3, seed=3)
    pupils[0].forename = "Zoë-Siân"
    for encoding in ("UTF-16", "ISO-8859-1", "windows-1252"):
        path = tmp_path / f"{encoding}.xml"
        path.write_bytes(render(pupils, encoding=encoding))
        assert read_ctf(path).pupils[0].forename == "Zoë-Siân"


def test_streaming_keeps_memory_far_below_a_whole_tree(tmp_path: Path) -> None:
    xml, _ = generate(2000, seed=2)
    path = tmp_path / "big.xml"
    path.write_bytes(xml)
    tracemalloc.start()
    try:
        read_ctf(path)
        _, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        from xml.etree import ElementTree  # noqa: PLC0415 - the baseline, on a trusted file

        ElementTree.parse(path)
        _, whole_tree_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streaming_peak < whole_tree_peak / 2


def test_progress_is_reported_in_bytes_and_reaches_the_size(
    write_ctf: Callable[..., tuple[Path, list]],
) -> None:
    path, _ = write_ctf(300)
    seen: list[tuple[int, int]] = []
    read_ctf(path, progress=lambda done, total: seen.append((done, total)))
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_limits_are_configurable(write_ctf: Callable[..., tuple[Path, list]]) -> None:
    path, _ = write_ctf(3)
    assert len(read_ctf(path, limits=Limits(max_pupils=3)).pupils) == 3
