"""The service's store: organisations, devices, officers, forms, submissions, the access log.

One schema (`national/schema.py`) on PostgreSQL (the service) or SQLite (the laptop reference,
one file in the data folder). A batch is one transaction, so it is stored all or nothing;
uniqueness of a submission revision is the database's constraint, so two workers racing with
the same revision store it once: the loser's transaction fails on the constraint, is rolled
back and judged again, and then finds the revision held (a duplicate, with the same receipt).

Every device belongs to one setting, given by the enrolment code an administrator issued for
it; a device reads and writes only the submissions its own setting created. Enrolment codes
and tokens are stored as HMACs under a server secret, never as themselves. Payloads are kept
as sent: the service's database must sit on encrypted storage (see README).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from contract.canonical import HASH_PREFIX, canonical_json, now_iso
from contract.protocol import (
    CODE_ALPHABET,
    CODE_SECRET_CHARS,
    b64,
    group_code,
    key_fingerprint,
    normalise_code,
    sign_receipt,
)
from forms.model import FormDefinition
from national import schema
from national.catalogue import FormCatalogue, shipped_definitions
from national.database import SQLITE_FILE, make_engine
from national.ingest import ItemOutcome, problem, store_batch, verdict
from national.keys import load_key, load_secret, private_dir, raw_public
from national.migrations import migrate

__all__ = ["SQLITE_FILE", "ItemOutcome", "ServerStore", "make_engine", "private_dir",
           "problem"]

DEFAULT_SETTING = "default"
DEFAULT_TOKEN_TTL = 90 * 24 * 3600.0
DEFAULT_RENEW_AFTER = 24 * 3600.0
DEFAULT_TOKEN_GRACE = 7 * 24 * 3600.0
DEFAULT_OFFICER_TTL = 30 * 24 * 3600.0
IDEMPOTENCY_WINDOW = 600.0
SETTING_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
LA_CODE = re.compile(r"[0-9]{3}")
ROLES = ("device", "trust_officer", "la_officer", "analyst")
OFFICER_ROLES = {"trust_officer": "trust", "la_officer": "la", "analyst": None}
_RACE_RETRIES = 5
_VERDICT_CACHE = 4096  # outcomes by payload hash: a hash names the content exactly


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: a setting's device, or an officer of a trust, an LA or DfE."""

    id: str
    name: str
    setting: str = DEFAULT_SETTING  # a device's setting; where a trust officer writes
    previous: bool = False  # authenticated with the token a renewal replaced
    role: str = "device"
    organisation: str = ""  # the setting, trust or LA code; "" for a national analyst


Device = Principal  # the reference server's name for it


