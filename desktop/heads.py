"""A record's own row in the `assessments` table (its "head"), read and written with its MAC.

Part of the record store (desktop/assessments.py, which owns the table): kept apart so the
outbox, which moves a record's status on when the server answers, builds on the record's row
without importing the store that queues into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.errors import NotFound, TamperedData
from desktop.integrity import DAMAGED_RECORD, EMPTY, Head, xor
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


def sealed_body(vault: Vault, record_id: str, revision: int) -> bytes:
    """The sealed answers of one revision, as stored (the caller opens and checks them)."""
    rows = vault.read("SELECT CAST(body AS BLOB) FROM revisions WHERE assessment_id = ? "
                      "AND revision = ?", (record_id, revision))
    if not rows:
        raise NotFound(f"Assessment {record_id} has no revision {revision}.")
    return bytes(rows[0][0])


def verified_heads(vault: Vault, conn: Any, record_ids: Sequence[str]) -> dict[str, Head]:
    """The rows of these records that verify (MAC, and revisions ending where the row says),
    read in two statements; a missing or damaged record is left out, as found."""
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(f"SELECT {Head.COLUMNS} FROM assessments "  # noqa: S608 - marks only
                        f"WHERE id IN ({marks})", ids).fetchall()
    tips = {str(row[0]): tuple(row[1:]) for row in conn.execute(
        "SELECT assessment_id, count(*), max(revision), CAST(mac AS BLOB) "  # noqa: S608
        f"FROM revisions INDEXED BY revisions_chain WHERE assessment_id IN ({marks}) "
        "GROUP BY assessment_id", ids)}
    found = {}
    for row in rows:
        head = Head.from_row(row)
        if head.ok(vault.cipher) and tips.get(head.id) == (
                head.revision_count, head.current_revision, head.tip):
            found[head.id] = head
    return found


def put_heads(vault: Vault, conn: Any, moved: Sequence[Head]) -> None:
    """`put_head` for many rows (each verified by the caller, `mac` still the stored one): one
    UPDATE statement and one move of the vault's state row."""
    if not moved:
        return
    old, new, rows = 0, 0, []
    for head in moved:
        mac = head.compute_mac(vault.cipher)
        old ^= int.from_bytes(xor(EMPTY, head.mac), "big")
        new ^= int.from_bytes(mac, "big")
        rows.append((head.updated_at, head.current_revision, head.revision_count, head.status,
                     head.upn_index, head.form, head.form_version, head.summary, head.tip, mac,
                     head.id))
    # XOR folds: taking out every old MAC and putting in every new one is one move.
    vault.move_state(conn, head=(old.to_bytes(len(EMPTY), "big"),
                                 new.to_bytes(len(EMPTY), "big")))
    conn.executemany(
        "UPDATE assessments SET updated_at = ?, current_revision = ?, revision_count = ?, "
        "status = ?, upn_index = ?, form = ?, form_version = ?, summary = ?, tip = ?, "
        "mac = ? WHERE id = ?", rows)


def sealed_bodies(vault: Vault, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], bytes]:
    """`sealed_body` for many revisions, a chunk of records per statement; a revision that
    is not there is left out."""
    wanted = set(keys)
    ids = list(dict.fromkeys(aid for aid, _ in keys))
    revisions = sorted({revision for _, revision in keys})
    found: dict[tuple[str, int], bytes] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = vault.read(
            "SELECT assessment_id, revision, CAST(body AS BLOB) FROM revisions "  # noqa: S608
            f"WHERE assessment_id IN ({', '.join('?' for _ in chunk)}) AND revision IN "
            f"({', '.join('?' for _ in revisions)})", [*chunk, *revisions])
        found.update(((str(aid), int(revision)), bytes(body)) for aid, revision, body in rows
                     if (aid, revision) in wanted)
    return found
