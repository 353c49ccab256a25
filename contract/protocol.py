"""What the client and the national service agree on: versions, headers, problem types, receipts.

The contract itself is `contract/openapi.yaml`; this module holds the parts both sides compute
the same way (canonical JSON, payload hashes, the signed receipt and form messages).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contract.canonical import canonical_json, payload_hash

__all__ = ["canonical_json", "payload_hash"]

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "OneSEND-Protocol"
PROBLEM_PREFIX = "urn:onesend:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
RECEIPT_FIELDS = ("submission_id", "revision", "payload_hash", "received_at", "server_id")
MAX_BATCH_ITEMS = 1000
MAX_BODY_BYTES = 64 * 1024 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"

# Enrolment codes: 16 random characters (80 bits) then 12 characters (60 bits) of the
# fingerprint of the service's signing keys, in Crockford's base32 (no I, L, O or U), in groups
# of four. The client checks the fingerprint against the keys the server presents, so a server
# that is not the one that issued the code is refused before anything is trusted or stored.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SECRET_CHARS = 16
CODE_FINGERPRINT_CHARS = 12
_CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


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


def group_code(chars: str) -> str:
    return "-".join(chars[n:n + 4] for n in range(0, len(chars), 4))


def normalise_code(text: Any) -> str | None:
    """An enrolment code in its canonical form (upper case, grouped), or None if it is not one.

    Spaces and dashes may be anywhere; O, I and L are read as 0, 1 and 1.
    """
    if not isinstance(text, str) or len(text) > 200:
        return None
    chars = "".join(text.split()).replace("-", "").upper().translate(_CODE_LOOKALIKES)
    if len(chars) != CODE_SECRET_CHARS + CODE_FINGERPRINT_CHARS or any(
            c not in CODE_ALPHABET for c in chars):
        return None
    return group_code(chars)


def letters_codes_never_hold(text: str) -> list[str]:
    """The letters and digits in `text` that no enrolment code holds (U, say), in order; the
    look-alikes O, I and L are not among them (they are read as 0 and 1)."""
    typed = text[:200].upper().translate(_CODE_LOOKALIKES)
    return sorted({c for c in typed if c.isascii() and c.isalnum() and c not in CODE_ALPHABET})


def code_fingerprint(code: str) -> str:
    """The fingerprint part of a canonical code."""
    return code.replace("-", "")[CODE_SECRET_CHARS:]


def key_fingerprint(receipt_key: bytes, form_key: bytes) -> str:
    """The first 60 bits of SHA-256 over the two raw Ed25519 public keys, in the code alphabet."""
    digest = hashlib.sha256(b"onesend-enrolment-keys-v1\0" + receipt_key + form_key).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_FINGERPRINT_CHARS)
    chars = []
    for _ in range(CODE_FINGERPRINT_CHARS):
        chars.append(CODE_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
