"""`onesend import-ctf` in-process, on real vaults: preview, import, choose, refuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.profiles import Profiles

Run = Callable[..., tuple[int, str, str]]
WriteCtf = Callable[..., tuple[Path, list]]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def profile(profiles: Profiles) -> Profiles:
    vault, _ = profiles.create("alex", PASSWORD)
    vault.close()
    return profiles


def count(profiles: Profiles) -> int:
    with profiles.unlock("alex", PASSWORD) as vault:
        return Assessments(vault).count()


def test_dry_run_json_previews_and_changes_nothing(
    onesend: Run, write_ctf: WriteCtf, profile: Profiles,
) -> None:
    path, pupils = write_ctf(6, seed=1)
    code, out, err = onesend("import-ctf", str(path), "--dry-run", "--json", "--password-stdin")
    assert (code, err) == (0, "")
    preview = json.loads(out)
    assert preview["file"] == "school.xml"
    assert preview["ctf_version"] == "25.0"
    assert preview["counts"]["create"] == 6
    first = preview["pupils"][0]
    assert first["pupil"] == 1
    assert first["upn"] == pupils[0].upn
    assert first["upn_valid"] is True
    assert first["existing"] == []
    assert first["action"] == "create"
    assert set(first) >= {"first_name", "last_name", "date_of_birth", "nc_year", "sen_provision",
                          "needs", "problems"}
    assert count(profile) == 0


def test_import_then_again_skips_then_updates(
    onesend: Run, write_ctf: WriteCtf, profile: Profiles,
) -> None:
    path, _ = write_ctf(4, seed=2)
    code, out, _ = onesend("import-ctf", str(path), "--password-stdin")
    assert code == 0
    assert "created 4, updated 0, unchanged 0, skipped 0, not imported 0." in out
    code, out, _ = onesend("import-ctf", str(path), "--json", "--password-stdin")
    assert code == 0
    report = json.loads(out)
    assert len(report["skipped"]) == 4
    assert not report["created"]
    code, out, _ = onesend("import-ctf", str(path), "--update-existing", "--password-stdin")
    assert code == 0
    assert "unchanged 4" in out
    assert count(profile) == 4


def test_dry_run_text_table_names_pupils_by_position(
    onesend: Run, write_ctf: WriteCtf, profile: Profiles,
) -> None:
    path, pupils = write_ctf(3, seed=3)
    code, out, _ = onesend("import-ctf", str(path), "--dry-run", "--password-stdin")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["PUPIL", "NAME", "DATE"]
    assert lines[1].startswith("1 ")
    assert pupils[0].surname in lines[1]
    assert "Nothing was changed (dry run)." in lines[-1]
    assert count(profile) == 0


def test_only_the_chosen_upns(onesend: Run, write_ctf: WriteCtf, profile: Profiles) -> None:
    path, pupils = write_ctf(8, seed=4)
    code, out, _ = onesend("import-ctf", str(path), "--upn", pupils[1].upn.lower(),
                           "--upn", pupils[5].upn, "--json", "--password-stdin")
    assert code == 0
    assert [e["pupil"] for e in json.loads(out)["created"]] == [2, 6]
    code, _, err = onesend("import-ctf", str(path), "--upn", "H801200001001",
                           "--password-stdin")
    assert code == 2
    assert err.startswith("onesend: 1 of the UPNs given with --upn")
    assert "H801200001001" not in err
    assert count(profile) == 2


def test_a_bad_file_is_one_line_exit_2_and_asks_no_password(
    onesend: Run, tmp_path: Path, profile: Profiles,
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY x "y">]><CTfile/>')
    code, out, err = onesend("import-ctf", str(path), "--password-stdin", stdin="")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("onesend: The file bad.xml cannot be imported: it declares a DTD")
    assert count(profile) == 0


def test_pupils_that_cannot_be_imported_make_exit_1(
    onesend: Run, tmp_path: Path, profile: Profiles,
) -> None:
    from ctf_generator import make_pupils, render  # noqa: PLC0415

    pupils = make_pupils(3, seed=5)
    pupils[1].dob = "31.12.2015"
    path = tmp_path / "school.xml"
    path.write_bytes(render(pupils))
    code, out, _ = onesend("import-ctf", str(path), "--password-stdin")
    assert code == 1
    assert "pupil 2: not imported. DOB is not a date in the form YYYY-MM-DD." in out
    assert count(profile) == 2


def test_a_wrong_password_changes_nothing(
    onesend: Run, write_ctf: WriteCtf, profile: Profiles,
) -> None:
    path, _ = write_ctf(2)
    code, _, err = onesend("import-ctf", str(path), "--password-stdin", stdin="wrong\n")
    assert code == 2
    assert err.startswith("onesend: ")
    assert count(profile) == 0
