"""What the client and the reference server agree on: versions, headers, problem types, receipts.

The contract itself is `sync/openapi.yaml`; this module holds the parts both sides compute
the same way (canonical JSON, payload hashes, the signed receipt and form messages).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from desktop.assessments import canonical_json
from desktop.outbox import payload_hash

__all__ = ["canonical_json", "payload_hash"]

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "OneSEND-Protocol"
PROBLEM_PREFIX = "urn:onesend:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
RECEIPT_FIELDS = ("submission_id", "revision", "payload_hash", "received_at", "server_id")
MAX_BATCH_ITEMS = 1000
MAX_BODY_BYTES = 64 * 1024 * 1024


def problem_type(name: str) -> str:
    return PROBLEM_PREFIX + name


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def receipt_message(receipt: dict[str, Any]) -> bytes:
    """The bytes a receipt's signature covers."""
    return canonical_json({name: receipt.get(name) for name in RECEIPT_FIELDS})


def sign_receipt(key: Ed25519PrivateKey, fields: dict[str, Any]) -> dict[str, Any]:
    receipt = {name: fields[name] for name in RECEIPT_FIELDS}
    receipt["signature"] = b64(key.sign(receipt_message(receipt)))
    return receipt


def public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(key: Ed25519PublicKey, signature: Any, message: bytes) -> bool:
    raw = unb64(signature)
    if raw is None:
        return False
    try:
        key.verify(raw, message)
    except InvalidSignature:
        return False
    return True


def receipt_matches(
    key: Ed25519PublicKey, receipt: Any, *, submission_id: str, revision: int, digest: str,
    server_id: str,
) -> bool:
    """A receipt names exactly this delivery, carries this hash, and its signature verifies."""
    if not isinstance(receipt, dict):
        return False
    named = (
        receipt.get("submission_id") == submission_id
        and receipt.get("revision") == revision
        and not isinstance(receipt.get("revision"), bool)
        and receipt.get("payload_hash") == digest
        and receipt.get("server_id") == server_id
        and isinstance(receipt.get("received_at"), str)
    )
    return named and verify(key, receipt.get("signature"), receipt_message(receipt))


def form_message(definition: Any) -> bytes:
    """The bytes a published form definition's signature covers."""
    return canonical_json(definition)
