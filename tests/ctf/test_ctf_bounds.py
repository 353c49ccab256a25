"""A CTF pupil whose values are past the answers' bounds is not importable; the rest are."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from forms.bounds import CODE_CHARS

Run = Callable[..., tuple[int, str, str]]
WriteCtf = Callable[..., tuple[Path, list]]
PASSWORD = "correct horse battery staple"


def test_a_pupil_past_the_bounds_is_shown_not_importable_and_the_others_import(
    onesend: Run, write_ctf: WriteCtf, profiles: Profiles,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    path, pupils = write_ctf(3, seed=5)
    huge_upn = "H" + "8" * (CODE_CHARS * 2)
    xml = path.read_text(encoding="utf-8")
    assert xml.count(f"<UPN>{pupils[0].upn}</UPN>") == 1
    path.write_text(xml.replace(f"<UPN>{pupils[0].upn}</UPN>", f"<UPN>{huge_upn}</UPN>"),
                    encoding="utf-8")

    code, out, _ = onesend("import-ctf", str(path), "--dry-run", "--json", "--password-stdin")
    assert code == 0
    rows = json.loads(out)["pupils"]
    assert rows[0]["action"] == "not-importable"
    assert "child.upn" in rows[0]["reason"]
    assert huge_upn not in rows[0]["reason"]
    assert [row["action"] for row in rows[1:]] == ["create", "create"]

    code, out, _ = onesend("import-ctf", str(path), "--json", "--password-stdin")
    report = json.loads(out)
    assert code == 1
    assert len(report["created"]) == 2
    with profiles.unlock("alex", PASSWORD) as vault:
        assert Assessments(vault).count() == 2


def test_a_rank_of_unicode_digits_is_a_note_not_a_crash(
    onesend: Run, write_ctf: WriteCtf, profiles: Profiles,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    path, _ = write_ctf(6, seed=3)
    xml = path.read_text(encoding="utf-8")
    assert "<SENtypeRank>1</SENtypeRank>" in xml
    # "²".isdigit() is true, but int("²") raises: the reader must not trust isdigit().
    path.write_text(xml.replace("<SENtypeRank>1</SENtypeRank>", "<SENtypeRank>²</SENtypeRank>"),
                    encoding="utf-8")
    code, out, err = onesend("import-ctf", str(path), "--dry-run", "--json", "--password-stdin")
    assert code == 0, err
    notes = [problem for row in json.loads(out)["pupils"] for problem in row["problems"]
             if "SENtypeRank" in str(problem)]
    assert notes
