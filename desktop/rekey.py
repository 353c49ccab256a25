"""Re-keying a vault: every sealed blob, blind index and MAC moved to a new data key at once.

Used by `Profiles.rekey` (change the password and re-key) when a password may have leaked:
afterwards an old copy of `profile.json` with the old password opens nothing. Only a vault
that verifies throughout is re-keyed, so a change made outside OneSEND is never re-MAC'd
into looking genuine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from desktop.assessments import Assessments, upn_index
from desktop.crypto import RecordCipher
from desktop.errors import TamperedData
from desktop.outbox import Outbox
from desktop.vault import Vault
from desktop.vault_schema import mac_every_row

Progress = Callable[[int, int], None]


def problems_before_rekey(vault: Vault) -> list[str]:
    """Everything that would stop a re-key: the vault's own checks, each record's row and
    revisions, each outbox row."""
    problems = vault.check_metadata()
    store = Assessments(vault)
    for (record_id,) in vault.read("SELECT id FROM assessments ORDER BY id"):
        problem = store.problems(str(record_id))
        if problem:
            problems.append(problem)
    for item in Outbox(vault).items():
        if item.damaged:
            problems.append(f"The outbox entry of assessment {item.assessment_id} (revision "
                            f"{item.revision}) has been altered outside OneSEND.")
    return problems


def rekey_vault(vault: Vault, new: RecordCipher, progress: Progress | None = None) -> None:
    """Re-seal everything under `new`, in one transaction (all or nothing)."""
    problems = problems_before_rekey(vault)
    if problems:
        raise TamperedData(f"The vault was not re-keyed: {problems[0]}")
    old = vault.cipher
    with vault.write() as conn:
        vault.audit(conn, "profile.rekey", None)
        conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
        keys = conn.execute("SELECT assessment_id, revision FROM revisions").fetchall()
        for done, (record_id, revision) in enumerate(keys, 1):
            _reseal(conn, old, new, "revisions", "body", "answers",
                    "assessment_id = ? AND revision = ?", (record_id, revision),
                    record_id, revision)
            if progress is not None and done % 100 == 0:
                progress(done, len(keys))
        for record_id, current in conn.execute(
                "SELECT id, current_revision FROM assessments").fetchall():
            _reseal(conn, old, new, "assessments", "summary", "summary", "id = ?",
                    (record_id,), record_id, current)
            body = conn.execute(
                "SELECT CAST(body AS BLOB) FROM revisions WHERE assessment_id = ? AND "
                "revision = ?", (record_id, current)).fetchone()[0]
            answers = json.loads(new.open(body, "answers", record_id, current))["answers"]
            conn.execute("UPDATE assessments SET upn_index = ? WHERE id = ?",
                         (upn_index(new, answers), record_id))
        for record_id, revision in conn.execute(
                "SELECT assessment_id, revision FROM outbox").fetchall():
            for column, kind in (("sign_off", "sign-off"), ("receipt", "receipt"),
                                 ("reasons", "reasons")):
                _reseal(conn, old, new, "outbox", column, kind,
                        "assessment_id = ? AND revision = ?", (record_id, revision),
                        record_id, revision)
        for (name,) in conn.execute("SELECT name FROM secrets").fetchall():
            _reseal(conn, old, new, "secrets", "value", "secret", "name = ?", (name,), name, 0)
        mac_every_row(conn, new)
    if progress is not None:
        progress(len(keys), len(keys))


def _reseal(  # noqa: PLR0917 - one blob: its table, column, kind and row
    conn: sqlite3.Connection, old: RecordCipher, new: RecordCipher, table: str, column: str,
    kind: str, where: str, params: tuple[object, ...], record_id: str, revision: int,
) -> None:
    row = conn.execute(f"SELECT CAST({column} AS BLOB) FROM {table} "  # noqa: S608 - constants
                       f"WHERE {where}", params).fetchone()
    if row is None or row[0] is None:
        return
    plaintext = old.open(row[0], kind, record_id, revision)
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}",  # noqa: S608 - constants
                 (new.seal(plaintext, kind, record_id, revision), *params))
