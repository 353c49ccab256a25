"""Finalising: a complete, valid assessment signed off and queued for the server, one or many.

Part of the record store: `Assessments.finalise` and `finalise_many` (desktop/assessments.py,
which owns the tables) delegate here, and every write goes through the store's MAC'd paths.
Only a complete and valid assessment (as the forms engine judges it) is finalised. A new
revision (action `finalise`, author the profile's name) fixes the identity that every delivery
of it will carry, and is queued in the outbox in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from contract.canonical import canonical_json, now_iso
from desktop import heads
from desktop.errors import (
    CorruptVault,
    DiskFull,
    NotReady,
    OneSendError,
    VaultBusy,
    VaultFilesChanged,
    VaultLocked,
)
from desktop.integrity import Head
from desktop.outbox import Outbox, make_payload
from desktop.record_status import FINALISABLE, Event, RecordStatus, next_status
from forms.errors import FormError

if TYPE_CHECKING:
    from desktop.assessments import Assessments

# Failures of the vault itself, which no single record causes.
_VAULT_FAILURES = (CorruptVault, DiskFull, VaultBusy, VaultFilesChanged, VaultLocked)

Finalised = tuple[str, int | None, bool, Exception | None]


def finalise(store: Assessments, record_id: str) -> tuple[int, bool]:
    """Sign off the current revision and queue it, in one transaction: (revision,
    newly_finalised). Finalising what is already queued or synced changes nothing."""
    vault = store.vault
    with vault.errors():
        head = store.verified_head(vault.conn, record_id)
        judged = _judge(store, head)
    if isinstance(judged, int):
        return judged, False
    with vault.write() as conn:
        # Judged outside the transaction: the record must not have moved on since.
        now = store.verified_head(conn, record_id)
        if now.current_revision != head.current_revision:
            raise NotReady(
                f"Assessment {record_id} changed while it was being finalised; try again.")
        revision = _finalise_in(store, conn, now, judged, move_state=True)
        vault.audit(conn, "assessment.finalise", record_id)
        return revision, True


def finalise_many(
    store: Assessments, record_ids: Sequence[str], *, batch: int = 250,
) -> Iterator[Finalised]:
    """Finalise many assessments in one process: (id, revision, newly, why-if-skipped).

    Records are taken `batch` at a time in one durable transaction (one commit, one fsync
    per batch), each inside its own savepoint: a record that is not ready, or was altered
    outside OneSEND, is rolled back to its savepoint, reported, and stops no other. Each
    record is read and verified once, judged, and written as `finalise` does; what every
    record repeats is done once per batch: the vault's state row moved for all the rows
    replaced, and their audit entries written in one statement.
    """
    vault = store.vault
    for start in range(0, len(record_ids), max(1, batch)):
        done: list[Finalised] = []
        replaced: list[tuple[bytes | None, bytes]] = []
        with vault.write() as conn:
            for record_id in record_ids[start:start + batch]:
                conn.execute("SAVEPOINT finalise_one")
                try:
                    head = store.verified_head(conn, record_id)
                    judged = _judge(store, head)
                    if isinstance(judged, int):
                        done.append((record_id, judged, False, None))
                    else:
                        revision = _finalise_in(store, conn, head, judged, move_state=False,
                                                replaced=replaced)
                        done.append((record_id, revision, True, None))
                except _VAULT_FAILURES:
                    raise  # the vault itself: the batch rolls back, earlier ones stay
                except (OneSendError, FormError, RecursionError, ValueError) as exc:
                    # This record only (not ready, altered, too deep, out of bounds).
                    conn.execute("ROLLBACK TO finalise_one")
                    done.append((record_id, None, False, exc))
                conn.execute("RELEASE finalise_one")
            heads.move_heads(vault, conn, replaced)
            vault.audit_many(conn, "assessment.finalise",
                             [record_id for record_id, _, newly, _ in done if newly])
        yield from done


def _judge(store: Assessments, head: Head) -> int | dict[str, Any]:
    """The current revision when already queued/synced; else its body once the forms engine
    judges it complete and valid (NotReady says why not)."""
    from forms.engine import check_document as judge  # noqa: PLC0415 - loads definitions

    record_id, current, status = head.id, head.current_revision, head.status
    if status in (RecordStatus.QUEUED, RecordStatus.SYNCED):
        return current
    if status not in FINALISABLE:
        raise NotReady(f"Assessment {record_id} cannot be finalised while it is {status}.")
    blob, _, _ = store.verified_revision(head, current)
    body = store.checked_body(
        json.loads(store.vault.cipher.open(blob, "answers", record_id, current)),
        f"Assessment {record_id}")
    try:
        verdict = judge(body)
    except FormError as exc:
        raise NotReady(f"Assessment {record_id} cannot be finalised: {exc}") from exc
    if not verdict.complete:
        paths = ", ".join(problem.path for problem in verdict.problems[:5])
        more = ", …" if len(verdict.problems) > 5 else ""
        raise NotReady(
            f"Assessment {record_id} is not complete and valid: "
            f"{len(verdict.problems)} answer(s) to fix ({paths}{more})."
        )
    return body


def _finalise_in(
    store: Assessments, conn: Any, head: Head, body: dict[str, Any], *, move_state: bool,
    replaced: list[tuple[bytes | None, bytes]] | None = None,
) -> int:
    """Inside the caller's transaction, on the record's verified row: the sign-off revision,
    queued in the outbox. The row's MACs (old, new) go to `replaced` when the caller moves
    the vault's state row itself (`move_state=False`)."""
    now = now_iso()
    sign_off = {"by": store.vault.profile, "at": now}
    revision = head.current_revision + 1
    # The body's canonical JSON, encoded once: sealed as the sign-off revision, and (with the
    # sign-off added) the payload whose hash the outbox keeps.
    canonical = canonical_json(body)
    macs = store.append_revision(conn, head, revision, now=now, action="finalise",
                                 status=RecordStatus.READY,
                                 head_status=next_status(head.status, Event.FINALISE),
                                 body=body, upn=False, move_state=move_state,
                                 plaintext=canonical)
    Outbox(store.vault).enqueue(conn, head.id, revision, body=body, sign_off=sign_off,
                                payload=_payload_bytes(body, canonical, sign_off))
    if replaced is not None:
        replaced.append(macs)
    return revision


def _payload_bytes(body: dict[str, Any], canonical: bytes, sign_off: dict[str, str]) -> bytes:
    """`canonical_json(make_payload(body, sign_off))`, built from the body's canonical JSON:
    the payload is the body's fields (answers, form, form_version, sorted) and then
    `sign_off`, which sorts after them. A body with more fields (an archive, never sent) is
    encoded afresh."""
    if set(body) != {"answers", "form", "form_version"} or not canonical.endswith(b"}"):
        return canonical_json(make_payload(body, sign_off))
    return canonical[:-1] + b',"sign_off":' + canonical_json(sign_off) + b"}"
