"""A record's own row in the `assessments` table (its "head"), read and written with its MAC.

Part of the record store (desktop/assessments.py, which owns the table): kept apart so the
outbox, which moves a record's status on when the server answers, builds on the record's row
without importing the store that queues into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from desktop.errors import CorruptVault, NotFound, TamperedData
from desktop.integrity import DAMAGED_RECORD, EMPTY, Head, xor
from desktop.vault import Vault

_CHUNK = 500  # records named in one statement (well under SQLite's variable limit)


def put_head(
    vault: Vault, conn: Any, head: Head, *, move_state: bool = True,
) -> tuple[bytes | None, bytes]:
    """Write the record's row with a fresh MAC (the caller verified the row it read); its
    (old, new) MAC. The vault's state row moves with it unless `move_state` is False (the
    caller then moves it once for many, `move_heads`)."""
    mac = head.compute_mac(vault.cipher)
    if move_state:
        vault.move_state(conn, head=(head.mac, mac))
    conn.execute(
        "UPDATE assessments SET updated_at = ?, current_revision = ?, revision_count = ?, "
        "status = ?, upn_index = ?, form = ?, form_version = ?, summary = ?, tip = ?, "
        "mac = ? WHERE id = ?",
        (head.updated_at, head.current_revision, head.revision_count, head.status,
         head.upn_index, head.form, head.form_version, head.summary, head.tip, mac,
         head.id),
    )
    return head.mac, mac


def move_heads(vault: Vault, conn: Any, replaced: Sequence[tuple[bytes | None, bytes]]) -> None:
    """Move the vault's state row once for many rows' MACs replaced, (old, new) each: XOR
    folds, so taking out every old MAC and putting in every new one is one move."""
    if not replaced:
        return
    old, new = 0, 0
    for before, after in replaced:
        old ^= int.from_bytes(xor(EMPTY, before), "big")
        new ^= int.from_bytes(after, "big")
    vault.move_state(conn, head=(old.to_bytes(len(EMPTY), "big"),
                                 new.to_bytes(len(EMPTY), "big")))


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


def verified_heads_each(
    vault: Vault, conn: Any, record_ids: Sequence[str], known: dict[str, Any] | None = None,
) -> dict[str, Head | NotFound | TamperedData]:
    """`verified_head` for many records: each one's row, or the error `verified_head` would
    raise for it, read in two statements per chunk of records. A row exactly as in `known`
    (rows verified earlier) is not MAC'd again: the same bytes verify the same way."""
    known = known or {}
    ids = list(dict.fromkeys(record_ids))
    found: dict[str, Head | NotFound | TamperedData] = {}
    cipher = vault.cipher
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(f"SELECT {Head.COLUMNS} FROM assessments "  # noqa: S608 - marks
                            f"WHERE id IN ({marks})", chunk).fetchall()
        tips = {str(row[0]): tuple(row[1:]) for row in conn.execute(
            "SELECT assessment_id, count(*), max(revision), CAST(mac AS BLOB) "  # noqa: S608
            f"FROM revisions INDEXED BY revisions_chain WHERE assessment_id IN ({marks}) "
            "GROUP BY assessment_id", chunk)}
        for row in rows:
            head = Head.from_row(row)
            if known.get(head.id) != head and not head.ok(cipher):
                found[head.id] = TamperedData(DAMAGED_RECORD.format(
                    id=head.id, what="its status, revision or index does not verify"))
            elif tips.get(head.id, (0, None, None)) != (
                    head.revision_count, head.current_revision, head.tip):
                found[head.id] = TamperedData(DAMAGED_RECORD.format(
                    id=head.id, what="a revision is missing, added or rolled back"))
            else:
                found[head.id] = head
    for record_id in ids:
        if record_id not in found:
            found[record_id] = NotFound(f"There is no assessment with id {record_id}.")
    return found


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
    replaced, rows = [], []
    for head in moved:
        mac = head.compute_mac(vault.cipher)
        replaced.append((head.mac, mac))
        rows.append((head.updated_at, head.current_revision, head.revision_count, head.status,
                     head.upn_index, head.form, head.form_version, head.summary, head.tip, mac,
                     head.id))
    move_heads(vault, conn, replaced)
    conn.executemany(
        "UPDATE assessments SET updated_at = ?, current_revision = ?, revision_count = ?, "
        "status = ?, upn_index = ?, form = ?, form_version = ?, summary = ?, tip = ?, "
        "mac = ? WHERE id = ?", rows)


def sealed_bodies(vault: Vault, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], bytes]:
    """The sealed answers of these revisions, as stored (the caller opens and checks them),
    a chunk of records per statement; a revision that is not there is left out."""
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


def readable_heads(vault: Vault) -> tuple[list[Head], list[str]]:
    """Every assessment row that can be read, and the ids of those that cannot."""
    try:
        rows = vault.read(f"SELECT {Head.COLUMNS} FROM assessments")  # noqa: S608
        return [Head.from_row(row) for row in rows], []
    except CorruptVault:
        pass
    # A damaged page: read the table in rowid ranges, halving a range that fails, so only
    # the rows on the damaged page are lost; the primary-key index names them.
    heads: dict[int, Head] = {}
    failed: list[int] = []
    try:
        top = int(vault.read("SELECT max(rowid) FROM assessments")[0][0] or 0)
    except CorruptVault:
        top = 0
    ranges = [(1, max(top, 1))]
    while ranges:
        low, high = ranges.pop()
        try:
            rows = vault.read(
                f"SELECT rowid, {Head.COLUMNS} FROM assessments "  # noqa: S608 - constant
                "WHERE rowid BETWEEN ? AND ?", (low, high))
            heads.update((int(row[0]), Head.from_row(row[1:])) for row in rows)
        except (CorruptVault, ValueError, TypeError):
            if low == high:
                failed.append(low)
            else:
                middle = (low + high) // 2
                ranges += [(low, middle), (middle + 1, high)]
    known = {head.id for head in heads.values()}
    try:
        indexed = vault.read("SELECT id, rowid FROM assessments INDEXED BY "
                                  "sqlite_autoindex_assessments_1")
    except CorruptVault:
        indexed = []
    unreadable = sorted(str(aid) for aid, rowid in indexed
                        if str(aid) not in known and (not top or int(rowid) <= top))
    return list(heads.values()), unreadable

def chain_tips(vault: Vault, ids: list[str]) -> dict[str, tuple[int, int, bytes | None]]:
    """Per record: how many revisions, the last one's number and its MAC (index only)."""
    query = ("SELECT assessment_id, count(*), max(revision), CAST(mac AS BLOB) "
             "FROM revisions INDEXED BY revisions_chain")
    try:
        rows = vault.read(query + " GROUP BY assessment_id")
    except CorruptVault:
        rows = []
        for record_id in ids:
            try:
                rows += vault.read(query + " WHERE assessment_id = ?", (record_id,))
            except CorruptVault:
                continue  # the record's revisions are on a damaged page: shown damaged
    return {str(row[0]): (int(row[1]), int(row[2]), row[3]) for row in rows
            if row[0] is not None}
