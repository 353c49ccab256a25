"""Reconciling the local ledger (what the server acknowledged) with the server's manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from contract.protocol import MAX_BATCH_ITEMS, receipt_matches
from desktop.errors import TamperedData
from desktop.outbox import Outbox, OutboxItem
from desktop.record_status import OutboxState
from desktop.vault import Vault
from sync.device import Credentials, load_credentials
from sync.http import Api, ApiSettings

PAGE = 1000
MAX_PAGES = 10_000  # a bound, so a hostile server cannot keep us paging for ever


@dataclass(frozen=True)
class Reconciliation:
    """`missing`: acknowledged here, not held there; `extra`: held there (sent by this device),
    not acknowledged here; `mismatched`: held with another payload hash; `unverified`:
    acknowledged here, but the stored receipt is missing, its signature fails against the
    server's key stored at enrolment, or it does not name what was sent (or the outbox row
    fails its MAC). Lists of ids."""

    missing: list[str]
    extra: list[str]
    mismatched: list[str]
    unverified: list[str]
    acknowledged: int
    server_held: int
    oldest_unsynced_age_seconds: float | None

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.extra or self.mismatched or self.unverified)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stored_receipt_verifies(outbox: Outbox, credentials: Credentials, item: OutboxItem) -> bool:
    """The stored receipt opens, is signed by the server's key stored at enrolment, and names
    this delivery (id, revision, the hash of what was sent, the server)."""
    if item.damaged:
        return False
    try:
        receipt = outbox.receipt(item)
    except (TamperedData, ValueError):
        return False
    return receipt is not None and receipt_matches(
        credentials.receipt_public_key(), receipt, submission_id=item.assessment_id,
        revision=item.revision, digest=item.payload_hash, server_id=credentials.server_id)


def reconcile(vault: Vault, settings: ApiSettings | None = None) -> Reconciliation:
    credentials = load_credentials(vault)
    outbox = Outbox(vault)
    acknowledged = outbox.items([OutboxState.ACKNOWLEDGED])
    unverified = {item.assessment_id for item in acknowledged
                  if not stored_receipt_verifies(outbox, credentials, item)}
    ledger = {item.key: item.payload_hash for item in acknowledged}
    known = {item.key: item.payload_hash for item in outbox.items()}
    api = Api(credentials.server_url, credentials.settings(settings), token=credentials.token)
    try:
        held: dict[tuple[str, int], str] = {}
        after = 0
        for _ in range(MAX_PAGES):
            reply = api.call("GET", "/v1/manifest", params={"after": after, "limit": PAGE})
            body = reply.body if isinstance(reply.body, dict) else {}
            for entry in body.get("items") or []:
                if isinstance(entry, dict):
                    key = (str(entry.get("submission_id")), int(entry.get("revision") or 0))
                    held[key] = str(entry.get("payload_hash"))
            following = body.get("next")
            if not isinstance(following, int) or following <= after:
                break
            after = following
        # Acknowledged here but not in this device's list: another device may have sent the
        # identical revision first (a duplicate); ask about those by name.
        unlisted = [key for key in ledger if key not in held]
        for start in range(0, len(unlisted), MAX_BATCH_ITEMS):
            chunk = unlisted[start:start + MAX_BATCH_ITEMS]
            reply = api.call("POST", "/v1/manifest/query", {"items": [
                {"submission_id": sid, "revision": rev, "payload_hash": ledger[(sid, rev)]}
                for sid, rev in chunk]})
            body = reply.body if isinstance(reply.body, dict) else {}
            for entry in body.get("items") or []:
                if isinstance(entry, dict) and entry.get("held") in ("same", "different"):
                    key = (str(entry.get("submission_id")), int(entry.get("revision") or 0))
                    held[key] = str(entry.get("payload_hash"))
    finally:
        api.close()
    missing = {sid for (sid, rev) in ledger if (sid, rev) not in held}
    mismatched = {sid for key, digest in known.items()
                  if key in held and held[key] != digest for sid in [key[0]]}
    extra = {sid for key in held if key not in ledger and key not in known for sid in [key[0]]}
    extra |= {key[0] for key in held if key in known and key not in ledger
              and held[key] == known[key]}
    return Reconciliation(
        missing=sorted(missing), extra=sorted(extra), mismatched=sorted(mismatched),
        unverified=sorted(unverified),
        acknowledged=len(ledger), server_held=len(held),
        oldest_unsynced_age_seconds=outbox.oldest_unsynced_age_seconds(datetime.now(tz=UTC)),
    )
