"""The wire contract that the client (desktop/, sync/) and the national service (national/)
share: canonical JSON, payload hashes, time stamps, protocol version, headers, problem types,
enrolment codes and signed receipts. The OpenAPI document is `contract/openapi.yaml`.

It sits at the bottom: it imports none of the project's other packages.
"""

from contract.canonical import HASH_PREFIX, canonical_json, now_iso, payload_hash

__all__ = ["HASH_PREFIX", "canonical_json", "now_iso", "payload_hash"]
