"""A record's own row in the `assessments` table (its "head"), read and written with its MAC.

Part of the record store (desktop/assessments.py, which owns the table): kept apart so the
outbox, which moves a record's status on when the server answers, builds on the record's row
without importing the store that queues into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.errors import NotFound, TamperedData
from desktop.integrity import DAMAGED_RECORD, Head
from desktop.vault import Vault


def put_head(vault: Vault, conn: Any, head: Head) -> None:
    """Write the record's row with a fresh MAC (the caller verified the row it read)."""
    mac = head.compute_mac(vault.cipher)
    vault.move_state(conn, head=(head.mac, mac))
    conn.execute(
        "UPDATE assessments SET updated_at = ?, current_revision = ?, revision_count = ?, "
        "status = ?, upn_index = ?, form = ?, form_version = ?, summary = ?, tip = ?, "
        "mac = ? WHERE id = ?",
        (head.updated_at, head.current_revision, head.revision_count, head.status,
         head.upn_index, head.form, head.form_version, head.summary, head.tip, mac,
         head.id),
    )


def verified_head(vault: Vault, conn: Any, record_id: str, *, check: bool = True) -> Head:
    """The record's row; NotFound, or TamperedData when its MAC or revisions fail."""
    row = conn.execute(f"SELECT {Head.COLUMNS} FROM assessments "  # noqa: S608 - constant
                       "WHERE id = ?", (record_id,)).fetchone()
    if row is None:
        raise NotFound(f"There is no assessment with id {record_id}.")
    head = Head.from_row(row)
    if not check:
        return head
    if not head.ok(vault.cipher):
        raise TamperedData(DAMAGED_RECORD.format(
            id=record_id, what="its status, revision or index does not verify"))
    tip = conn.execute(
        "SELECT count(*), max(revision), CAST(mac AS BLOB) FROM revisions "
        "INDEXED BY revisions_chain WHERE assessment_id = ?", (record_id,)).fetchone()
    if tuple(tip) != (head.revision_count, head.current_revision, head.tip):
        raise TamperedData(DAMAGED_RECORD.format(
            id=record_id, what="a revision is missing, added or rolled back"))
    return head


def ids_newest_edit_first(vault: Vault) -> list[str]:
    """Every record's id, newest edit first (ties by id): the order the list loads in pages.

    Reads only two columns, so the list can decrypt and show its first page before the rest.
    """
    rows = vault.read("SELECT id FROM assessments ORDER BY updated_at DESC, id")
    return [str(row[0]) for row in rows]


def heads_with_tips(
    vault: Vault, record_ids: Sequence[str],
) -> list[tuple[Head, tuple[int, int, bytes | None] | None]]:
    """These records' rows, each with its revisions' tip (count, last number, last MAC; None
    when it has none), in the order asked; read, not checked (the caller checks each)."""
    ids = list(record_ids)
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = vault.read(f"SELECT {Head.COLUMNS} FROM assessments "  # noqa: S608 - marks only
                      f"WHERE id IN ({marks})", ids)
    tip_sql = (f"SELECT assessment_id, count(*), max(revision), CAST(mac AS BLOB) FROM revisions "  # noqa: S608 - marks only
               f"INDEXED BY revisions_chain WHERE assessment_id IN ({marks}) GROUP BY 1")
    tips = {str(row[0]): (int(row[1]), int(row[2]), row[3]) for row in vault.read(tip_sql, ids)
            if row[0] is not None}
    heads = {head.id: head for head in map(Head.from_row, rows)}
    return [(heads[i], tips.get(i)) for i in ids if i in heads]


def sealed_body(vault: Vault, record_id: str, revision: int) -> bytes:
    """The sealed answers of one revision, as stored (the caller opens and checks them)."""
    rows = vault.read("SELECT CAST(body AS BLOB) FROM revisions WHERE assessment_id = ? "
                      "AND revision = ?", (record_id, revision))
    if not rows:
        raise NotFound(f"Assessment {record_id} has no revision {revision}.")
    return bytes(rows[0][0])