class ServerStore(FormCatalogue):
    """One service's database and its data folder (the two signing keys and the secret)."""

    def __init__(
        self, data_dir: Path, *, database: str | None = None,
        token_ttl: float | None = DEFAULT_TOKEN_TTL,
        renew_after: float | None = DEFAULT_RENEW_AFTER,
        token_grace: float = DEFAULT_TOKEN_GRACE,
        clock: Callable[[], float] = time.time,
        pool_size: int = 8,
        auto_migrate: bool = True,
    ) -> None:
        private_dir(data_dir)
        self.data_dir = data_dir
        self.token_ttl = token_ttl
        self.renew_after = renew_after
        self.token_grace = token_grace
        self.clock = clock  # tests move it forward to pass a grace period or an expiry
        self.receipt_key = load_key(data_dir / "receipt-key.pem")
        self.form_key = load_key(data_dir / "form-key.pem")
        self._secret = load_secret(data_dir / "server-secret.key")
        self.fingerprint = key_fingerprint(raw_public(self.receipt_key),
                                           raw_public(self.form_key))
        self.engine = make_engine(database, data_dir, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        self._lock = threading.Lock()  # only around the definition cache
        self._definitions: dict[tuple[str, str], FormDefinition] = {}
        self._verdicts: OrderedDict[str, ItemOutcome] = OrderedDict()
        if auto_migrate:
            migrate(self.engine)
        self.server_id = self._server_id()
        for definition in shipped_definitions():
            self.publish(definition)
        self.ensure_organisation(DEFAULT_SETTING, "setting", "Default setting (reference)")

    def _server_id(self) -> str:
        for _ in range(_RACE_RETRIES):
            with self.engine.connect() as conn:
                found = conn.execute(select(schema.meta.c.value).where(
                    schema.meta.c.key == "server_id")).scalar()
            if found is not None:
                return str(found)
            try:
                with self.engine.begin() as conn:
                    conn.execute(schema.meta.insert().values(key="server_id",
                                                             value=uuid.uuid4().hex))
            except IntegrityError:
                continue
        raise RuntimeError("the server id could not be read")

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        """Whether the database answers (readiness)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(func.count()).select_from(schema.schema_migrations))
        except OperationalError:
            return False
        return True

    def _keyed(self, purpose: str, value: str) -> str:
        message = purpose.encode() + b"\0" + value.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    # -- organisations --------------------------------------------------------------------------

    def ensure_organisation(
        self, org_id: str, kind: str, name: str, *, la_code: str | None = None,
        trust: str | None = None, urn: str | None = None, ukprn: str | None = None,
        ofsted_ref: str | None = None,
    ) -> None:
        """Add an organisation, or leave one that exists as it is."""
        if kind not in ("la", "trust", "setting"):
            raise ValueError("an organisation is an la, a trust or a setting")
        if not SETTING_PATTERN.fullmatch(org_id):
            raise ValueError("an organisation id is 1 to 64 letters, digits, '.', '_' or '-'")
        if kind == "la" and not LA_CODE.fullmatch(org_id):
            raise ValueError("a local authority's id is its three-digit LA code")
        if la_code is not None and not LA_CODE.fullmatch(la_code):
            raise ValueError("an LA code is three digits")
        if kind == "la":
            la_code = org_id
        try:
            with self._transaction() as conn:
                if trust is not None:
                    found = conn.execute(select(schema.organisations.c.kind).where(
                        schema.organisations.c.id == trust)).scalar()
                    if found != "trust":
                        raise ValueError(f"there is no trust {trust}")
                if conn.execute(select(schema.organisations.c.kind).where(
                        schema.organisations.c.id == org_id)).first() is None:
                    conn.execute(schema.organisations.insert().values(
                        id=org_id, kind=kind, name=name[:200], la_code=la_code, trust_id=trust,
                        urn=urn, ukprn=ukprn, ofsted_ref=ofsted_ref, created_at=now_iso()))
        except IntegrityError:
            pass  # added at the same moment by another process

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.organisations).where(
                schema.organisations.c.id == org_id)).mappings().first()
        return dict(row) if row else None

    # -- devices --------------------------------------------------------------------------------

    def issue_code(self, setting: str = DEFAULT_SETTING) -> str:
        """A new one-time enrolment code for a device of `setting`: 80 random bits, then the
        fingerprint of this server's signing keys. Only its HMAC is stored."""
        secret = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_SECRET_CHARS))
        code = group_code(secret + self.fingerprint)
        self.accept_code(code, setting)
        return code

    def accept_code(self, code: str, setting: str = DEFAULT_SETTING) -> None:
        """Accept exactly this well-formed code for `setting` (a setting not yet known is added
        with no LA or trust: the laptop reference's convenience)."""
        canonical = normalise_code(code)
        if canonical is None:
            raise ValueError("not an enrolment code")
        if not SETTING_PATTERN.fullmatch(setting):
            raise ValueError("a setting is 1 to 64 letters, digits, '.', '_' or '-'")
        known = self.organisation(setting)
        if known is None:
            self.ensure_organisation(setting, "setting", setting)
        elif known["kind"] != "setting":
            raise ValueError(f"{setting} is not a setting")
        code_hash = self._keyed("code", canonical)
        with self._transaction() as conn:
            if conn.execute(select(schema.enrol_codes.c.code_hash).where(
                    schema.enrol_codes.c.code_hash == code_hash)).first() is None:
                conn.execute(schema.enrol_codes.insert().values(
                    code_hash=code_hash, setting=setting, issued_at=now_iso()))

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
        codes, devices = schema.enrol_codes, schema.devices
        with self._transaction() as conn:
            row = conn.execute(
                select(codes.c.used_by, codes.c.setting, codes.c.used_at,
                       codes.c.idempotency_hash)
                .where(codes.c.code_hash == code_hash).with_for_update()).first()
            if row is None:
                return None
            used_by, setting, used_at, held = row
            if used_by is not None:
                if (repeat is None or held is None or not hmac.compare_digest(repeat, held)
                        or used_at is None or now - float(used_at) > IDEMPOTENCY_WINDOW):
                    return None
                assert idempotency_key is not None
                token = self._enrolment_token(used_by, idempotency_key)
                device = conn.execute(select(devices.c.expires_at).where(
                    devices.c.id == used_by, devices.c.token_hash == self._keyed("token", token),
                    devices.c.revoked_at.is_(None))).first()
                if device is None:
                    return None  # revoked or renewed since: the repeat is not the first answer
                return self._enrolment(str(used_by), token, str(setting), device[0])
            device_id = uuid.uuid4().hex
            token = (self._enrolment_token(device_id, idempotency_key) if idempotency_key
                     else secrets.token_urlsafe(32))
            expires = now + self.token_ttl if self.token_ttl else None
            conn.execute(update(codes).where(codes.c.code_hash == code_hash).values(
                used_by=device_id, used_at=now, idempotency_hash=repeat))
            conn.execute(devices.insert().values(
                id=device_id, token_hash=self._keyed("token", token), name=name[:200],
                enrolled_at=now_iso(), expires_at=expires, setting=setting))
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
            "receipt_key": b64(raw_public(self.receipt_key)),
            "form_key": b64(raw_public(self.form_key)),
            "expires_at": None if expires is None else _iso(expires),
            "renew_after": self.renew_after,
        }

    def principal_for(self, token: str) -> tuple[Principal | None, bool]:
        """(principal, expired) for a bearer token; (None, False) when unknown or revoked."""
        found, expired = self.device_for(token)
        if found is not None or expired:
            return found, expired
        officers = schema.officers
        with self.engine.connect() as conn:
            row = conn.execute(select(
                officers.c.id, officers.c.name, officers.c.role, officers.c.organisation,
                officers.c.expires_at).where(
                officers.c.token_hash == self._keyed("officer-token", token),
                officers.c.revoked_at.is_(None))).first()
        if row is None:
            return None, False
        if row.expires_at is not None and self.clock() >= float(row.expires_at):
            return None, True
        return Principal(str(row.id), str(row.name), setting="", role=str(row.role),
                         organisation=str(row.organisation or "")), False

    def device_for(self, token: str) -> tuple[Principal | None, bool]:
        """(device, expired) for a bearer token; (None, False) when it is unknown or revoked.

        A renewed device's previous token works until its grace period ends, or until the new
        token is first used, whichever comes first.
        """
        digest = self._keyed("token", token)
        devices = schema.devices
        with self.engine.connect() as conn:
            row = conn.execute(select(
                devices.c.id, devices.c.name, devices.c.setting, devices.c.expires_at,
                devices.c.token_hash, devices.c.previous_token_hash,
                devices.c.previous_expires_at).where(
                (devices.c.token_hash == digest) | (devices.c.previous_token_hash == digest),
                devices.c.revoked_at.is_(None))).first()
        if row is None:
            return None, False
        device_id, name, setting, expires, current, previous, previous_expires = row
        now = self.clock()
        found = Principal(str(device_id), str(name), str(setting), organisation=str(setting))
        if not hmac.compare_digest(str(current), digest):
            if previous_expires is not None and now >= float(previous_expires):
                return None, True
            return Principal(str(device_id), str(name), str(setting), previous=True,
                             organisation=str(setting)), False
        if expires is not None and now >= float(expires):
            return None, True
        if previous is None:
            return found, False
        with self._transaction() as conn:  # the new token is in use: the old one ends now
            conn.execute(update(devices).where(
                devices.c.id == device_id, devices.c.previous_token_hash.is_not(None)).values(
                previous_token_hash=None, previous_expires_at=None))
        return found, False

    def renew_token(self, device: Principal) -> dict[str, Any] | None:
        """A fresh token for the device; the one it was asked with keeps working for the grace
        period (so a lost answer locks nobody out), or until the fresh one is used."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.token_ttl if self.token_ttl else None
        devices = schema.devices
        with self._transaction() as conn:
            row = conn.execute(select(devices.c.token_hash, devices.c.expires_at).where(
                devices.c.id == device.id, devices.c.revoked_at.is_(None)).with_for_update()
            ).first()
            if row is None:
                return None
            if not device.previous:  # asked with the current token: it becomes the previous
                grace_end = now + self.token_grace
                if row[1] is not None:
                    grace_end = min(grace_end, float(row[1]))
                conn.execute(update(devices).where(devices.c.id == device.id).values(
                    previous_token_hash=row[0], previous_expires_at=grace_end))
            conn.execute(update(devices).where(devices.c.id == device.id).values(
                token_hash=self._keyed("token", token), expires_at=expires))
        return {"token": token, "expires_at": None if expires is None else _iso(expires),
                "renew_after": self.renew_after}

    def revoke(self, principal_id: str) -> bool:
        """Revoke a device or an officer's token: it stops working at once. False if there is
        no such device or token (or it was already revoked)."""
        with self._transaction() as conn:
            changed = conn.execute(update(schema.devices).where(
                schema.devices.c.id == principal_id, schema.devices.c.revoked_at.is_(None)
            ).values(revoked_at=now_iso(), previous_token_hash=None)).rowcount
            changed += conn.execute(update(schema.officers).where(
                schema.officers.c.id == principal_id, schema.officers.c.revoked_at.is_(None)
            ).values(revoked_at=now_iso())).rowcount
        return changed == 1

    def issue_token(
        self, role: str, organisation: str | None, name: str = "officer",
        ttl: float | None = DEFAULT_OFFICER_TTL,
    ) -> tuple[str, str]:
        """(officer id, token) for a trust officer, an LA officer or a national analyst."""
        if role not in OFFICER_ROLES:
            raise ValueError("a role is trust_officer, la_officer or analyst")
        kind = OFFICER_ROLES[role]
        if kind is None:
            organisation = None
        else:
            found = self.organisation(organisation or "")
            if found is None or found["kind"] != kind:
                raise ValueError(f"a {role} belongs to a {kind}: there is no {kind} "
                                 f"{organisation}")
        officer_id = uuid.uuid4().hex
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._transaction() as conn:
            conn.execute(schema.officers.insert().values(
                id=officer_id, token_hash=self._keyed("officer-token", token), role=role,
                organisation=organisation, name=name[:200], issued_at=now_iso(),
                expires_at=now + ttl if ttl else None))
        return officer_id, token

    def trust_setting(self, trust: str, setting: str) -> bool:
        """Whether `setting` is one of the trust's settings."""
        found = self.organisation(setting)
        return bool(found and found["kind"] == "setting" and found["trust_id"] == trust)

    # -- submissions ----------------------------------------------------------------------------

    def judge(self, item: dict[str, Any]) -> ItemOutcome | None:
        """Hash and form checks that need no transaction: None when the item may be stored."""
        outcome = self.judge_with_facts(item)
        return None if outcome.status == "ok" else outcome

    def judge_with_facts(self, item: dict[str, Any]) -> ItemOutcome:
        """The verdict on one item: status 'ok' with the facts and the canonical payload to
        store, or a rejection. The canonical JSON is made once: hashed here, stored later."""
        payload = item["payload"]
        blob = canonical_json(payload)
        digest = HASH_PREFIX + hashlib.sha256(blob).hexdigest()
        if digest != item["payload_hash"]:
            return ItemOutcome("rejected", 422, problem=problem(
                "hash-mismatch", "The payload does not match its payload_hash.", 422))
        key = (payload["form"], payload["form_version"])
        cached = self._verdicts.get(digest)
        if cached is None:
            definition = self.definition(*key)
            cached = verdict(definition, key, payload)
            if definition is None:
                return cached  # not published yet: it may be by the next try
            with self._lock:  # the same content judged again soon: a retry, a racing worker
                self._verdicts[digest] = cached
                while len(self._verdicts) > _VERDICT_CACHE:
                    self._verdicts.popitem(last=False)
        return dataclasses.replace(cached, blob=blob) if cached.status == "ok" else cached

    def submit(
        self, device: Principal, items: Sequence[dict[str, Any]],
        judged: Sequence[ItemOutcome | None],
    ) -> list[ItemOutcome]:
        """Store a batch in one transaction (national/ingest.py); one outcome per item, in
        order. A batch that loses a race on the uniqueness constraint is rolled back whole
        and run again."""
        for attempt in range(_RACE_RETRIES):
            now = now_iso()
            try:
                with self._transaction() as conn:
                    return store_batch(conn, items, judged, setting=device.setting,
                                       device_id=device.id, now=now, sign=self._sign,
                                       receipt=self._receipt)
            except DBAPIError as exc:
                # Lost a race on the constraint, or (PostgreSQL) a deadlock or serialization
                # failure: the whole batch was rolled back, so judging it again is safe.
                raced = isinstance(exc, IntegrityError) or getattr(
                    exc.orig, "sqlstate", None) in ("40P01", "40001")
                if not raced or attempt == _RACE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _sign(self, fields: dict[str, Any]) -> dict[str, Any]:
        return sign_receipt(self.receipt_key, {**fields, "server_id": self.server_id})

    def _receipt(
        self, sid: str, revision: int, digest: str, received_at: str, signature: str
    ) -> dict[str, Any]:
        return {"submission_id": sid, "revision": revision, "payload_hash": digest,
                "received_at": received_at, "server_id": self.server_id,
                "signature": signature}

    def manifest_query(
        self, device: Principal, refs: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """What this device's setting holds of each ref; another setting's is `absent`."""
        subs = schema.submissions
        out = []
        with self.engine.connect() as conn:
            for ref in refs:
                sid, revision = ref["submission_id"], ref["revision"]
                row = conn.execute(select(
                    subs.c.payload_hash, subs.c.received_at, subs.c.signature).where(
                    subs.c.submission_id == sid, subs.c.revision == revision,
                    subs.c.setting == device.setting)).first()
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

    def manifest_page(self, device: Principal, after: int, limit: int) -> dict[str, Any]:
        subs = schema.submissions
        with self.engine.connect() as conn:
            rows = conn.execute(select(
                subs.c.seq, subs.c.submission_id, subs.c.revision, subs.c.payload_hash).where(
                subs.c.device_id == device.id, subs.c.seq > after).order_by(subs.c.seq)
                .limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [{"submission_id": r[1], "revision": r[2], "payload_hash": r[3]}
                      for r in rows],
            "next": int(rows[-1][0]) if more and rows else None,
        }

    def latest(self, sid: str, device: Principal | None = None) -> dict[str, Any] | None:
        """The latest revision, if the device's setting holds this submission (any setting's
        for an operator, with no device)."""
        subs = schema.submissions
        query = select(subs.c.revision, subs.c.payload, subs.c.payload_hash,
                       subs.c.received_at, subs.c.signature).where(subs.c.submission_id == sid)
        if device is not None:
            query = query.where(subs.c.setting == device.setting)
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(subs.c.revision.desc()).limit(1)).first()
        if row is None:
            return None
        revision, payload, digest, received_at, signature = row
        return {"submission_id": sid, "revision": revision, "payload": json.loads(payload),
                "payload_hash": digest,
                "receipt": self._receipt(sid, revision, digest, received_at, signature)}

    def holdings(self) -> list[tuple[str, int, str]]:
        """Every stored (submission id, revision, payload hash): for tests and operators."""
        subs = schema.submissions
        with self.engine.connect() as conn:
            rows = conn.execute(select(subs.c.submission_id, subs.c.revision,
                                       subs.c.payload_hash).order_by(subs.c.seq)).all()
        return [(str(a), int(b), str(c)) for a, b, c in rows]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
