"""One owner per table: only the module that owns a table writes SQL for it (a grep of the SQL
in our own code, so a new query in the wrong place fails here)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWNERS = {
    "assessments": {"desktop/assessments.py", "desktop/heads.py"},
    "revisions": {"desktop/assessments.py", "desktop/heads.py"},
    "outbox": {"desktop/outbox.py"},
    "sync_heads": {"desktop/outbox.py"},
    "secrets": {"desktop/secrets.py"},
    "form_definitions": {"desktop/form_store.py"},
    "meta": {"desktop/vault.py"},
    "audit": {"desktop/vault.py"},
}
# Whole-vault work, which by its nature touches every table: the schema and its migrations,
# re-keying every sealed value, and the backup's check of every page and record.
WHOLE_VAULT = {"desktop/vault.py", "desktop/vault_schema.py", "desktop/rekey.py",
               "desktop/backup.py"}
# The reference server keeps its own database (not the vault's tables).
ELSEWHERE = ("sync/server/", "national/")
_SQL = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+(\w+)", re.IGNORECASE)


_STRING_SQL = re.compile(r"[\"'][^\"']*\b(?:SELECT|INSERT|UPDATE|DELETE|FROM|JOIN|CREATE)\b")


def strangers(relative: str, text: str) -> list[str]:
    """`file:line: table` for each table this file's SQL names without owning it."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not _STRING_SQL.search(line):
            continue
        for table in _SQL.findall(line):
            owners = OWNERS.get(table)
            if owners is not None and relative not in owners:
                found.append(f"{relative}:{number}: {table}")
    return found


def test_the_check_finds_sql_in_the_wrong_module() -> None:
    line = '        rows = vault.read("SELECT status FROM assessments WHERE id = ?", (i,))'
    assert strangers("desktop/ctf_import.py", line) == ["desktop/ctf_import.py:1: assessments"]
    assert strangers("desktop/assessments.py", line) == []


def test_only_a_tables_owner_writes_sql_for_it() -> None:
    found = []
    for package in ("app", "desktop", "sync", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in WHOLE_VAULT or relative.startswith(ELSEWHERE):
                continue
            found.extend(strangers(relative, path.read_text("utf-8")))
    assert found == []
