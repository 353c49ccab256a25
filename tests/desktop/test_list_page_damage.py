"""One damaged page of the file hides only the records on it: the rest of the list shows."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.listing import list_rows, next_page, start_load
from desktop.profiles import Profiles

PASSWORD = "correct horse battery staple"
RECORDS = 240


def document(n: int) -> dict[str, Any]:
    return {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {
        "child": {"first_name": f"Child{n}", "last_name": "Farthingdale",
                  "date_of_birth": "2016-04-30"},
        "about_me": {"text": "x" * 200}}}


def leaf_pages(path: Path, name: str) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' "
                            "ORDER BY pageno", (name,)).fetchall()
        return [int(row[0]) for row in rows]
    finally:
        conn.close()


def overwrite_page(path: Path, pageno: int) -> None:
    """Garbage over one whole page, as a failing disk leaves it."""
    conn = sqlite3.connect(path)
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((pageno - 1) * page_size)
        handle.write(bytes([0xA5]) * page_size)


@pytest.mark.parametrize("name", ["assessments", "revisions_chain"])
def test_one_bad_page_hides_only_its_records(profiles: Profiles, name: str) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        for n in range(RECORDS):
            store.create(document(n), record_id=f"r{n:04d}")
    path = profiles.folder("alex") / "vault.db"
    assert not path.with_name("vault.db-wal").exists() or \
        path.with_name("vault.db-wal").stat().st_size == 0
    pages = leaf_pages(path, name)
    assert len(pages) >= 3
    overwrite_page(path, pages[len(pages) // 2])

    today = datetime.datetime.now(tz=datetime.UTC).date()
    with profiles.unlock("alex", PASSWORD) as vault:
        summaries = Assessments(vault).summaries()
        rows = list_rows(vault, today)
        # The window reads the same list in pages: round the damage, nothing hidden or twice.
        load, paged = start_load(vault, today), []
        while not load.finished or not paged:
            paged += next_page(vault, load, 50)
    by_id = {s.id: s for s in summaries}
    damaged = {s.id for s in summaries if s.damaged}
    assert len(by_id) == RECORDS  # none hidden
    assert 0 < len(damaged) <= RECORDS // 2
    for record_id, summary in by_id.items():
        if record_id not in damaged:
            assert summary.first_name == f"Child{int(record_id[1:])}"
    assert {row.id for row in rows if row.damaged} == damaged
    assert len(rows) == RECORDS
    assert sorted((row.id, row.damaged) for row in paged) == sorted(
        (row.id, row.damaged) for row in rows)
