"""Finalising: a complete, valid assessment signed off and queued for the server, one or many.

Part of the record store: `Assessments.finalise` and `finalise_many` (desktop/assessments.py,
which owns the tables) delegate here, and every write goes through the store's MAC'd paths.
Only a complete and valid assessment (as the forms engine judges it, desktop/judging.py) is
finalised. A new revision (action `finalise`, author the profile's name) fixes the identity
that every delivery of it will carry, and is queued in the outbox in the same transaction.

One record and many take the same steps: read and verify the rows (`_read`), judge the
decrypted answers, then, in one write transaction, check that no row moved since it was read
and write the sign-off revisions, the rows, the outbox entries and the audit entries
(`_write`), each table in one statement for the whole batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from contract.canonical import now_iso
from desktop import heads
from desktop.errors import NotReady, TamperedData
from desktop.integrity import Head
from desktop.judging import (
    RECORD_ERRORS,
    Judged,
    JudgePool,
    Outcome,
    judge_plaintext,
    pool_size,
)
from desktop.outbox import Outbox, Queued
from desktop.record_status import FINALISABLE, RecordStatus

if TYPE_CHECKING:
    from desktop.assessments import Assessments

Finalised = tuple[str, int | None, bool, Exception | None]
# Batches read and handed to the workers ahead of the one being written.
_AHEAD = 2


@dataclass
class _Read:
    """One record as read for finalising: its verified row (or why it cannot be read), and
    either what is already decided (its queued revision, or why it cannot be finalised) or
    the decrypted answers to judge."""

    record_id: str
    found: Head | Exception
    decided: int | Exception | None = None
    plaintext: bytes | None = None


def finalise(store: Assessments, record_id: str) -> tuple[int, bool]:
    """Sign off the current revision and queue it, in one transaction: (revision,
    newly_finalised). Finalising what is already queued or synced changes nothing."""
    vault = store.vault
    with vault.snapshot() as conn:
        read = _read(store, conn, [record_id])[record_id]
    if isinstance(read.decided, Exception):
        raise read.decided
    if isinstance(read.decided, int):
        return read.decided, False
    judged = _judge_here(store, read, None)
    if isinstance(judged, Exception):
        raise judged
    with vault.write() as conn:
        # Judged outside the transaction: the record must not have moved on since.
        now = heads.verified_heads_each(vault, conn, [record_id],
                                        known={record_id: read.found})[record_id]
        if isinstance(now, Exception):
            raise now
        if now != read.found:
            raise NotReady(
                f"Assessment {record_id} changed while it was being finalised; try again.")
        _write(store, conn, [(now, judged)])
        vault.audit(conn, "assessment.finalise", record_id)
        return now.current_revision + 1, True


def finalise_many(
    store: Assessments, record_ids: Sequence[str], *, batch: int = 250,
    workers: int | None = None,
) -> Iterator[Finalised]:
    """Finalise many assessments in one process: (id, revision, newly, why-if-skipped).

    Records are taken `batch` at a time in one durable transaction (one commit, one fsync per
    batch): a record that is not ready, was altered outside OneSEND or is out of bounds is
    reported and changes nothing, and stops no other; a failure of the vault itself (or of a
    worker) rolls its batch back, and earlier batches stay. Each batch's rows are read and
    verified a table at a time, and written a table at a time.

    The judging (the forms engine, pure CPU) runs in `workers` processes (default: one per
    core, from POOL_MIN records; 0: in this process) while this one reads the batches ahead
    and writes the batch judged. Every record is judged as of the same day, the run's.
    """
    vault = store.vault
    step = max(1, batch)
    batches = [list(record_ids[start:start + step])
               for start in range(0, len(record_ids), step)]
    today = datetime.now(tz=UTC).date()
    size = pool_size(len(record_ids), workers) if batches else 0
    pool: JudgePool | None = None
    try:
        if size:
            pool = JudgePool(size, vault.catalogue, today, store.document_check)
        ahead_of = _AHEAD if pool is not None else 1  # in this process: one at a time
        pending = deque(_start(store, order, pool, today) for order in batches[:ahead_of])
        following = iter(batches[ahead_of:])
        while pending:
            ahead = pending.popleft()
            judged = ahead.judged
            if pool is not None:
                judged = dict(zip(ahead.todo, pool.results(ahead.todo, ahead.futures),
                                  strict=True))
            with vault.write() as conn:
                done = _write_batch(store, conn, ahead, judged, today)
            yield from done
            upcoming = next(following, None)
            if upcoming is not None:
                pending.append(_start(store, upcoming, pool, today))
    except BaseException:
        if pool is not None:  # stopped early (a failure, or the caller stopped asking)
            pool.close(kill=True)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.close()


@dataclass
class _Batch:
    """A batch read, and judged (in this process) or being judged (by the pool)."""

    order: list[str]
    reads: dict[str, _Read]
    judged: dict[str, Judged | Exception] = field(default_factory=dict)
    todo: list[str] = field(default_factory=list)
    futures: list[Future[list[Outcome]]] = field(default_factory=list)


def _start(store: Assessments, order: list[str], pool: JudgePool | None, today: date) -> _Batch:
    """Read a batch (one read transaction) and judge it here, or hand it to the pool."""
    with store.vault.snapshot() as conn:
        reads = _read(store, conn, order)
    todo = [read for read in reads.values() if read.decided is None]
    if pool is None:
        return _Batch(order, reads, {read.record_id: _judge_here(store, read, today)
                                     for read in todo})
    futures = pool.submit([(read.record_id, read.plaintext or b"") for read in todo])
    for read in todo:
        read.plaintext = None  # in the pool's pipe now; not kept here
    return _Batch(order, reads, todo=[read.record_id for read in todo], futures=futures)


def _read(store: Assessments, conn: Any, record_ids: Sequence[str]) -> dict[str, _Read]:
    """The records' rows and current revisions, verified (MACs, and the chain to each), in a
    few statements; those to finalise decrypted. By id, in the order given."""
    found = heads.verified_heads_each(store.vault, conn, record_ids)
    reads: dict[str, _Read] = {}
    wanted: dict[str, int] = {}
    for record_id in dict.fromkeys(record_ids):
        head = found[record_id]
        read = reads[record_id] = _Read(record_id, head)
        if isinstance(head, Exception):
            read.decided = head
        elif head.status in (RecordStatus.QUEUED, RecordStatus.SYNCED):
            read.decided = head.current_revision
        elif head.status not in FINALISABLE:
            read.decided = NotReady(
                f"Assessment {record_id} cannot be finalised while it is {head.status}.")
        else:
            wanted[record_id] = head.current_revision
    cipher = store.vault.cipher
    for record_id, blob in store.verified_revisions(conn, list(wanted.items())).items():
        read = reads[record_id]
        if isinstance(blob, Exception):
            read.decided = blob
            continue
        try:
            read.plaintext = cipher.open(blob, "answers", record_id, wanted[record_id])
        except TamperedData as exc:
            read.decided = exc
    return reads


def _judge_here(store: Assessments, read: _Read, today: date | None) -> Judged | Exception:
    """`judge_plaintext` in this process: the judgement, or why the record cannot be
    finalised (anything else, a bug, is raised)."""
    try:
        return judge_plaintext(read.record_id, read.plaintext or b"", today,
                               store.vault.catalogue, store.document_check)
    except RECORD_ERRORS as exc:
        return exc


def _write_batch(
    store: Assessments, conn: Any, batch: _Batch, judged: dict[str, Judged | Exception],
    today: date,
) -> list[Finalised]:
    """In the batch's write transaction: each row checked again (a record changed since it
    was read is read and judged again, here), then every record judged complete and valid
    signed off and queued; one result per id in the batch's order (a repeated id: as
    finalising it a second time would say)."""
    reads = batch.reads
    vault = store.vault
    now_found = heads.verified_heads_each(vault, conn, list(reads), known={
        record_id: read.found for record_id, read in reads.items()})
    moved = [record_id for record_id, read in reads.items()
             if not _same(read.found, now_found[record_id])]
    if moved:  # rare: changed since it was read, or named again in a later batch
        again = _read(store, conn, moved)
        reads.update(again)
        judged.update((record_id, _judge_here(store, read, today))
                       for record_id, read in again.items() if read.decided is None)
    results: dict[str, Finalised] = {}
    signed: list[tuple[Head, Judged]] = []
    for record_id, read in reads.items():
        if isinstance(read.decided, int):
            results[record_id] = (record_id, read.decided, False, None)
            continue
        outcome = read.decided if read.decided is not None else judged[record_id]
        if isinstance(outcome, Exception):
            results[record_id] = (record_id, None, False, outcome)
            continue
        assert isinstance(read.found, Head)
        signed.append((read.found, outcome))
        results[record_id] = (record_id, read.found.current_revision + 1, True, None)
    _write(store, conn, signed)
    vault.audit_many(conn, "assessment.finalise", [head.id for head, _ in signed])
    done, seen = [], set()
    for record_id in batch.order:
        result = results[record_id]
        if record_id in seen and result[2]:
            result = (record_id, result[1], False, None)  # queued by its first mention
        seen.add(record_id)
        done.append(result)
    return done


def _write(store: Assessments, conn: Any, signed: Sequence[tuple[Head, Judged]]) -> None:
    """The sign-off revisions, the rows moved on to them, and their outbox entries (an
    earlier queued revision of each superseded), in `conn`'s transaction."""
    profile = store.vault.profile
    stamped = [(head, judged, now_iso()) for head, judged in signed]
    store.append_sign_offs(conn, stamped)
    queued = []
    for head, judged, now in stamped:
        sign_off = {"by": profile, "at": now}
        queued.append(Queued(head.id, head.current_revision + 1, judged.form,
                             judged.form_version, judged.payload(sign_off), sign_off, now))
    Outbox(store.vault).enqueue_many(conn, queued)


def _same(before: Head | Exception, now: Head | Exception) -> bool:
    """Whether a row reads as it did (or fails as it did)."""
    if isinstance(before, Head) or isinstance(now, Head):
        return before == now
    return type(before) is type(now) and str(before) == str(now)
