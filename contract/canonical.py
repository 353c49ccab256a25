"""Canonical JSON, the payload hash and the time stamp: computed the same on both sides."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

HASH_PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    """One byte sequence per value: what is hashed, sealed and compared."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def payload_hash(payload: dict[str, Any]) -> str:
    """`sha256:` + hex digest of the payload's canonical JSON: the same in every app version."""
    return HASH_PREFIX + hashlib.sha256(canonical_json(payload)).hexdigest()


def now_iso() -> str:
    """UTC time with milliseconds, as stored everywhere (vault, receipts, the service)."""
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
