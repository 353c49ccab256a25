"""What each vault row's MAC covers: one function per table, shared by the writers and readers.

Every row's metadata is authenticated with an HMAC keyed from the profile's data key
(`RecordCipher.mac`), so someone holding only the file cannot change a status, an author, a
revision number, a UPN index, an outbox state or an audit entry without it showing:

- a revision's MAC covers its identity, who saved it and how, the sealed body's hash, and the
  MAC of the record's previous revision (a per-record chain: deleting one breaks the next);
- an assessment's MAC covers its current revision, how many revisions it has, its status,
  UPN index, form, the sealed summary's hash and the current revision's MAC (the chain's tip);
- an outbox row's MAC covers the delivery's identity, its state and its sealed blobs' hashes;
- an audit row's MAC covers the entry and the previous entry's MAC (a hash chain);
- the vault's state row (in `meta`) covers how many assessments exist and the audit chain's
  last entry, so deleting a whole record or the end of the audit log shows too.

Columns that only say when or how often (`updated_at` of an outbox row, `attempts`) are left
out, so bookkeeping never needs the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from desktop.crypto import RecordCipher

STATE_KEY = "integrity"

DAMAGED_RECORD = (
    "Assessment {id} has been altered or damaged outside OneSEND ({what}); it is shown as "
    "damaged and nothing in it is trusted or changed. Restore it from a backup."
)


def digest(blob: bytes | None) -> bytes | None:
    return None if blob is None else hashlib.sha256(bytes(blob)).digest()


def revision_mac(  # noqa: PLR0917 - the row's columns, in order
    cipher: RecordCipher, record_id: str, revision: int, created_at: str, author: str,
    action: str, status: str, form: str, form_version: str, body: bytes,
    previous: bytes | None,
) -> bytes:
    return cipher.mac("revision", record_id, revision, created_at, author, action, status,
                      form, form_version, digest(body), previous)


@dataclass(frozen=True)
class Head:
    """An assessment row, as stored (the MAC is checked by `head_ok`)."""

    id: str
    created_at: str
    updated_at: str
    current_revision: int
    revision_count: int
    status: str
    upn_index: bytes | None
    form: str
    form_version: str
    summary: bytes
    tip: bytes | None
    mac: bytes | None

    COLUMNS = ("id, created_at, updated_at, current_revision, revision_count, status, "
               "CAST(upn_index AS BLOB), form, form_version, CAST(summary AS BLOB), "
               "CAST(tip AS BLOB), CAST(mac AS BLOB)")

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Head:
        (record_id, created_at, updated_at, current, count, status, upn_index, form,
         form_version, summary, tip, mac) = row
        return cls(str(record_id), str(created_at), str(updated_at), int(current),
                   int(count or 0), str(status), upn_index, str(form or ""),
                   str(form_version or ""), bytes(summary or b""), tip, mac)

    def compute_mac(self, cipher: RecordCipher) -> bytes:
        return cipher.mac("assessment", self.id, self.created_at, self.updated_at,
                          self.current_revision, self.revision_count, self.status,
                          self.upn_index, self.form, self.form_version, digest(self.summary),
                          self.tip)

    def ok(self, cipher: RecordCipher) -> bool:
        return cipher.mac_ok(self.mac, "assessment", self.id, self.created_at, self.updated_at,
                             self.current_revision, self.revision_count, self.status,
                             self.upn_index, self.form, self.form_version,
                             digest(self.summary), self.tip)


OUTBOX_MAC_COLUMNS = (
    "assessment_id, revision, base_revision, form, form_version, payload_hash, state, "
    "queued_at, acknowledged_at, CAST(sign_off AS BLOB), CAST(receipt AS BLOB), "
    "CAST(reasons AS BLOB)"
)


def outbox_mac(cipher: RecordCipher, row: tuple[Any, ...]) -> bytes:
    """`row` holds OUTBOX_MAC_COLUMNS, in that order."""
    (aid, revision, base, form, form_version, payload_hash, state, queued_at, acknowledged_at,
     sign_off, receipt, reasons) = row
    return cipher.mac("outbox", str(aid), int(revision), None if base is None else int(base),
                      str(form), str(form_version), str(payload_hash), str(state),
                      str(queued_at), None if acknowledged_at is None else str(acknowledged_at),
                      digest(sign_off), digest(receipt), digest(reasons))


def sync_head_mac(cipher: RecordCipher, assessment_id: str, server_revision: int) -> bytes:
    return cipher.mac("sync-head", assessment_id, server_revision)


def audit_mac(  # noqa: PLR0917 - the row's columns, in order
    cipher: RecordCipher, entry_id: int, at: str, profile: str, action: str,
    assessment_id: str | None, previous: bytes | None,
) -> bytes:
    return cipher.mac("audit", entry_id, at, profile, action, assessment_id, previous)


def xor(a: bytes, b: bytes | None) -> bytes:
    """Fold a MAC in or out of the vault state's accumulator (XOR of every record's MAC)."""
    if b is None:
        return a
    return bytes(x ^ y for x, y in zip(a, b.ljust(len(a), b"\0")[: len(a)], strict=True))


EMPTY = bytes(32)


@dataclass(frozen=True)
class VaultState:
    """How many assessments the vault holds, the XOR of their rows' MACs, and the audit chain's
    last entry, MAC'd together: removing or rolling back one record, or the end of the audit
    log, no longer matches it."""

    records: int
    heads: bytes
    audit_id: int
    audit_mac: bytes | None

    def _fields(self) -> tuple[int, bytes, int, bytes | None]:
        return (self.records, self.heads, self.audit_id, self.audit_mac)

    def to_text(self, cipher: RecordCipher) -> str:
        return json.dumps({
            "records": self.records, "heads": self.heads.hex(), "audit_id": self.audit_id,
            "audit_mac": None if self.audit_mac is None else self.audit_mac.hex(),
            "mac": cipher.mac("vault-state", *self._fields()).hex(),
        })

    @classmethod
    def from_text(cls, text: str, cipher: RecordCipher) -> VaultState | None:
        """The stored state, or None when it is missing, malformed or fails its MAC."""
        try:
            data = json.loads(text)
            state = cls(int(data["records"]), bytes.fromhex(data["heads"]),
                        int(data["audit_id"]),
                        None if data["audit_mac"] is None else bytes.fromhex(data["audit_mac"]))
            mac = bytes.fromhex(data["mac"])
        except (ValueError, KeyError, TypeError):
            return None
        return state if cipher.mac_ok(mac, "vault-state", *state._fields()) else None
