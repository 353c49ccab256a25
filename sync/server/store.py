"""The reference server's own SQLite database: devices, enrolment codes, forms, submissions.

The national side's store: it holds payloads (that is its job) — in the clear: this is a
development reference, not the national service, which must encrypt them at rest. Uniqueness
of a submission revision is the database's UNIQUE constraint, not a check in Python; a batch
is one transaction, so it is stored all or nothing.

Every device belongs to one setting (a school, say), given by the enrolment code it used; a
device reads and writes only the submissions its own setting created. Enrolment codes and
device tokens are stored as HMACs under a server secret, never as themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.protocol import (
    CODE_ALPHABET,
    CODE_SECRET_CHARS,
    b64,
    canonical_json,
    form_message,
    group_code,
    key_fingerprint,
    normalise_code,
    payload_hash,
    sign_receipt,
)
from desktop.paths import ensure_private_dir, write_private_file
from desktop.vault import now_iso
from forms.definition import FormDefinition, build_definition
from forms.engine import Session, verdict_of
from forms.errors import FormError
from forms.registry import list_definitions

DEFAULT_SETTING = "default"
DEFAULT_TOKEN_TTL = 90 * 24 * 3600.0
DEFAULT_RENEW_AFTER = 24 * 3600.0
DEFAULT_TOKEN_GRACE = 7 * 24 * 3600.0
IDEMPOTENCY_WINDOW = 600.0
SETTING_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrol_codes (
    code_hash TEXT PRIMARY KEY,
    used_by TEXT,
    setting TEXT NOT NULL DEFAULT 'default',
    used_at REAL,
    idempotency_hash TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    expires_at REAL,
    setting TEXT NOT NULL DEFAULT 'default',
    previous_token_hash TEXT,
    previous_expires_at REAL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS forms (
    form TEXT NOT NULL,
    version TEXT NOT NULL,
    definition TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (form, version)
);
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    base_revision INTEGER,
    form TEXT NOT NULL,
    form_version TEXT NOT NULL,
    payload BLOB NOT NULL,
    payload_hash TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES devices(id),
    received_at TEXT NOT NULL,
    signature TEXT NOT NULL,
    setting TEXT NOT NULL DEFAULT 'default',
    UNIQUE (submission_id, revision)
);
CREATE INDEX IF NOT EXISTS submissions_device ON submissions(device_id, seq);
"""
# Columns added since the first reference server, for data folders made before them.
_ADDED_COLUMNS = (
    ("enrol_codes", "setting", "TEXT NOT NULL DEFAULT 'default'"),
    ("enrol_codes", "used_at", "REAL"),
    ("enrol_codes", "idempotency_hash", "TEXT"),
    ("devices", "setting", "TEXT NOT NULL DEFAULT 'default'"),
    ("devices", "previous_token_hash", "TEXT"),
    ("devices", "previous_expires_at", "REAL"),
    ("devices", "revoked_at", "TEXT"),
    ("submissions", "setting", "TEXT NOT NULL DEFAULT 'default'"),
)


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    setting: str = DEFAULT_SETTING
    previous: bool = False  # authenticated with the token a renewal replaced


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one submitted item: a batch result or a single PUT's answer."""

    status: str  # accepted | duplicate | conflict | rejected
    http_status: int
    receipt: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None

    def result(self, item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "submission_id": str(item.get("submission_id", "")),
            "revision": item.get("revision") if isinstance(item.get("revision"), int) else 0,
            "status": self.status,
        }
        if self.receipt is not None:
            out["receipt"] = self.receipt
        if self.problem is not None:
            out["problem"] = self.problem
        return out


def problem(name: str, title: str, status: int, **extra: Any) -> dict[str, Any]:
    return {"type": f"urn:onesend:problem:{name}", "title": title, "status": status, **extra}


def _load_or_create_secret(path: Path) -> bytes:
    if path.exists():
        secret = path.read_bytes()
        if len(secret) != 32:
            raise ValueError(f"{path} does not hold a 32-byte secret")
        return secret
    secret = secrets.token_bytes(32)
    write_private_file(path, secret)
    return secret


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    write_private_file(path, pem)
    return key


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def shipped_definitions() -> list[dict[str, Any]]:
    """The form definitions that come with the package, as published JSON."""
    root = resources.files("forms").joinpath("definitions")
    found = []
    for form_id, version, _title in list_definitions():
        text = root.joinpath(form_id, f"{version}.json").read_text(encoding="utf-8")
        found.append(json.loads(text))
    return found


