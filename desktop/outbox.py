"""The outbox: finalised revisions waiting for, travelling to, or acknowledged by the server.

Each row is one delivery whose identity (assessment id + revision) and payload hash are fixed
when the assessment is finalised, so every retry, after any crash, is the same delivery. The
states are `queued` -> `in_flight` -> `acknowledged` (a verified receipt is stored), or
`quarantined` (the server's reasons are stored), or `conflict`; a queued revision replaced by
a later finalisation of the same assessment is `superseded`. Receipts, reasons and sign-offs
are sealed with the vault's cipher, bound to their row; the sealed secrets (device token,
server keys) live in `secrets`, each bound to its name.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from desktop.assessments import canonical_json
from desktop.errors import TamperedData
from desktop.vault import Vault, now_iso

STATES = ("queued", "in_flight", "acknowledged", "quarantined", "conflict", "superseded")
HASH_PREFIX = "sha256:"
_COLUMNS = (
    "assessment_id, revision, base_revision, form, form_version, payload_hash, state, "
    "queued_at, updated_at, attempts, acknowledged_at"
)


def payload_hash(payload: dict[str, Any]) -> str:
    """`sha256:` + hex digest of the payload's canonical JSON: the same in every app version."""
    return HASH_PREFIX + hashlib.sha256(canonical_json(payload)).hexdigest()


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

    @property
    def key(self) -> tuple[str, int]:
        return (self.assessment_id, self.revision)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Secrets:
    """Small secrets (the device token, the server's keys), each sealed and bound to its name."""

    _KIND = "secret"

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def put(self, conn: sqlite3.Connection, name: str, value: bytes) -> None:
        sealed = self.vault.cipher.seal(value, self._KIND, name, 0)
        conn.execute(
            "INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (name, sealed, now_iso()),
        )

    def get(self, name: str) -> bytes | None:
        rows = self.vault.read("SELECT CAST(value AS BLOB) FROM secrets WHERE name = ?", (name,))
        if not rows:
            return None
        try:
            return self.vault.cipher.open(rows[0][0], self._KIND, name, 0)
        except TamperedData as exc:
            raise TamperedData(
                f"The stored {name.replace('_', ' ')} has been altered or damaged; enrol this "
                "device again."
            ) from exc

    def get_json(self, name: str) -> Any:
        raw = self.get(name)
        return None if raw is None else json.loads(raw)

    def put_json(self, conn: sqlite3.Connection, name: str, value: Any) -> None:
        self.put(conn, name, canonical_json(value))


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
        conn.execute(
            "UPDATE outbox SET state = 'superseded', updated_at = ? "
            "WHERE assessment_id = ? AND state = 'queued'",
            (now, assessment_id),
        )
        base = self._base_revision(conn, assessment_id)
        digest = payload_hash(make_payload(body, sign_off))
        sealed = self.vault.cipher.seal(
            canonical_json(sign_off), "sign-off", assessment_id, revision
        )
        conn.execute(
            "INSERT INTO outbox (assessment_id, revision, base_revision, form, form_version, "
            "payload_hash, sign_off, state, queued_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (assessment_id, revision, base, body["form"], body["form_version"], digest, sealed,
             now, now),
        )
        return OutboxItem(assessment_id, revision, base, body["form"], body["form_version"],
                          digest, "queued", now, now, 0, None)

    @staticmethod
    def _base_revision(conn: sqlite3.Connection, assessment_id: str) -> int | None:
        row = conn.execute(
            "SELECT max(r) FROM (SELECT server_revision AS r FROM sync_heads "
            "WHERE assessment_id = ? UNION ALL SELECT revision FROM outbox "
            "WHERE assessment_id = ? AND state IN ('acknowledged', 'in_flight'))",
            (assessment_id, assessment_id),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def adopt_server_revision(
        self, conn: sqlite3.Connection, assessment_id: str, server_revision: int
    ) -> None:
        """After a conflict is resolved: the next revision is based on the server's one."""
        conn.execute(
            "INSERT INTO sync_heads (assessment_id, server_revision) VALUES (?, ?) "
            "ON CONFLICT(assessment_id) DO UPDATE SET server_revision = "
            "max(server_revision, excluded.server_revision)",
            (assessment_id, server_revision),
        )
        conn.execute(
            "UPDATE outbox SET state = 'superseded', updated_at = ? "
            "WHERE assessment_id = ? AND state IN ('conflict', 'queued')",
            (now_iso(), assessment_id),
        )

    # -- the sync engine's steps (each its own durable transaction) ---------------------------

    def take(self, limit: int) -> list[OutboxItem]:
        """Mark up to `limit` queued items in flight, oldest first, before anything is sent."""
        with self.vault.write() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE state = 'queued' "  # noqa: S608 - constant
                "ORDER BY queued_at, assessment_id, revision LIMIT ?",
                (limit,),
            ).fetchall()
            now = now_iso()
            conn.executemany(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ? "
                "WHERE assessment_id = ? AND revision = ?",
                [(now, row[0], row[1]) for row in rows],
            )
        return [self._item(row, state="in_flight", attempts=int(row[9]) + 1) for row in rows]

    def payload(self, item: OutboxItem) -> dict[str, Any]:
        """The payload exactly as finalised (its hash is checked before it is sent)."""
        rows = self.vault.read(
            "SELECT CAST(r.body AS BLOB), CAST(o.sign_off AS BLOB) FROM outbox o JOIN revisions r "
            "ON r.assessment_id = o.assessment_id AND r.revision = o.revision "
            "WHERE o.assessment_id = ? AND o.revision = ?",
            (item.assessment_id, item.revision),
        )
        body_blob, sign_off_blob = rows[0]
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
                conn.execute(
                    "UPDATE outbox SET state = 'acknowledged', receipt = ?, reasons = NULL, "
                    "acknowledged_at = ?, updated_at = ? WHERE assessment_id = ? AND revision = ?",
                    (sealed, now, now, item.assessment_id, item.revision),
                )
                conn.execute(
                    "INSERT INTO sync_heads (assessment_id, server_revision) VALUES (?, ?) "
                    "ON CONFLICT(assessment_id) DO UPDATE SET server_revision = "
                    "max(server_revision, excluded.server_revision)",
                    (item.assessment_id, item.revision),
                )
                conn.execute(
                    "UPDATE assessments SET status = 'synced' WHERE id = ? AND "
                    "current_revision = ? AND status = 'queued'",
                    (item.assessment_id, item.revision),
                )
                self.vault.audit(conn, "assessment.synced", item.assessment_id)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('last_acknowledged_at', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (now,),
            )

    def requeue(self, items: Iterable[OutboxItem]) -> None:
        """In flight, but the server does not hold them: back to the queue, same identity."""
        keys = [(now_iso(), item.assessment_id, item.revision) for item in items]
        if not keys:
            return
        with self.vault.write() as conn:
            conn.executemany(
                "UPDATE outbox SET state = 'queued', updated_at = ? WHERE assessment_id = ? "
                "AND revision = ? AND state = 'in_flight'",
                keys,
            )

    def set_aside(self, item: OutboxItem, state: str, reasons: dict[str, Any]) -> None:
        """Quarantine an item (or mark a conflict) with the server's reasons; others go on."""
        if state not in ("quarantined", "conflict"):
            raise ValueError(state)
        sealed = self.vault.cipher.seal(canonical_json(reasons), "reasons", item.assessment_id,
                                        item.revision)
        with self.vault.write() as conn:
            conn.execute(
                "UPDATE outbox SET state = ?, reasons = ?, updated_at = ? "
                "WHERE assessment_id = ? AND revision = ?",
                (state, sealed, now_iso(), item.assessment_id, item.revision),
            )
            if state == "conflict":
                conn.execute(
                    "UPDATE assessments SET status = 'conflict' WHERE id = ? AND "
                    "current_revision = ?",
                    (item.assessment_id, item.revision),
                )
            self.vault.audit(conn, f"assessment.sync-{state}", item.assessment_id)

    def retry_quarantined(self) -> int:
        """Put every quarantined item back in the queue (after the cause was fixed)."""
        with self.vault.write() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET state = 'queued', updated_at = ? WHERE state = 'quarantined'",
                (now_iso(),),
            )
            return int(cursor.rowcount)

    # -- reading ------------------------------------------------------------------------------

    def items(self, states: Sequence[str] | None = None) -> list[OutboxItem]:
        wanted = tuple(states or STATES)
        marks = ", ".join("?" for _ in wanted)
        rows = self.vault.read(
            f"SELECT {_COLUMNS} FROM outbox WHERE state IN ({marks}) "  # noqa: S608 - marks only
            "ORDER BY queued_at, assessment_id, revision",
            wanted,
        )
        return [self._item(row) for row in rows]

    def get(self, assessment_id: str, revision: int) -> OutboxItem | None:
        rows = self.vault.read(
            f"SELECT {_COLUMNS} FROM outbox WHERE assessment_id = ? "  # noqa: S608 - constant
            "AND revision = ?",
            (assessment_id, revision),
        )
        return self._item(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for state, count in self.vault.read("SELECT state, count(*) FROM outbox GROUP BY state"):
            counts[str(state)] = int(count)
        return counts

    def receipt(self, item: OutboxItem) -> dict[str, Any] | None:
        return self._sealed_json("receipt", item)

    def reasons(self, item: OutboxItem) -> dict[str, Any] | None:
        return self._sealed_json("reasons", item)

    def last_acknowledged_at(self) -> str | None:
        rows = self.vault.read("SELECT value FROM meta WHERE key = 'last_acknowledged_at'")
        return str(rows[0][0]) if rows else None

    def oldest_unsynced_age_seconds(self, now: datetime) -> float | None:
        """Age of the oldest finalised revision not yet acknowledged (quarantine included)."""
        rows = self.vault.read(
            "SELECT min(queued_at) FROM outbox WHERE state IN "
            "('queued', 'in_flight', 'quarantined', 'conflict')"
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
