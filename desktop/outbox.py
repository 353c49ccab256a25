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

import hmac
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from contract.canonical import canonical_json, payload_hash
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
from desktop.vault import Vault, now_iso

STATES = tuple(OutboxState)
Q, IN_FLIGHT = OutboxState.QUEUED, OutboxState.IN_FLIGHT
_COLUMNS = (
    "assessment_id, revision, base_revision, form, form_version, payload_hash, state, "
    "queued_at, updated_at, attempts, acknowledged_at"
)
# What a state change may set, by position in OUTBOX_MAC_COLUMNS.
_CHANGEABLE = {"state": 6, "acknowledged_at": 8, "receipt": 10, "reasons": 11}


def make_payload(body: dict[str, Any], sign_off: dict[str, str]) -> dict[str, Any]:
    """What is sent and hashed: the form, its version, the answers and who signed it off."""
    return {
        "form": body["form"],
        "form_version": body["form_version"],
        "answers": body["answers"],
        "sign_off": sign_off,
    }


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

    # -- queueing (inside the caller's transaction) -------------------------------------------

    def enqueue(
        self, conn: sqlite3.Connection, assessment_id: str, revision: int, *,
        body: dict[str, Any], sign_off: dict[str, str],
    ) -> OutboxItem:
        """Queue a finalised revision; an earlier one still waiting is superseded by it."""
        now = now_iso()
        # `+state`: look the assessment's rows up by primary key, never through the index on
        # state (which would scan every queued row, making a bulk finalise quadratic).
        self._move(conn, f"assessment_id = ? AND +state = '{Q}'", (assessment_id,), now=now,
                   state=OutboxState.SUPERSEDED)
        base = self._base_revision(conn, assessment_id)
        digest = payload_hash(make_payload(body, sign_off))
        sealed = self.vault.cipher.seal(
            canonical_json(sign_off), "sign-off", assessment_id, revision
        )
        mac = outbox_mac(self.vault.cipher, (
            assessment_id, revision, base, body["form"], body["form_version"], digest, Q,
            now, None, sealed, None, None))
        conn.execute(
            "INSERT INTO outbox (assessment_id, revision, base_revision, form, form_version, "
            "payload_hash, sign_off, state, queued_at, updated_at, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (assessment_id, revision, base, body["form"], body["form_version"], digest, sealed,
             Q, now, now, mac),
        )
        return OutboxItem(assessment_id, revision, base, body["form"], body["form_version"],
                          digest, Q, now, now, 0, None)

    def _base_revision(self, conn: sqlite3.Connection, assessment_id: str) -> int | None:
        row = conn.execute(
            "SELECT max(revision) FROM outbox WHERE assessment_id = ? "  # noqa: S608 - constant
            f"AND +state IN ('{OutboxState.ACKNOWLEDGED}', '{IN_FLIGHT}')",
            (assessment_id,),
        ).fetchone()
        candidates = [] if row[0] is None else [int(row[0])]
        head = self._server_revision(conn, assessment_id)
        if head is not None:
            candidates.append(head)
        return max(candidates) if candidates else None

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

    def _move(
        self, conn: sqlite3.Connection, where: str, params: Sequence[Any], *, now: str,
        attempt: bool = False, **changes: Any,
    ) -> list[tuple[str, int]]:
        """Change the rows matching `where` (state, receipt, reasons, acknowledged_at), each
        re-MAC'd; a row whose MAC fails is left exactly as found. Returns the keys moved."""
        rows = conn.execute(
            f"SELECT {OUTBOX_MAC_COLUMNS}, CAST(mac AS BLOB) FROM outbox "  # noqa: S608
            f"WHERE {where}", params).fetchall()
        cipher = self.vault.cipher
        moved = []
        for row in rows:
            values = list(row[:-1])
            if not _same(outbox_mac(cipher, tuple(values)), row[-1]):
                continue
            for name, value in changes.items():
                values[_CHANGEABLE[name]] = value
            conn.execute(
                "UPDATE outbox SET state = ?, acknowledged_at = ?, receipt = ?, reasons = ?, "
                "updated_at = ?, attempts = attempts + ?, mac = ? "
                "WHERE assessment_id = ? AND revision = ?",
                (values[6], values[8], values[10], values[11], now, int(attempt),
                 outbox_mac(cipher, tuple(values)), values[0], values[1]),
            )
            moved.append((str(values[0]), int(values[1])))
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
        with self.vault.write() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE state = '{Q}' "  # noqa: S608 - constant
                "ORDER BY queued_at, assessment_id, revision LIMIT ?",
                (limit,),
            ).fetchall()
            now = now_iso()
            moved: set[tuple[str, int]] = set()
            for row in rows:
                moved.update(self._move(conn, "assessment_id = ? AND revision = ?",
                                        (row[0], row[1]), now=now, attempt=True,
                                        state=IN_FLIGHT))
        return [self._item(row, state=IN_FLIGHT, attempts=int(row[9]) + 1) for row in rows
                if (str(row[0]), int(row[1])) in moved]

    def retake(self, keys: Iterable[tuple[str, int]]) -> None:
        """Mark these queued items in flight again (a batch split after a refusal)."""
        with self.vault.write() as conn:
            now = now_iso()
            for key in keys:
                self._move(conn, f"assessment_id = ? AND revision = ? AND state = '{Q}'",
                           key, now=now, attempt=True, state=IN_FLIGHT)

    def payload(self, item: OutboxItem) -> dict[str, Any]:
        """The payload exactly as finalised (its hash is checked before it is sent)."""
        rows = self.vault.read(
            "SELECT CAST(sign_off AS BLOB) FROM outbox WHERE assessment_id = ? AND revision = ?",
            (item.assessment_id, item.revision),
        )
        sign_off_blob = rows[0][0]
        body_blob = heads.sealed_body(self.vault, item.assessment_id, item.revision)
        cipher = self.vault.cipher
        body = json.loads(cipher.open(body_blob, "answers", item.assessment_id, item.revision))
        sign_off = json.loads(
            cipher.open(sign_off_blob, "sign-off", item.assessment_id, item.revision)
        )
        payload = make_payload(body, sign_off)
        if payload_hash(payload) != item.payload_hash:
            raise TamperedData(
                f"Assessment {item.assessment_id} (revision {item.revision}) no longer matches "
                "what was finalised; it was not sent."
            )
        return payload

    def acknowledge(self, acks: Sequence[tuple[OutboxItem, dict[str, Any]]]) -> None:
        """Store verified receipts; an assessment whose current revision was sent is `synced`."""
        if not acks:
            return
        cipher = self.vault.cipher
        now = now_iso()
        with self.vault.write() as conn:
            for item, receipt in acks:
                sealed = cipher.seal(canonical_json(receipt), "receipt", item.assessment_id,
                                     item.revision)
                self._move(conn, "assessment_id = ? AND revision = ?", item.key, now=now,
                           state=OutboxState.ACKNOWLEDGED, receipt=sealed, reasons=None,
                           acknowledged_at=now)
                self._raise_server_revision(conn, item.assessment_id, item.revision)
                self._set_record_status(conn, item.assessment_id, item.revision,
                                        Event.ACKNOWLEDGE, only_from=RecordStatus.QUEUED)
                self.vault.audit(conn, "assessment.synced", item.assessment_id)
            self.vault.set_meta(conn, "last_acknowledged_at", now)

    def requeue(self, items: Iterable[OutboxItem]) -> None:
        """In flight, but the server does not hold them: back to the queue, same identity."""
        keys = [item.key for item in items]
        if not keys:
            return
        with self.vault.write() as conn:
            now = now_iso()
            for key in keys:
                self._move(conn, f"assessment_id = ? AND revision = ? AND state = '{IN_FLIGHT}'",
                           key, now=now, state=Q)

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
        if changes:
            return OutboxItem(**{**asdict(item), **changes})
        return item


def _same(expected: bytes, stored: Any) -> bool:
    return isinstance(stored, bytes) and hmac.compare_digest(expected, stored)
