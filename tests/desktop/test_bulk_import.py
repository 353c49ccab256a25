"""`onesend assessments import` with many files, a folder, or NDJSON on stdin: one process,
one unlock, a result per source; a bad source is reported and skipped, never half-imported."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from tests.cli_runner import Onesend
from tests.desktop.test_cli import DOC, PASSWORD

COUNT = 150


@pytest.fixture
def cli(tmp_path: Path) -> Onesend:
    return Onesend(tmp_path, PASSWORD)


def doc(n: int) -> dict[str, Any]:
    answers = json.loads(json.dumps(DOC["answers"]))
    answers["about_me"]["what_matters"] = f"Record {n}"
    return {**DOC, "answers": answers}


def profile(cli: Onesend) -> None:
    """The profile, with the floor key-derivation cost (each command reads it back)."""
    Profiles(cli.data_dir, kdf=FAST_KDF).create("alex", PASSWORD)[0].close()


def vault_counts(cli: Onesend) -> tuple[int, int, int]:
    path = next(cli.data_dir.glob("**/vault.db"))
    conn = sqlite3.connect(path)
    try:
        assessments = conn.execute("SELECT count(*) FROM assessments").fetchone()[0]
        revisions = conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit WHERE action LIKE 'assessment.%'"
                             ).fetchone()[0]
    finally:
        conn.close()
    return int(assessments), int(revisions), int(audit)


def test_a_folder_is_imported_in_one_go_and_a_bad_file_is_skipped(
    cli: Onesend, tmp_path: Path,
) -> None:
    profile(cli)
    folder = tmp_path / "incoming"
    folder.mkdir()
    for n in range(COUNT):
        (folder / f"r{n:04d}.json").write_text(json.dumps(doc(n)), "utf-8")
    (folder / "r0050b.json").write_text('{"form": "national-send-assessment", "answ', "utf-8")
    (folder / "r0060b.json").write_text(json.dumps({**doc(0), "answers": []}), "utf-8")
    (folder / "notes.txt").write_text("not a document", "utf-8")

    result = cli("assessments", "import", str(folder), "--json", "--password-stdin",
                     "--progress", stdin=PASSWORD + "\n")
    assert result.returncode == 1, result.stderr
    assert f"[{'#' * 30}] {COUNT + 2}/{COUNT + 2}, 2 skipped" in result.stderr
    out = json.loads(result.stdout)
    assert (out["imported"], out["skipped"]) == (COUNT, 2)
    by_source = {Path(entry["source"]).name: entry for entry in out["results"]}
    assert "notes.txt" not in by_source
    assert "is not valid JSON" in by_source["r0050b.json"]["error"]
    assert "/answers" in by_source["r0060b.json"]["error"]
    assert by_source["r0051.json"]["revision"] == 1
    # Nothing half-imported: exactly one row, one revision, one audit entry per good file.
    assert vault_counts(cli) == (COUNT, COUNT, COUNT)
    listed = json.loads(cli.ok("assessments", "list", "--json", "--password-stdin"))
    assert len(listed) == COUNT


def test_ndjson_on_stdin_and_many_files_with_a_progress_bar(
    cli: Onesend, tmp_path: Path,
) -> None:
    profile(cli)
    lines = [json.dumps(doc(n)) for n in range(40)]
    lines.insert(10, "{not json")
    lines.insert(20, "")
    stdin = PASSWORD + "\n" + "\n".join(lines) + "\n"
    result = cli("assessments", "import", "--ndjson", "--json", "--progress",
                     "--password-stdin", stdin=stdin)
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert (out["imported"], out["skipped"]) == (40, 1)
    assert out["results"][10] == {"source": "stdin line 11",
                                  "error": "stdin line 11 is not valid JSON."}
    assert "41 read, 1 skipped" in result.stderr
    assert "Record" not in result.stderr  # no child data in the progress or errors

    # Files and NDJSON together, a revision of an existing id among them.
    first = out["results"][0]["id"]
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps({**doc(99), "id": first}), "utf-8")
    missing = tmp_path / "missing.json"
    result = cli("assessments", "import", str(revised), str(missing), "-",
                     "--password-stdin", "--progress",
                     stdin=PASSWORD + "\n" + json.dumps(doc(100)) + "\n")
    assert result.returncode == 1, result.stderr
    assert f"Imported {revised}: assessment {first}, revision 2." in result.stdout
    assert f"Skipped {missing}: Cannot read {missing}" in result.stdout
    assert "2 imported, 1 skipped." in result.stdout
    assert "3 read, 1 skipped" in result.stderr  # stdin: no known total, so a count
    assert vault_counts(cli) == (41, 42, 42)


def test_one_file_keeps_its_single_result_and_everything_good_exits_zero(
    cli: Onesend, tmp_path: Path,
) -> None:
    profile(cli)
    one = tmp_path / "one.json"
    one.write_text(json.dumps(doc(1)), "utf-8")
    single = json.loads(cli.ok("assessments", "import", str(one), "--json",
                                   "--password-stdin"))
    assert set(single) == {"id", "revision"}
    two = tmp_path / "two.json"
    two.write_text(json.dumps(doc(2)), "utf-8")
    out = cli.ok("assessments", "import", str(one), str(two), "--password-stdin")
    assert out.endswith("2 imported, 0 skipped.\n")
    assert "Name the files" in cli.fails("assessments", "import", "--password-stdin")
