"""The outbox: finalised revisions waiting for, travelling to, or acknowledged by the server.

Each row is one delivery whose identity (assessment id + revision) and payload hash are fixed
when the assessment is finalised, so every retry, after any crash, is the same delivery. The
states are `queued` -> `in_flight` -> `acknowledged` (a verified receipt is stored), or
`quarantined` (the server's reasons are stored), or `conflict`; a queued revision replaced by
a later finalisation of the same assessment is `superseded`. Receipts, reasons and sign-offs
are sealed with the vault's cipher, bound to their row (the sealed secrets, device token
and server keys, live in `desktop.secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from contract.canonical import HASH_PREFIX, canonical_json, now_iso
from desktop import heads
from desktop.errors import TamperedData
from desktop.integrity import OUTBOX_MAC_COLUMNS, outbox_mac, sync_head_mac
from desktop.record_status import (
    SET_ASIDE,
    UNSENT_STATES,
    Event,
    OutboxState,
    RecordStatus,
    next_status,
    sql_list,
)
from desktop.vault import Vault

STATES = tuple(OutboxState)
Q, IN_FLIGHT = OutboxState.QUEUED, OutboxState.IN_FLIGHT
_COLUMNS = (
    "assessment_id, revision, base_revision, form, form_version, payload_hash, state, "
    "queued_at, updated_at, attempts, acknowledged_at"
)
# What a state change may set, by position in OUTBOX_MAC_COLUMNS.
_CHANGEABLE = {"state": 6, "acknowledged_at": 8, "receipt": 10, "reasons": 11}
_NO_LONGER_MATCHES = ("Assessment {id} (revision {revision}) no longer matches what was "
                      "finalised; it was not sent.")
_REMEMBERED = 5000  # rows remembered as written (a few batches' worth)
_CHUNK = 500  # assessments named in one statement (well under SQLite's variable limit)


def make_payload(body: dict[str, Any], sign_off: dict[str, str]) -> dict[str, Any]:
    """What is sent and hashed: the form, its version, the answers and who signed it off."""
    return {
        "form": body["form"],
        "form_version": body["form_version"],
        "answers": body["answers"],
        "sign_off": sign_off,
    }


class Queued(NamedTuple):
    """A finalised revision to queue: its identity, form, payload bytes (canonical JSON, as
    sent), who signed it off, and when it was finalised."""

    assessment_id: str
    revision: int
    form: str
    form_version: str
    payload: bytes
    sign_off: dict[str, str]
    now: str


@dataclass(frozen=True)
class OutboxItem:
    """One finalised revision and where it is on its way to the server."""

    assessment_id: str
    revision: int
    base_revision: int | None
    form: str
    form_version: str
    payload_hash: str
    state: str
    queued_at: str
    updated_at: str
    attempts: int
    acknowledged_at: str | None
    # The row failed its MAC: it is never sent or moved on, and is shown as damaged.
    damaged: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.assessment_id, self.revision)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Outbox:
    """The outbox of one open vault."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        # Rows as this object last wrote them (OUTBOX_MAC_COLUMNS and MAC), by key.
        self._written: dict[tuple[str, int], tuple[Any, ...]] = {}

    # -- queueing (inside the caller's transaction) -------------------------------------------

    def enqueue(
        self, conn: sqlite3.Connection, assessment_id: str, revision: int, *,
        body: dict[str, Any], sign_off: dict[str, str], payload: bytes | None = None,
    ) -> OutboxItem:
        """Queue a finalised revision; an earlier one still waiting is superseded by it.
        `payload`: the payload's canonical JSON, when the caller has built it already."""
        raw = payload if payload is not None else canonical_json(make_payload(body, sign_off))
        return self.enqueue_many(conn, [Queued(assessment_id, revision, body["form"],
                                               body["form_version"], raw, sign_off,
                                               now_iso())])[0]

    def enqueue_many(
        self, conn: sqlite3.Connection, queued: Sequence[Queued],
    ) -> list[OutboxItem]:
        """`enqueue` for revisions of many assessments (one each), in the caller's transaction:
        their earlier queued rows superseded, their bases read and the new rows written, each
        a statement per chunk of assessments."""
        if not queued:
            return []
        ids = [entry.assessment_id for entry in queued]
        earlier: list[Any] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            # `+state`: the assessments' rows looked up by primary key, never through the index
            # on state (which would scan every queued row: a bulk finalise made quadratic).
            earlier += conn.execute(
                f"SELECT {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) FROM outbox "  # noqa: S608
                f"WHERE assessment_id IN ({', '.join('?' for _ in chunk)}) "
                f"AND +state = '{Q}'", chunk).fetchall()
        self._rewrite(conn, earlier, now=queued[0].now, attempt=False,
                      changes=lambda _: {"state": OutboxState.SUPERSEDED})
        bases = self._base_revisions(conn, ids)
        cipher = self.vault.cipher
        rows, items = [], []
        for entry in queued:
            aid, revision, now = entry.assessment_id, entry.revision, entry.now
            base = bases.get(aid)
            digest = _hash(entry.payload)
            sealed = cipher.seal(canonical_json(entry.sign_off), "sign-off", aid, revision)
            mac = outbox_mac(cipher, (aid, revision, base, entry.form, entry.form_version,
                                      digest, Q, now, None, sealed, None, None))
            rows.append((aid, revision, base, entry.form, entry.form_version, digest, sealed,
                         Q, now, now, mac))
            items.append(OutboxItem(aid, revision, base, entry.form, entry.form_version,
                                    digest, Q, now, now, 0, None))
        conn.executemany(
            "INSERT INTO outbox (assessment_id, revision, base_revision, form, form_version, "
            "payload_hash, sign_off, state, queued_at, updated_at, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return items

    def _base_revisions(
        self, conn: sqlite3.Connection, ids: Sequence[str],
    ) -> dict[str, int]:
        """Per assessment, the revision its next delivery is based on: the latest the server
        holds or is being sent (in flight), or the server's own latest, when its row
        verifies; an assessment with neither is left out."""
        cipher = self.vault.cipher
        bases: dict[str, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for aid, revision in conn.execute(
                    "SELECT assessment_id, max(revision) FROM outbox "  # noqa: S608 - marks
                    f"WHERE assessment_id IN ({marks}) AND +state IN "
                    f"('{OutboxState.ACKNOWLEDGED}', '{IN_FLIGHT}') GROUP BY assessment_id",
                    chunk):
                bases[str(aid)] = int(revision)
            for aid, revision, mac in conn.execute(
                    "SELECT assessment_id, server_revision, CAST(mac AS BLOB) "  # noqa: S608
                    f"FROM sync_heads WHERE assessment_id IN ({marks})", chunk):
                if cipher.mac_ok(mac, "sync-head", str(aid), int(revision)):
                    bases[str(aid)] = max(int(revision), bases.get(str(aid), int(revision)))
        return bases

    def _server_revision(self, conn: sqlite3.Connection, assessment_id: str) -> int | None:
        """The server's latest revision of this assessment, when its row verifies."""
        row = conn.execute(
            "SELECT server_revision, CAST(mac AS BLOB) FROM sync_heads WHERE assessment_id = ?",
            (assessment_id,),
        ).fetchone()
        if row is None or not self.vault.cipher.mac_ok(row[1], "sync-head", assessment_id,
                                                       int(row[0])):
            return None
        return int(row[0])

    def _raise_server_revision(
        self, conn: sqlite3.Connection, assessment_id: str, server_revision: int
    ) -> None:
        known = self._server_revision(conn, assessment_id)
        revision = max(server_revision, known or 0)
        conn.execute(
            "INSERT INTO sync_heads (assessment_id, server_revision, mac) VALUES (?, ?, ?) "
            "ON CONFLICT(assessment_id) DO UPDATE SET server_revision = "
            "excluded.server_revision, mac = excluded.mac",
            (assessment_id, revision, sync_head_mac(self.vault.cipher, assessment_id, revision)),
        )

    def _raise_server_revisions(
        self, conn: sqlite3.Connection, keys: Sequence[tuple[str, int]]
    ) -> None:
        """`_raise_server_revision` for many (assessment, revision) at once."""
        highest: dict[str, int] = {}
        for aid, revision in keys:
            highest[aid] = max(revision, highest.get(aid, revision))
        ids = list(highest)
        cipher = self.vault.cipher
        known: dict[str, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for aid, revision, mac in conn.execute(
                    "SELECT assessment_id, server_revision, CAST(mac AS BLOB) "  # noqa: S608
                    f"FROM sync_heads WHERE assessment_id IN ({marks})", chunk):
                if cipher.mac_ok(mac, "sync-head", aid, int(revision)):
                    known[str(aid)] = int(revision)
        rows = []
        for aid, sent in highest.items():
            revision = max(sent, known.get(aid, 0))
            rows.append((aid, revision, sync_head_mac(cipher, aid, revision)))
        conn.executemany(
            "INSERT INTO sync_heads (assessment_id, server_revision, mac) VALUES (?, ?, ?) "
            "ON CONFLICT(assessment_id) DO UPDATE SET server_revision = "
            "excluded.server_revision, mac = excluded.mac", rows)

    def _move(
        self, conn: sqlite3.Connection, where: str, params: Sequence[Any], *, now: str,
        attempt: bool = False, **changes: Any,
    ) -> list[tuple[str, int]]:
        """Change the rows matching `where` (state, receipt, reasons, acknowledged_at), each
        re-MAC'd; a row whose MAC fails is left exactly as found. Returns the keys moved."""
        rows = conn.execute(
            f"SELECT {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) FROM outbox "  # noqa: S608
            f"WHERE {where}", params).fetchall()
        return self._rewrite(conn, rows, now=now, attempt=attempt, changes=lambda _: changes)

    def _move_keys(
        self, conn: sqlite3.Connection, keys: Iterable[tuple[str, int]], *, now: str,
        attempt: bool = False, from_state: str | None = None,
        changes: Callable[[tuple[str, int]], dict[str, Any]],
    ) -> list[tuple[str, int]]:
        """`_move` for the rows with these keys (and in `from_state`, when given): read by
        primary key, a chunk of assessments per statement, and written in one statement."""
        wanted = set(keys)
        ids = list(dict.fromkeys(aid for aid, _ in wanted))
        rows: list[Any] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            where = "" if from_state is None else " AND +state = ?"
            params = [*chunk] if from_state is None else [*chunk, from_state]
            rows += [row for row in conn.execute(
                f"SELECT {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) FROM outbox "  # noqa: S608
                f"WHERE assessment_id IN ({marks}){where}", params)
                if (row[0], row[1]) in wanted]
        return self._rewrite(conn, rows, now=now, attempt=attempt, changes=changes)

    def _rewrite(
        self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], *, now: str,
        attempt: bool, changes: Callable[[tuple[str, int]], dict[str, Any]],
    ) -> list[tuple[str, int]]:
        """Rows of OUTBOX_MAC_COLUMNS and their MAC: those that verify are changed and
        re-MAC'd, in one prepared statement; the others are left exactly as found."""
        cipher = self.vault.cipher
        moved: list[tuple[str, int]] = []
        updates = []
        written = self._written
        if len(written) > _REMEMBERED:
            written.clear()
        for row in rows:
            values = list(row[:-1])
            key = (str(values[0]), int(values[1]))
            # A row exactly as this object last wrote it (values and MAC) verifies: its MAC
            # was computed here over these values. Any other row is checked.
            if written.pop(key, None) != tuple(row) and not _same(
                    outbox_mac(cipher, tuple(values)), row[-1]):
                continue
            for name, value in changes(key).items():
                values[_CHANGEABLE[name]] = value
            mac = outbox_mac(cipher, tuple(values))
            updates.append((values[6], values[8], values[10], values[11], now, int(attempt),
                            mac, values[0], values[1]))
            written[key] = (*values, mac)
            moved.append(key)
        conn.executemany(
            "UPDATE outbox SET state = ?, acknowledged_at = ?, receipt = ?, reasons = ?, "
            "updated_at = ?, attempts = attempts + ?, mac = ? "
            "WHERE assessment_id = ? AND revision = ?", updates)
        return moved

    def _set_record_status(
        self, conn: sqlite3.Connection, assessment_id: str, revision: int, event: Event,
        *, only_from: RecordStatus | None = None,
    ) -> None:
        """Move the record's own status on, if its current revision is this one and its row
        verifies (a record altered outside OneSEND stays as found, shown damaged)."""
        try:
            head = heads.verified_head(self.vault, conn, assessment_id)
        except (TamperedData, LookupError):
            return
        if head.current_revision != revision or (only_from and head.status != only_from):
            return
        heads.put_head(self.vault, conn, replace(head, status=next_status(head.status, event)))

    def _set_record_statuses(
        self, conn: sqlite3.Connection, keys: Sequence[tuple[str, int]], event: Event,
        *, only_from: RecordStatus | None = None,
    ) -> None:
        """`_set_record_status` for many records: read in two statements, written in one."""
        found = heads.verified_heads(self.vault, conn, [aid for aid, _ in keys])
        moved = []
        for aid, revision in keys:
            head = found.get(aid)
            if head is None or head.current_revision != revision or (
                    only_from and head.status != only_from):
                continue
            moved.append(replace(head, status=next_status(head.status, event)))
        heads.put_heads(self.vault, conn, moved)

    def adopt_server_revision(
        self, conn: sqlite3.Connection, assessment_id: str, server_revision: int
    ) -> None:
        """After a conflict is resolved: the next revision is based on the server's one."""
        self._raise_server_revision(conn, assessment_id, server_revision)
        self._move(conn, f"assessment_id = ? AND +state IN ('{OutboxState.CONFLICT}', '{Q}')",
                   (assessment_id,), now=now_iso(), state=OutboxState.SUPERSEDED)

    # -- the sync engine's steps (each its own durable transaction) ---------------------------

    def take(self, limit: int) -> list[OutboxItem]:
        """Mark up to `limit` queued items in flight, oldest first, before anything is sent."""
        width = len(_COLUMNS.split(","))
        with self.vault.write() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS}, {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) "  # noqa: S608
                f"FROM outbox WHERE state = '{Q}' "
                "ORDER BY queued_at, assessment_id, revision LIMIT ?",
                (limit,),
            ).fetchall()
            moved = set(self._rewrite(conn, [row[width:] for row in rows], now=now_iso(),
                                      attempt=True, changes=lambda _: {"state": IN_FLIGHT}))
        return [OutboxItem(str(row[0]), int(row[1]), None if row[2] is None else int(row[2]),
                           str(row[3]), str(row[4]), str(row[5]), IN_FLIGHT, str(row[7]),
                           str(row[8]), int(row[9]) + 1, None if row[10] is None else str(row[10]))
                for row in rows if (str(row[0]), int(row[1])) in moved]

    def retake(self, keys: Iterable[tuple[str, int]]) -> None:
        """Mark these queued items in flight again (a batch split after a refusal)."""
        with self.vault.write() as conn:
            self._move_keys(conn, keys, now=now_iso(), attempt=True, from_state=Q,
                            changes=lambda _: {"state": IN_FLIGHT})

    def payload(self, item: OutboxItem) -> dict[str, Any]:
        """The payload exactly as finalised (its hash is checked before it is sent)."""
        found = self.payload_bytes([item])[item.key]
        if isinstance(found, TamperedData):
            raise found
        value: dict[str, Any] = json.loads(found)
        return value

    def payload_bytes(
        self, items: Sequence[OutboxItem]
    ) -> dict[tuple[str, int], bytes | TamperedData]:
        """Each item's payload exactly as finalised, as its canonical JSON: the bytes that are
        hashed are the bytes that are sent. An item whose payload no longer matches its hash
        maps to TamperedData (it must not be sent).

        A finalised revision is stored as canonical JSON (desktop/finalising.py), whose keys
        `answers`, `form`, `form_version` come in the payload's order, before `sign_off`: the
        payload is those bytes with the sealed sign-off spliced in, checked by its hash. A
        revision that is not (finalised by an earlier version, or holding an archive of
        migrated answers, which is never sent) is decoded and encoded again.
        """
        cipher = self.vault.cipher
        keys = [item.key for item in items]
        bodies = heads.sealed_bodies(self.vault, keys)
        sign_offs: dict[tuple[str, int], bytes] = {}
        ids = list(dict.fromkeys(aid for aid, _ in keys))
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            sign_offs.update(((str(aid), int(revision)), blob) for aid, revision, blob in
                             self.vault.read(
                "SELECT assessment_id, revision, CAST(sign_off AS BLOB) FROM outbox "  # noqa: S608
                f"WHERE assessment_id IN ({', '.join('?' for _ in chunk)})", chunk))
        found: dict[tuple[str, int], bytes | TamperedData] = {}
        for item in items:
            key = item.key
            try:
                if key not in bodies or sign_offs.get(key) is None:
                    raise _damaged(item)
                body = cipher.open(bodies[key], "answers", *key)
                sign_off = cipher.open(sign_offs[key], "sign-off", *key)
            except TamperedData as exc:
                found[key] = exc
                continue
            raw = body[:-1] + b',"sign_off":' + sign_off + b"}"
            if _hash(raw) != item.payload_hash:
                raw = canonical_json(make_payload(json.loads(body), json.loads(sign_off)))
            found[key] = raw if _hash(raw) == item.payload_hash else _damaged(item)
        return found

    def acknowledge(self, acks: Sequence[tuple[OutboxItem, dict[str, Any]]]) -> None:
        """Store verified receipts; an assessment whose current revision was sent is `synced`.

        One transaction per batch, each table written by one prepared statement (the MACs
        are still computed and checked row by row)."""
        if not acks:
            return
        cipher = self.vault.cipher
        now = now_iso()
        sealed = {item.key: cipher.seal(canonical_json(receipt), "receipt", item.assessment_id,
                                        item.revision) for item, receipt in acks}
        keys = list(sealed)
        with self.vault.write() as conn:
            self._move_keys(conn, keys, now=now, changes=lambda key: {
                "state": OutboxState.ACKNOWLEDGED, "receipt": sealed[key], "reasons": None,
                "acknowledged_at": now})
            self._raise_server_revisions(conn, keys)
            self._set_record_statuses(conn, keys, Event.ACKNOWLEDGE,
                                      only_from=RecordStatus.QUEUED)
            self.vault.audit_many(conn, "assessment.synced", [aid for aid, _ in keys])
            self.vault.set_meta(conn, "last_acknowledged_at", now)

    def requeue(self, items: Iterable[OutboxItem]) -> None:
        """In flight, but the server does not hold them: back to the queue, same identity."""
        keys = [item.key for item in items]
        if not keys:
            return
        with self.vault.write() as conn:
            self._move_keys(conn, keys, now=now_iso(), from_state=IN_FLIGHT,
                            changes=lambda _: {"state": Q})

    def set_aside(self, item: OutboxItem, state: str, reasons: dict[str, Any]) -> None:
        """Quarantine an item (or mark a conflict) with the server's reasons; others go on."""
        if state not in SET_ASIDE:
            raise ValueError(state)
        sealed = self.vault.cipher.seal(canonical_json(reasons), "reasons", item.assessment_id,
                                        item.revision)
        with self.vault.write() as conn:
            self._move(conn, "assessment_id = ? AND revision = ?", item.key, now=now_iso(),
                       state=state, reasons=sealed)
            if state == OutboxState.CONFLICT:
                self._set_record_status(conn, item.assessment_id, item.revision, Event.CONFLICT)
            self.vault.audit(conn, f"assessment.sync-{state}", item.assessment_id)

    def retry_quarantined(self) -> int:
        """Put every quarantined item back in the queue (after the cause was fixed)."""
        with self.vault.write() as conn:
            return len(self._move(conn, f"state = '{OutboxState.QUARANTINED}'", (), now=now_iso(),
                                  state=Q))

    # -- reading ------------------------------------------------------------------------------

    def items(self, states: Sequence[str] | None = None) -> list[OutboxItem]:
        wanted = tuple(states or STATES)
        marks = ", ".join("?" for _ in wanted)
        rows = self.vault.read(
            f"SELECT {_COLUMNS}, {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) "  # noqa: S608
            f"FROM outbox WHERE state IN ({marks}) ORDER BY queued_at, assessment_id, revision",
            wanted,
        )
        return [self._checked(row) for row in rows]

    def get(self, assessment_id: str, revision: int) -> OutboxItem | None:
        rows = self.vault.read(
            f"SELECT {_COLUMNS}, {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) "  # noqa: S608
            "FROM outbox WHERE assessment_id = ? AND revision = ?",
            (assessment_id, revision),
        )
        return self._checked(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        counts = {str(state): 0 for state in STATES}
        for state, count in self.vault.read("SELECT state, count(*) FROM outbox GROUP BY state"):
            counts[str(state)] = int(count)
        return counts

    def receipt(self, item: OutboxItem) -> dict[str, Any] | None:
        return self._sealed_json("receipt", item)

    def reasons(self, item: OutboxItem) -> dict[str, Any] | None:
        return self._sealed_json("reasons", item)

    def last_acknowledged_at(self) -> str | None:
        return self.vault.meta("last_acknowledged_at")

    def oldest_unsynced_age_seconds(self, now: datetime) -> float | None:
        """Age of the oldest finalised revision not yet acknowledged (quarantine included)."""
        rows = self.vault.read(
            "SELECT min(queued_at) FROM outbox WHERE state IN "  # noqa: S608 - constant
            + sql_list(UNSENT_STATES)
        )
        if not rows or rows[0][0] is None:
            return None
        oldest = datetime.fromisoformat(str(rows[0][0]).replace("Z", "+00:00"))
        return max(0.0, (now - oldest).total_seconds())

    def _sealed_json(self, column: str, item: OutboxItem) -> dict[str, Any] | None:
        rows = self.vault.read(
            f"SELECT CAST({column} AS BLOB) FROM outbox WHERE assessment_id = ? "  # noqa: S608
            "AND revision = ?",
            (item.assessment_id, item.revision),
        )
        if not rows or rows[0][0] is None:
            return None
        value: dict[str, Any] = json.loads(
            self.vault.cipher.open(rows[0][0], column, item.assessment_id, item.revision)
        )
        return value

    def _checked(self, row: Sequence[Any]) -> OutboxItem:
        """An item from its columns followed by its MAC'd columns and MAC."""
        width = len(_COLUMNS.split(","))
        ok = _same(outbox_mac(self.vault.cipher, tuple(row[width:-1])), row[-1])
        return self._item(row[:width], damaged=not ok)

    @staticmethod
    def _item(row: Sequence[Any], **changes: Any) -> OutboxItem:
        item = OutboxItem(
            assessment_id=str(row[0]), revision=int(row[1]),
            base_revision=None if row[2] is None else int(row[2]), form=str(row[3]),
            form_version=str(row[4]), payload_hash=str(row[5]), state=str(row[6]),
            queued_at=str(row[7]), updated_at=str(row[8]), attempts=int(row[9]),
            acknowledged_at=None if row[10] is None else str(row[10]),
        )
        return replace(item, **changes) if changes else item


def _hash(raw: bytes) -> str:
    """`contract.canonical.payload_hash`, over payload bytes already canonical."""
    return HASH_PREFIX + hashlib.sha256(raw).hexdigest()


def _damaged(item: OutboxItem) -> TamperedData:
    return TamperedData(_NO_LONGER_MATCHES.format(id=item.assessment_id, revision=item.revision))


def _same(expected: bytes, stored: Any) -> bool:
    return isinstance(stored, bytes) and hmac.compare_digest(expected, stored)
