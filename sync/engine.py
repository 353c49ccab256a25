"""The sync engine: delivers every finalised revision in the outbox exactly once.

A plain object with no Qt: a worker thread opens its own vault, builds a `SyncEngine` on it
and calls `run()`; progress and per-record states arrive through callbacks, and setting the
`cancel` event stops it between requests (or during a backoff wait).

Exactly once, in the face of lost answers: items are marked `in_flight` (durably) before a
request leaves, and anything found in flight, after a crash or a failed request, is first
looked up in the server's manifest: held with the same hash and a verified receipt means
acknowledged; absent means queued again, with the same identity and bytes. An item is
acknowledged only on a receipt naming its id and revision, carrying the hash that was sent,
and signed by the server's key.

One sync of a profile at a time: the run holds the profile's OS lock (`sync.lock`, see
`sync.lock`) from before it touches the outbox until it ends, so a sync killed mid-batch never
blocks the next one. A whole run has a deadline (`deadline`, ten minutes by default): when it
passes, what was acknowledged stays acknowledged, the rest stays queued (or in flight, to be
looked up in the manifest next time), and the run raises DeadlinePassed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contract.protocol import MAX_BATCH_ITEMS, PROTOCOL_VERSION, receipt_matches
from desktop.errors import (
    AuthExpired,
    Cancelled,
    NotReady,
    ServerRejected,
    TamperedData,
    UntrustedServer,
    UpdateRequired,
)
from desktop.outbox import Outbox, OutboxItem
from desktop.record_status import SET_ASIDE, UNSENT_STATES, OutboxState
from desktop.vault import Vault
from sync.device import Credentials, load_credentials, renew_token_if_due
from sync.http import Api, ApiSettings, Backoff, Retryable, rejected_reason
from sync.lock import SyncLock

log = logging.getLogger("onesend.sync")

BATCH = "batch"
SINGLE = "single"
_OLD_LEASE_KEY = "sync_lease"  # the wall-clock lease of earlier versions: removed on sight
DEFAULT_RUN_DEADLINE = 600.0  # seconds: `onesend sync --deadline` and the window's sync


@dataclass
class SyncProgress:
    """Where a run is: sent of total, and how each kind of outcome has counted so far."""

    phase: str
    total: int = 0
    done: int = 0
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: int = 0


@dataclass
class SyncReport:
    """The summary of one run; `still_queued` counts what is waiting for the next one."""

    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: int = 0
    recovered: int = 0
    still_queued: int = 0
    requests: int = 0
    bytes_sent: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return self.accepted + self.duplicates + self.recovered

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("waits")
        return data


@dataclass(frozen=True)
class SyncStatus:
    """What the sync area and `onesend sync --status` show."""

    counts: dict[str, int]
    last_acknowledged_at: str | None
    oldest_unsynced_age_seconds: float | None
    enrolled: bool
    server_url: str | None
    items: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ItemCallback = Callable[[OutboxItem, str], None]
ProgressCallback = Callable[[SyncProgress], None]


class SyncEngine:
    """Sync one open vault with the server it is enrolled with."""

    def __init__(
        self, vault: Vault, *, settings: ApiSettings | None = None, batch_size: int = 200,
        mode: str = BATCH, progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None, cancel: threading.Event | None = None,
        backoff: Backoff | None = None, deadline: float | None = DEFAULT_RUN_DEADLINE,
        retry_quarantined: bool = False,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_ITEMS:
            raise NotReady(f"The batch size must be between 1 and {MAX_BATCH_ITEMS}.")
        if mode not in (BATCH, SINGLE):
            raise ValueError(mode)
        self.vault = vault
        self.outbox = Outbox(vault)
        self.batch_size = 1 if mode == SINGLE else batch_size
        self.mode = mode
        self.cancel = cancel or threading.Event()
        self._progress = progress
        self._on_item = on_item
        self._settings = settings
        self._backoff = backoff
        self.deadline = deadline
        self._retry_quarantined = retry_quarantined
        self._lock = SyncLock(vault.path.parent)
        self.report = SyncReport()
        self._state = SyncProgress("starting")
        self._receipt_keys: dict[str, Ed25519PublicKey] = {}

    # -- public -------------------------------------------------------------------------------

    def run(self) -> SyncReport:
        """Send everything queued; returns the report (also when some items were set aside).

        Raises SyncBusy, before touching the outbox, when another sync of this profile runs.
        """
        credentials = load_credentials(self.vault)
        with self._lock:
            api = self._api(credentials)  # the run's deadline starts here
            try:
                self._forget_old_lease()
                if self._retry_quarantined:
                    self.outbox.retry_quarantined()
                self._check_protocol(api)
                credentials = renew_token_if_due(self.vault, api, credentials)
                self._recover(api, credentials)
                self._state = SyncProgress("sending",
                                           total=self.outbox.counts()[OutboxState.QUEUED])
                self._emit()
                self._send_all(api, credentials)
            finally:
                self.report.requests = api.traffic.requests
                self.report.bytes_sent = api.traffic.bytes_sent
                self.report.retries = api.traffic.retries
                self.report.waits = list(api.traffic.waits)
                self.report.still_queued = sum(
                    self.outbox.counts()[state] for state in (OutboxState.QUEUED,
                                                              OutboxState.IN_FLIGHT))
                api.close()
        self._state.phase = "done"
        self._emit()
        return self.report

    def status(self) -> SyncStatus:
        return sync_status(self.vault)

    # -- steps --------------------------------------------------------------------------------

    def _api(self, credentials: Credentials) -> Api:
        settings = credentials.settings(self._settings)
        backoff = self._backoff or Backoff(settings, cancel=self.cancel)
        return Api(credentials.server_url, settings, token=credentials.token, backoff=backoff,
                   run_deadline=self.deadline)

    def _check_protocol(self, api: Api) -> None:
        """Ask before sending anything, so an outdated client changes nothing on the server."""
        reply = api.call("GET", "/v1/health")
        protocol = reply.body.get("protocol") if isinstance(reply.body, dict) else None
        minimum = protocol.get("min") if isinstance(protocol, dict) else None
        if isinstance(minimum, int) and minimum > PROTOCOL_VERSION:
            raise UpdateRequired("The server needs a newer version of OneSEND: update it, then "
                                 "sync again (nothing was sent).")

    def _recover(self, api: Api, credentials: Credentials) -> None:
        """Everything in flight: ask the manifest what the server holds before re-sending."""
        # A row altered outside OneSEND (its MAC fails) is never sent or moved on.
        in_flight = [item for item in self.outbox.items([OutboxState.IN_FLIGHT])
                     if not item.damaged]
        for start in range(0, len(in_flight), MAX_BATCH_ITEMS):
            chunk = in_flight[start:start + MAX_BATCH_ITEMS]
            reply = api.call("POST", "/v1/manifest/query", {"items": [
                {"submission_id": i.assessment_id, "revision": i.revision,
                 "payload_hash": i.payload_hash} for i in chunk]})
            entries = _entries_by_key(reply.body)
            acks: list[tuple[OutboxItem, dict[str, Any]]] = []
            absent: list[OutboxItem] = []
            for item in chunk:
                entry = entries.get(item.key, {})
                held = entry.get("held")
                if held == "same":
                    receipt = entry.get("receipt")
                    if not self._verified(credentials, item, receipt):
                        raise self._bad_receipt(item)
                    assert isinstance(receipt, dict)
                    acks.append((item, receipt))
                elif held == "different":
                    self._set_aside(item, OutboxState.CONFLICT, {
                        "status": 409, "type": "conflict",  # wire word: the problem's type
                        "title": "The server holds this revision with different content.",
                        "errors": []})
                else:
                    absent.append(item)
            self.outbox.acknowledge(acks)
            self.report.recovered += len(acks)
            for item, _ in acks:
                self._item(item, OutboxState.ACKNOWLEDGED)
            self.outbox.requeue(absent)
            log.info("recovered %d in-flight item(s): %d held, %d re-queued",
                     len(chunk), len(acks), len(absent))

    def _send_all(self, api: Api, credentials: Credentials) -> None:
        failures = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled("Sync stopped; what was sent is kept and the rest stays queued.")
            batch = self.outbox.take(self.batch_size)
            if not batch:
                return
            try:
                self._send(api, credentials, batch)
                failures = 0
            except (AuthExpired, UpdateRequired):
                # Refused before the server looked at the items: nothing of them was stored.
                self.outbox.requeue(self.outbox.items([OutboxState.IN_FLIGHT]))
                raise
            except Retryable as exc:
                failures += 1
                log.info("batch of %d not confirmed (%s); attempt %d", len(batch), exc.reason,
                         failures)
                if failures >= api.settings.max_attempts:
                    raise api.offline(exc, failures) from None
                api.wait(failures, exc.retry_after)
                # The server may have committed before the answer was lost: ask, then resend.
                self._recover(api, credentials)

    def _send(self, api: Api, credentials: Credentials, batch: list[OutboxItem]) -> None:
        sendable: list[tuple[OutboxItem, bytes]] = []
        prepared = self.outbox.payload_bytes(batch)
        for item in batch:
            payload = prepared[item.key]
            if isinstance(payload, TamperedData):
                self._set_aside(item, OutboxState.QUARANTINED, {
                    "status": 0, "type": "local-damage", "title": str(payload), "errors": []})
                continue
            sendable.append((item, _item_json(item, payload)))
        if not sendable:
            return
        if self.mode == SINGLE:
            self._send_single(api, credentials, *sendable[0])
            return
        try:
            # The payloads' canonical bytes are spliced in as they were hashed, not encoded
            # again: the body is the JSON `{"items": [...]}`.
            reply = api.once("POST", "/v1/submissions/batch", raw=b'{"items":[' + b",".join(
                body for _, body in sendable) + b"]}")
        except ServerRejected as exc:
            self._refused_batch(api, credentials, [item for item, _ in sendable], exc)
            return
        results = reply.body.get("results") if isinstance(reply.body, dict) else None
        self._apply_results(credentials, [item for item, _ in sendable],
                            results if isinstance(results, list) else [])

    def _send_single(
        self, api: Api, credentials: Credentials, item: OutboxItem, body: bytes
    ) -> None:
        try:
            reply = api.once("PUT", f"/v1/submissions/{item.assessment_id}/revisions/"
                             f"{item.revision}", raw=body)
        except ServerRejected as exc:
            state = OutboxState.CONFLICT if exc.status == 409 else OutboxState.QUARANTINED
            self._set_aside(item, state, rejected_reason(exc))
            return
        self._apply_results(credentials, [item], [reply.body])

    def _refused_batch(
        self, api: Api, credentials: Credentials, items: list[OutboxItem], exc: ServerRejected
    ) -> None:
        """A whole batch refused (malformed or too large): halve it, so one bad item is found
        and quarantined while the rest go through."""
        if len(items) == 1:
            self._set_aside(items[0], OutboxState.QUARANTINED, rejected_reason(exc))
            return
        middle = len(items) // 2
        self.outbox.requeue(items[middle:])
        self.outbox.requeue(items[:middle])
        for half in (items[:middle], items[middle:]):
            taken = self._retake(half)
            if taken:
                self._send(api, credentials, taken)

    def _retake(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        keys = {item.key for item in items}
        self.outbox.retake(keys)
        return [item for item in self.outbox.items([OutboxState.IN_FLIGHT])
                if item.key in keys and not item.damaged]

    def _apply_results(
        self, credentials: Credentials, items: list[OutboxItem], results: list[Any]
    ) -> None:
        by_key = {}
        for result in results:
            if isinstance(result, dict):
                key = (result.get("submission_id"), result.get("revision"))
                by_key[key] = result
        acks: list[tuple[OutboxItem, dict[str, Any]]] = []
        unanswered: list[OutboxItem] = []
        for item in items:
            result = by_key.get(item.key)
            status = result.get("status") if result else None
            if result is None:
                unanswered.append(item)
            elif status in ("accepted", "duplicate"):
                receipt = result.get("receipt")
                if not self._verified(credentials, item, receipt):
                    raise self._bad_receipt(item)
                assert isinstance(receipt, dict)
                acks.append((item, receipt))
                if status == "accepted":
                    self.report.accepted += 1
                    self._state.accepted += 1
                else:
                    self.report.duplicates += 1
                    self._state.duplicates += 1
            elif status == "conflict":  # wire word: the server's answer
                self._set_aside(item, OutboxState.CONFLICT, _reason(result))
            elif status == "rejected":
                self._set_aside(item, OutboxState.QUARANTINED, _reason(result))
            else:
                unanswered.append(item)
        self.outbox.acknowledge(acks)
        for item, _ in acks:
            self._item(item, OutboxState.ACKNOWLEDGED)
        self._state.done += len(items)
        self._emit()
        if unanswered:
            # The answer did not name them: treat as lost, and let the manifest decide.
            raise Retryable(f"the server's answer did not name {len(unanswered)} item(s)")

    def _set_aside(self, item: OutboxItem, state: str, reasons: dict[str, Any]) -> None:
        self.outbox.set_aside(item, state, reasons)
        if state == OutboxState.CONFLICT:
            self.report.conflicts += 1
            self._state.conflicts += 1
        else:
            self.report.quarantined += 1
            self._state.quarantined += 1
        self._item(item, state)
        log.info("%s %s revision %d (%s)", state, item.assessment_id, item.revision,
                 reasons.get("type"))

    def _verified(self, credentials: Credentials, item: OutboxItem, receipt: Any) -> bool:
        key = self._receipt_keys.get(credentials.receipt_key)
        if key is None:  # the key's object made once per run, not once per receipt
            key = self._receipt_keys[credentials.receipt_key] = credentials.receipt_public_key()
        return receipt_matches(
            key, receipt, submission_id=item.assessment_id,
            revision=item.revision, digest=item.payload_hash, server_id=credentials.server_id)

    @staticmethod
    def _bad_receipt(item: OutboxItem) -> UntrustedServer:
        return UntrustedServer(
            f"The server's receipt for assessment {item.assessment_id} (revision "
            f"{item.revision}) did not verify, so it is not marked as sent; check the server "
            "address, or enrol again."
        )

    # -- callbacks ----------------------------------------------------------------------------

    def _emit(self) -> None:
        if self._progress is not None:
            self._progress(SyncProgress(**asdict(self._state)))

    def _item(self, item: OutboxItem, state: str) -> None:
        if self._on_item is not None:
            self._on_item(item, state)

    # -- one sync at a time per profile -------------------------------------------------------

    def _forget_old_lease(self) -> None:
        """Earlier versions kept a wall-clock lease in the vault; the OS lock replaced it."""
        if self.vault.meta(_OLD_LEASE_KEY) is not None:
            with self.vault.write() as conn:
                self.vault.delete_meta(conn, _OLD_LEASE_KEY)


def check_reachable(server_url: str, settings: ApiSettings | None = None) -> None:
    """One quick health check, no retries: returns when the server answers, else raises
    Offline (or UntrustedServer when its certificate is not trusted). Sends no token."""
    api = Api(server_url, settings or ApiSettings())
    try:
        api.once("GET", "/v1/health")
    except Retryable as exc:
        raise api.offline(exc, 1) from None
    finally:
        api.close()


def _item_json(item: OutboxItem, payload: bytes) -> bytes:
    """One item of a submission, its payload's canonical bytes spliced in as they are."""
    head = json.dumps({"submission_id": item.assessment_id, "revision": item.revision,
                       "base_revision": item.base_revision, "payload_hash": item.payload_hash},
                      ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return head[:-1].encode("utf-8") + b',"payload":' + payload + b"}"


def _entries_by_key(body: Any) -> dict[tuple[Any, Any], dict[str, Any]]:
    entries = body.get("items") if isinstance(body, dict) else None
    found: dict[tuple[Any, Any], dict[str, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            found[(entry.get("submission_id"), entry.get("revision"))] = entry
    return found


def _reason(result: dict[str, Any]) -> dict[str, Any]:
    problem = result.get("problem") if isinstance(result.get("problem"), dict) else {}
    assert isinstance(problem, dict)
    errors = problem.get("errors")
    return {
        "status": problem.get("status"),
        "type": str(problem.get("type", "")).rsplit(":", 1)[-1],
        "title": str(problem.get("title", ""))[:300],
        "errors": errors[:200] if isinstance(errors, list) else [],
        "latest_revision": problem.get("latest_revision"),
    }


def sync_status(vault: Vault, *, with_items: bool = True) -> SyncStatus:
    """Counts per state, the last acknowledgement, the oldest unsynced age, and each item."""
    outbox = Outbox(vault)
    try:
        credentials: Credentials | None = load_credentials(vault)
    except Exception:  # noqa: BLE001 - status must show even when the enrolment is damaged
        credentials = None
    items = []
    if with_items:
        for item in outbox.items([*UNSENT_STATES, OutboxState.ACKNOWLEDGED]):
            entry = {"id": item.assessment_id, "revision": item.revision, "state": item.state,
                     "form": item.form, "form_version": item.form_version,
                     "queued_at": item.queued_at, "acknowledged_at": item.acknowledged_at,
                     "attempts": item.attempts}
            if item.damaged:
                entry["damaged"] = True
            if item.state in SET_ASIDE:
                entry["reasons"] = outbox.reasons(item)
            items.append(entry)
    return SyncStatus(
        counts=outbox.counts(),
        last_acknowledged_at=outbox.last_acknowledged_at(),
        oldest_unsynced_age_seconds=outbox.oldest_unsynced_age_seconds(datetime.now(tz=UTC)),
        enrolled=credentials is not None,
        server_url=credentials.server_url if credentials else None,
        items=items,
    )
