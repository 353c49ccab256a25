"""Judging a record for sign-off: its decrypted answers parsed, bounded and judged complete and
valid by the forms engine, in this process or on every core.

Part of finalising (desktop/finalising.py). What is judged is a revision's plaintext that the
caller has verified and decrypted: no key, no vault and no SQL here. `judge_plaintext` is the
whole judgement (the same in this process and in a worker) and hands back the encodings the
sign-off needs (the body's canonical JSON, the list's summary), so the process holding the
keys only seals, MACs and writes them.

`JudgePool` runs it in worker processes when there are many records: started with `spawn`
(never `fork`: the window calls into the store from threads), each worker given the session's
fetched form definitions (the definitions, not the vault) and one "today" for the whole run.
Plaintext travels only through the pool's in-memory pipes, never a file. A record a worker
cannot accept comes back as its error's class and message (messages name paths, never an
answer: forms/errors.py); anything else as the exception's type name only, never a traceback
or the document.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, NamedTuple

from contract.canonical import canonical_json
from desktop.errors import BadDocument, NotReady, OneSendError, TamperedData, WorkerStopped
from desktop.hardening import disable_core_dumps
from desktop.summaries import summarise
from forms.definition import build_definition
from forms.errors import AnswersError, FormError
from forms.registry import Catalogue

# Below this many records the run stays in one process: starting the workers would cost more.
POOL_MIN = 500
# Records per task sent to a worker: small enough for the workers to share a batch evenly.
CHUNK = 25
# What one record that cannot be finalised raises (the rest of the batch goes on).
RECORD_ERRORS = (OneSendError, FormError, RecursionError, ValueError)
# The classes a worker's refusal is told back as (the nearest in the error's MRO).
_KINDS: dict[str, type[Exception]] = {cls.__name__: cls for cls in (
    NotReady, BadDocument, TamperedData, OneSendError, AnswersError, FormError,
    RecursionError, ValueError)}
_DOCUMENT_FIELDS = {"answers", "form", "form_version"}


class Judged(NamedTuple):
    """A record judged complete and valid, encoded as its sign-off needs it."""

    canonical: bytes  # the body's canonical JSON (sealed as the sign-off revision)
    # The payload's canonical JSON before its sign-off, when it is not `canonical` (a body
    # with more fields than the payload's, e.g. an archive, which is never sent).
    payload_base: bytes | None
    summary: bytes  # the list's summary, canonical JSON (sealed beside the revision)
    form: str
    form_version: str

    def payload(self, sign_off: dict[str, str]) -> bytes:
        """`canonical_json(make_payload(body, sign_off))`: the payload's fields (answers, form,
        form_version) sort before `sign_off`, so it is appended to their canonical JSON."""
        base = self.canonical if self.payload_base is None else self.payload_base
        return base[:-1] + b',"sign_off":' + canonical_json(sign_off) + b"}"


# The store's check of a document's shape and bounds, reduced to what a revision stores
# (`desktop.assessments.checked_body`, handed in by the store: it imports this module).
BodyCheck = Callable[[Any, str, Catalogue | None], dict[str, Any]]


def judge_plaintext(
    record_id: str, plaintext: bytes, today: date | None, catalogue: Catalogue | None,
    check: BodyCheck,
) -> Judged:
    """The decrypted revision, parsed, within its bounds (`check`) and judged complete and
    valid (as of `today`); NotReady says why not, BadDocument what is out of bounds."""
    from forms.engine import check_document as judge  # noqa: PLC0415 - loads definitions

    body = check(json.loads(plaintext), f"Assessment {record_id}", catalogue)
    try:
        verdict = judge(body, today, catalogue)
    except FormError as exc:
        raise NotReady(f"Assessment {record_id} cannot be finalised: {exc}") from exc
    if not verdict.complete:
        paths = ", ".join(problem.path for problem in verdict.problems[:5])
        more = ", …" if len(verdict.problems) > 5 else ""
        raise NotReady(
            f"Assessment {record_id} is not complete and valid: "
            f"{len(verdict.problems)} answer(s) to fix ({paths}{more})."
        )
    canonical = canonical_json(body)
    payload_base = None
    if set(body) != _DOCUMENT_FIELDS:
        payload_base = canonical_json({key: body[key] for key in _DOCUMENT_FIELDS})
    return Judged(canonical, payload_base, canonical_json(summarise(body["answers"])),
                  str(body["form"]), str(body["form_version"]))


def pool_size(records: int, workers: int | None) -> int:
    """How many worker processes judge `records` records: `workers` when given (0: none),
    else one per core the process may run on, when there are at least POOL_MIN records."""
    if workers is not None:
        return max(0, workers)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 and records >= POOL_MIN else 0


# -- the workers ------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}  # in a worker process: its catalogue and today


def _start_worker(
    definitions: list[tuple[dict[str, Any], str]], today: str, check: BodyCheck,
) -> None:
    """A worker's start: no core dump (it holds answers), Ctrl-C left to the main process,
    the session's fetched definitions checked and registered, the run's date."""
    disable_core_dumps()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    catalogue = Catalogue()
    for raw, source in definitions:
        catalogue.register(build_definition(raw, source))
    _WORKER.update(catalogue=catalogue, today=date.fromisoformat(today), check=check)


Outcome = Judged | tuple[str, str]


def _judge_chunk(chunk: list[tuple[str, bytes]]) -> list[Outcome]:
    """In a worker: each record judged, or ("refused" kind, message) / ("bug", type name)."""
    catalogue, today, check = _WORKER["catalogue"], _WORKER["today"], _WORKER["check"]
    found: list[Outcome] = []
    for record_id, plaintext in chunk:
        try:
            found.append(judge_plaintext(record_id, plaintext, today, catalogue, check))
        except RECORD_ERRORS as exc:
            kind = next(cls.__name__ for cls in type(exc).__mro__ if cls.__name__ in _KINDS
                        and _KINDS[cls.__name__] is cls)
            # A ValueError or RecursionError may quote what it choked on: only its kind.
            told = str(exc) if isinstance(exc, OneSendError | FormError) else "unreadable"
            found.append((kind, told))
        except Exception as exc:  # noqa: BLE001 - a bug: its type only, never its message
            found.append(("bug", type(exc).__name__))
    return found


def _outcome(record_id: str, outcome: Outcome) -> Judged | Exception:
    if isinstance(outcome, Judged):
        return outcome
    kind, told = outcome
    if kind == "bug":
        raise RuntimeError(f"The forms engine failed ({told}) while judging assessment "
                           f"{record_id} in a worker process.")
    return _KINDS[kind](told)


def _serve(
    conn: Connection, definitions: list[tuple[dict[str, Any], str]], today: str,
    check: BodyCheck,
) -> None:
    """A worker process: chunks in, judgements out, one at a time, until told to stop (None)
    or its pipe closes (the main process has gone)."""
    _start_worker(definitions, today, check)
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        conn.send(_judge_chunk(chunk))


class JudgePool:
    """Worker processes that judge records (`judge_plaintext`), a chunk per task.

    Each worker has its own pipe and one task at a time, fed by a thread of this process as
    soon as it is free, so a worker that dies leaves no shared queue half-read (a pool with
    one queue for all, as `concurrent.futures` has, can hang on that): its thread sees the
    pipe close, and every task not done fails with WorkerStopped.
    """

    def __init__(
        self, workers: int, catalogue: Catalogue | None, today: date, check: BodyCheck,
    ) -> None:
        definitions = [(definition.raw, definition.source)
                       for definition in (catalogue.every() if catalogue is not None else [])]
        context = multiprocessing.get_context("spawn")
        self._tasks: queue.SimpleQueue[tuple[list[tuple[str, bytes]], Future[Any]] | None] = (
            queue.SimpleQueue())
        self._broken = threading.Event()
        self._processes: list[BaseProcess] = []
        self._feeders: list[threading.Thread] = []
        for _ in range(max(1, workers)):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, daemon=True, name="onesend-judge",
                                      args=(theirs, definitions, today.isoformat(), check))
            process.start()
            theirs.close()  # only the worker's: its death closes the pipe
            feeder = threading.Thread(target=self._feed, args=(ours,), daemon=True,
                                      name="onesend-judge-feeder")
            feeder.start()
            self._processes.append(process)
            self._feeders.append(feeder)

    def _feed(self, conn: Connection) -> None:
        """Hand tasks to one worker, one at a time; on its death, fail what is left."""
        try:
            while (task := self._tasks.get()) is not None:
                chunk, future = task
                if self._broken.is_set():
                    future.set_exception(_stopped())
                    continue
                try:
                    conn.send(chunk)
                    future.set_result(conn.recv())
                except Exception:  # noqa: BLE001 - its pipe closed (EOF, OSError): it died
                    self._broken.set()
                    future.set_exception(_stopped())
            with contextlib.suppress(OSError):
                conn.send(None)
        finally:
            conn.close()

    def submit(self, items: Sequence[tuple[str, bytes]]) -> list[Future[list[Outcome]]]:
        """Start judging (record id, plaintext) pairs; `results` waits for them."""
        if self._broken.is_set():
            raise _stopped()
        futures: list[Future[list[Outcome]]] = []
        for start in range(0, len(items), CHUNK):
            future: Future[list[Outcome]] = Future()
            self._tasks.put((list(items[start:start + CHUNK]), future))
            futures.append(future)
        return futures

    @staticmethod
    def results(
        ids: Sequence[str], futures: Sequence[Future[list[Outcome]]],
    ) -> list[Judged | Exception]:
        """Each record's judgement (or why it cannot be finalised), in the order submitted;
        WorkerStopped when a worker died."""
        outcomes: list[Outcome] = []
        for future in futures:
            outcomes += future.result()
        return [_outcome(record_id, outcome) for record_id, outcome in zip(ids, outcomes,
                                                                            strict=True)]

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers: each finishes its task and ends, or (`kill`, or once one has
        died) all are killed; nothing of them is left running."""
        if kill or self._broken.is_set():
            self._broken.set()
            for process in self._processes:
                process.kill()
        for _ in self._feeders:
            self._tasks.put(None)
        for feeder in self._feeders:
            feeder.join()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def _stopped() -> WorkerStopped:
    return WorkerStopped(
        "A worker process judging the assessments stopped unexpectedly (killed, or out of "
        "memory): the assessments finalised before it are kept and nothing else was changed; "
        "run the command again to finish.")