class ServerStore:
    """One reference server's data folder: its database and its two signing keys."""

    def __init__(
        self, data_dir: Path, *, token_ttl: float | None = DEFAULT_TOKEN_TTL,
        renew_after: float | None = DEFAULT_RENEW_AFTER,
        token_grace: float = DEFAULT_TOKEN_GRACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        ensure_private_dir(data_dir)
        self.data_dir = data_dir
        self.token_ttl = token_ttl
        self.renew_after = renew_after
        self.token_grace = token_grace
        self.clock = clock  # tests move it forward to pass a grace period or an expiry
        self.receipt_key = _load_or_create_key(data_dir / "receipt-key.pem")
        self.form_key = _load_or_create_key(data_dir / "form-key.pem")
        self._secret = _load_or_create_secret(data_dir / "server-secret.key")
        self.fingerprint = key_fingerprint(_raw_public(self.receipt_key),
                                           _raw_public(self.form_key))
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(data_dir / "server.db", isolation_level=None,
                                     check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._definitions: dict[tuple[str, str], FormDefinition] = {}
        with self._transaction() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table, column, declaration in _ADDED_COLUMNS:
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            conn.execute("CREATE INDEX IF NOT EXISTS devices_previous_token ON "
                         "devices(previous_token_hash)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'server_id'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta (key, value) VALUES ('server_id', ?)",
                             (uuid.uuid4().hex,))
        self.server_id = str(self._conn.execute(
            "SELECT value FROM meta WHERE key = 'server_id'").fetchone()[0])
        for definition in shipped_definitions():
            self.publish(definition)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- devices ------------------------------------------------------------------------------

    def _keyed(self, purpose: str, value: str) -> str:
        message = purpose.encode() + b"\0" + value.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def issue_code(self, setting: str = DEFAULT_SETTING) -> str:
        """A new one-time enrolment code for a device of `setting`: 80 random bits, then the
        fingerprint of this server's signing keys. Only its HMAC is stored."""
        secret = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_SECRET_CHARS))
        code = group_code(secret + self.fingerprint)
        self.accept_code(code, setting)
        return code

    def accept_code(self, code: str, setting: str = DEFAULT_SETTING) -> None:
        """Accept exactly this well-formed code (tests: a second server answering a code it
        did not issue, as a man in the middle would)."""
        canonical = normalise_code(code)
        if canonical is None:
            raise ValueError("not an enrolment code")
        if not SETTING_PATTERN.fullmatch(setting):
            raise ValueError("a setting is 1 to 64 letters, digits, '.', '_' or '-'")
        with self._transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO enrol_codes (code_hash, setting) VALUES (?, ?)",
                         (self._keyed("code", canonical), setting))

    def enrol(
        self, code: str, name: str, idempotency_key: str | None = None
    ) -> dict[str, Any] | None:
        """A new device and its token, or None when the code is unknown or already used.

        Exactly once: a repeat of the request that used the code (same idempotency key, within
        ten minutes) gets the same device and token back, so a lost answer burns no code.
        """
        canonical = normalise_code(code)
        if canonical is None:
            return None
        code_hash = self._keyed("code", canonical)
        repeat = self._keyed("idempotency", idempotency_key) if idempotency_key else None
        now = self.clock()
        with self._transaction() as conn:
            row = conn.execute("SELECT used_by, setting, used_at, idempotency_hash FROM "
                               "enrol_codes WHERE code_hash = ?", (code_hash,)).fetchone()
            if row is None:
                return None
            used_by, setting, used_at, held = row
            if used_by is not None:
                if (repeat is None or held is None or not hmac.compare_digest(repeat, held)
                        or used_at is None or now - float(used_at) > IDEMPOTENCY_WINDOW):
                    return None
                assert idempotency_key is not None
                token = self._enrolment_token(used_by, idempotency_key)
                device = conn.execute(
                    "SELECT expires_at FROM devices WHERE id = ? AND token_hash = ? AND "
                    "revoked_at IS NULL", (used_by, self._keyed("token", token))).fetchone()
                if device is None:
                    return None  # revoked or renewed since: the repeat is not the first answer
                return self._enrolment(str(used_by), token, str(setting), device[0])
            device_id = uuid.uuid4().hex
            token = (self._enrolment_token(device_id, idempotency_key) if idempotency_key
                     else secrets.token_urlsafe(32))
            expires = now + self.token_ttl if self.token_ttl else None
            conn.execute("UPDATE enrol_codes SET used_by = ?, used_at = ?, idempotency_hash = ? "
                         "WHERE code_hash = ?", (device_id, now, repeat, code_hash))
            conn.execute(
                "INSERT INTO devices (id, token_hash, name, enrolled_at, expires_at, setting) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, self._keyed("token", token), name, now_iso(), expires, setting),
            )
        return self._enrolment(device_id, token, str(setting), expires)

    def _enrolment_token(self, device_id: str, idempotency_key: str) -> str:
        """The token of an enrolment with a key: unguessable without the server secret, and
        the same for a repeat of the same request."""
        digest = hmac.new(self._secret, f"enrolment-token\0{device_id}\0{idempotency_key}"
                          .encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _enrolment(
        self, device_id: str, token: str, setting: str, expires: float | None
    ) -> dict[str, Any]:
        return {
            "device_id": device_id,
            "token": token,
            "server_id": self.server_id,
            "setting": setting,
            "receipt_key": b64(_raw_public(self.receipt_key)),
            "form_key": b64(_raw_public(self.form_key)),
            "expires_at": None if expires is None else _iso(expires),
            "renew_after": self.renew_after,
        }

    def device_for(self, token: str) -> tuple[Device | None, bool]:
        """(device, expired) for a bearer token; (None, False) when it is unknown or revoked.

        A renewed device's previous token works until its grace period ends, or until the new
        token is first used, whichever comes first.
        """
        digest = self._keyed("token", token)
        rows = self._read(
            "SELECT id, name, setting, expires_at, token_hash, previous_token_hash, "
            "previous_expires_at FROM devices "
            "WHERE (token_hash = ? OR previous_token_hash = ?) AND revoked_at IS NULL",
            (digest, digest))
        if not rows:
            return None, False
        device_id, name, setting, expires, current, previous, previous_expires = rows[0]
        now = self.clock()
        if not hmac.compare_digest(str(current), digest):
            if previous_expires is not None and now >= float(previous_expires):
                return None, True
            return Device(str(device_id), str(name), str(setting), previous=True), False
        if expires is not None and now >= float(expires):
            return None, True
        if previous is None:
            return Device(str(device_id), str(name), str(setting)), False
        with self._transaction() as conn:  # the new token is in use: the old one ends now
            conn.execute("UPDATE devices SET previous_token_hash = NULL, previous_expires_at = "
                         "NULL WHERE id = ? AND previous_token_hash IS NOT NULL", (device_id,))
        return Device(str(device_id), str(name), str(setting)), False

    def renew_token(self, device: Device) -> dict[str, Any] | None:
        """A fresh token for the device; the one it was asked with keeps working for the grace
        period (so a lost answer locks nobody out), or until the fresh one is used."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.token_ttl if self.token_ttl else None
        with self._transaction() as conn:
            row = conn.execute("SELECT token_hash, expires_at FROM devices WHERE id = ? AND "
                               "revoked_at IS NULL", (device.id,)).fetchone()
            if row is None:
                return None
            if not device.previous:  # asked with the current token: it becomes the previous
                grace_end = now + self.token_grace
                if row[1] is not None:
                    grace_end = min(grace_end, float(row[1]))
                conn.execute("UPDATE devices SET previous_token_hash = ?, previous_expires_at = ? "
                             "WHERE id = ?", (row[0], grace_end, device.id))
            conn.execute("UPDATE devices SET token_hash = ?, expires_at = ? WHERE id = ?",
                         (self._keyed("token", token), expires, device.id))
        return {"token": token, "expires_at": None if expires is None else _iso(expires),
                "renew_after": self.renew_after}

    def revoke(self, device_id: str) -> bool:
        """Revoke a device: its tokens stop working at once. False if there is no such device
        (or it was already revoked)."""
        with self._transaction() as conn:
            changed = conn.execute(
                "UPDATE devices SET revoked_at = ?, previous_token_hash = NULL WHERE id = ? AND "
                "revoked_at IS NULL", (now_iso(), device_id)).rowcount
        return changed == 1

    # -- forms --------------------------------------------------------------------------------

    def publish(self, raw: dict[str, Any]) -> None:
        """Publish (or re-publish identically) a form definition, signed with the form key."""
        definition = build_definition(raw, f"published {raw.get('id')}@{raw.get('version')}")
        signature = b64(self.form_key.sign(form_message(raw)))
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO forms (form, version, definition, signature) "
                "VALUES (?, ?, ?, ?)",
                (definition.id, definition.version, canonical_json(raw).decode(), signature),
            )
        self._definitions[(definition.id, definition.version)] = definition

    def forms(self) -> list[dict[str, str]]:
        rows = self._read("SELECT form, version, definition FROM forms ORDER BY form, rowid")
        return [
            {"form": form, "version": version,
             "sha256": hashlib.sha256(text.encode()).hexdigest()}
            for form, version, text in rows
        ]

    def form(self, form: str, version: str) -> dict[str, Any] | None:
        rows = self._read("SELECT definition, signature FROM forms WHERE form = ? "
                          "AND version = ?", (form, version))
        if not rows:
            return None
        return {"form": form, "version": version, "definition": json.loads(rows[0][0]),
                "signature": rows[0][1]}

    def tamper_form(self, form: str, version: str) -> None:
        """For tests and demos: alter a published definition but keep the old signature."""
        with self._transaction() as conn:
            text = conn.execute("SELECT definition FROM forms WHERE form = ? AND version = ?",
                                (form, version)).fetchone()[0]
            raw = json.loads(text)
            raw["title"] = str(raw.get("title", "")) + " (altered)"
            conn.execute("UPDATE forms SET definition = ? WHERE form = ? AND version = ?",
                         (canonical_json(raw).decode(), form, version))

    # -- submissions --------------------------------------------------------------------------

    def judge(self, item: dict[str, Any]) -> ItemOutcome | None:
        """Hash and form checks that need no lock: None when the item may be stored."""
        payload = item["payload"]
        if payload_hash(payload) != item["payload_hash"]:
            return ItemOutcome("rejected", 422, problem=problem(
                "hash-mismatch", "The payload does not match its payload_hash.", 422))
        key = (payload["form"], payload["form_version"])
        definition = self._definitions.get(key)
        if definition is None:
            return ItemOutcome("rejected", 422, problem=problem(
                "invalid-payload", f"The form {key[0]} version {key[1]} is not published.",
                422, errors=[{"path": "form_version", "message": "not a published version"}]))
        try:
            verdict = verdict_of(Session(definition, payload["answers"]))
        except FormError:
            return ItemOutcome("rejected", 422, problem=problem(
                "invalid-payload", "The answers cannot be read as this form's answers.", 422,
                errors=[{"path": "answers", "message": "not readable as answers"}]))
        if verdict.problems:
            return ItemOutcome("rejected", 422, problem=problem(
                "invalid-payload", "The assessment is incomplete or invalid.", 422,
                errors=[{"path": p.path, "message": p.message} for p in verdict.problems]))
        return None

    def submit(
        self, device: Device, items: Sequence[dict[str, Any]],
        judged: Sequence[ItemOutcome | None],
    ) -> list[ItemOutcome]:
        """Store a batch in one transaction; one outcome per item, in order."""
        now = now_iso()
        with self._transaction() as conn:
            return [
                self._submit_one(conn, device, item, verdict, now)
                for item, verdict in zip(items, judged, strict=True)
            ]

    def _submit_one(
        self, conn: sqlite3.Connection, device: Device, item: dict[str, Any],
        verdict: ItemOutcome | None, now: str,
    ) -> ItemOutcome:
        sid, revision, base = item["submission_id"], item["revision"], item["base_revision"]
        owner = conn.execute("SELECT setting FROM submissions WHERE submission_id = ? LIMIT 1",
                             (sid,)).fetchone()
        if owner is not None and owner[0] != device.setting:
            # Another setting's record: refused, with nothing said about what it holds.
            return ItemOutcome("rejected", 403, problem=problem(
                "forbidden", "This device may not write this submission.", 403))
        held = conn.execute(
            "SELECT payload_hash, received_at, signature FROM submissions "
            "WHERE submission_id = ? AND revision = ?", (sid, revision)).fetchone()
        if held is not None:
            if held[0] == item["payload_hash"]:
                return ItemOutcome("duplicate", 200, receipt=self._receipt(
                    sid, revision, held[0], held[1], held[2]))
            return ItemOutcome("conflict", 409, problem=problem(
                "conflict", "The server holds this revision with different content.", 409,
                latest_revision=self._latest(conn, sid)))
        if verdict is not None:
            return verdict
        latest = self._latest(conn, sid)
        if base != latest or revision <= (latest or 0):
            return ItemOutcome("conflict", 409, problem=problem(
                "conflict", "The revision is based on one that is not the server's latest.",
                409, latest_revision=latest))
        receipt = sign_receipt(self.receipt_key, {
            "submission_id": sid, "revision": revision, "payload_hash": item["payload_hash"],
            "received_at": now, "server_id": self.server_id,
        })
        payload = item["payload"]
        conn.execute(
            "INSERT INTO submissions (submission_id, revision, base_revision, form, "
            "form_version, payload, payload_hash, device_id, received_at, signature, setting) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, revision, base, payload["form"], payload["form_version"],
             canonical_json(payload), item["payload_hash"], device.id, now,
             receipt["signature"], device.setting),
        )
        return ItemOutcome("accepted", 201, receipt=receipt)

    @staticmethod
    def _latest(conn: sqlite3.Connection, sid: str) -> int | None:
        row = conn.execute("SELECT max(revision) FROM submissions WHERE submission_id = ?",
                           (sid,)).fetchone()
        return None if row[0] is None else int(row[0])

    def _receipt(
        self, sid: str, revision: int, digest: str, received_at: str, signature: str
    ) -> dict[str, Any]:
        return {"submission_id": sid, "revision": revision, "payload_hash": digest,
                "received_at": received_at, "server_id": self.server_id,
                "signature": signature}

    def manifest_query(
        self, device: Device, refs: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """What this device's setting holds of each ref; another setting's is `absent`."""
        out = []
        with self._lock:
            for ref in refs:
                sid, revision = ref["submission_id"], ref["revision"]
                row = self._conn.execute(
                    "SELECT payload_hash, received_at, signature FROM submissions "
                    "WHERE submission_id = ? AND revision = ? AND setting = ?",
                    (sid, revision, device.setting)).fetchone()
                entry: dict[str, Any] = {"submission_id": sid, "revision": revision}
                if row is None:
                    entry["held"] = "absent"
                elif row[0] == ref["payload_hash"]:
                    entry.update(held="same", payload_hash=row[0],
                                 receipt=self._receipt(sid, revision, *row))
                else:
                    entry.update(held="different", payload_hash=row[0])
                out.append(entry)
        return out

    def manifest_page(self, device: Device, after: int, limit: int) -> dict[str, Any]:
        rows = self._read(
            "SELECT seq, submission_id, revision, payload_hash FROM submissions "
            "WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?", (device.id, after, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [{"submission_id": r[1], "revision": r[2], "payload_hash": r[3]}
                      for r in rows],
            "next": int(rows[-1][0]) if more and rows else None,
        }

    def latest(self, sid: str, device: Device | None = None) -> dict[str, Any] | None:
        """The latest revision, if the device's setting holds this submission (any setting's
        for an operator, with no device)."""
        rows = self._read(
            "SELECT revision, CAST(payload AS BLOB), payload_hash, received_at, signature "
            "FROM submissions WHERE submission_id = ? AND (? IS NULL OR setting = ?) "
            "ORDER BY revision DESC LIMIT 1",
            (sid, None if device is None else device.setting,
             None if device is None else device.setting))
        if not rows:
            return None
        revision, payload, digest, received_at, signature = rows[0]
        return {"submission_id": sid, "revision": revision, "payload": json.loads(payload),
                "payload_hash": digest,
                "receipt": self._receipt(sid, revision, digest, received_at, signature)}

    def holdings(self) -> list[tuple[str, int, str]]:
        """Every stored (submission id, revision, payload hash): for tests and operators."""
        rows = self._read("SELECT submission_id, revision, payload_hash FROM submissions "
                          "ORDER BY seq")
        return [(str(a), int(b), str(c)) for a, b, c in rows]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
