"""The one bridge from worker threads back to the GUI thread.

Work runs on executors, never on the GUI thread:

- one *database* worker, so writes are serialised; it opens its own `Vault` (its own SQLite
  connection on the same WAL file) the first time it runs, and closes it on shutdown;
- a small pool for other long work that uses no Qt classes;
- one Qt worker thread (a ``QThread`` with its own event loop) for long work that needs Qt's
  own non-widget classes, such as laying out a ``QTextDocument`` and painting a PDF, which
  want an event dispatcher in their thread.

A task's result comes back through a queued Qt signal and its success or failure callback
runs on the GUI thread. Nothing here touches a widget from a worker, and nothing calls
``processEvents``. Modelled on Anki's ``aqt/taskman.py`` and ``aqt/operations``.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, Qt, QThread, Signal, SignalInstance, Slot
from shiboken6 import Shiboken

from desktop.crypto import RecordCipher
from desktop.vault import Vault
from forms.registry import Catalogue

T = TypeVar("T")
# How long a thread running Python keeps the GIL while another waits for it (CPython's default
# is 5 ms). The GUI thread gives the GIL up at every call into Qt that releases it and takes it
# back for every Python slot or model method Qt calls, so while a worker runs Python (the list's
# pages decrypted and prepared) some of those round trips wait the worker's whole turn: a 15 ms
# step of the GUI thread became a 40-100 ms stall at 5 ms (`bench/profile_unlock.py`), and at
# 1 ms whole `bench/bench_ui.py` runs still had an unlock stall over 50 ms now and then (2 of 6
# runs alternated with 0.1 ms, whose worst of 5 was 13-24 ms in all 6; issue 10). The price is
# paid only while two threads want the GIL at once: two workers both running Python take
# 1.0-1.5x as long as at 5 ms (`bench/bench_gil.py`); an idle GUI thread asks for nothing.
GIL_SWITCH_SECONDS = 0.0001
Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]


@runtime_checkable
class Closable(Protocol):
    """An owner that can be closed while its C++ object still exists (a panel shut down)."""

    @property
    def closed(self) -> bool: ...


def owner_gone(owner: object) -> bool:
    """Whether a task's owner can no longer take its result.

    A deleted ``QObject`` (its C++ side destroyed, e.g. a closed editor) is gone, and so is any
    owner whose ``closed`` property is true (a panel shut down on lock).
    """
    if owner is None:
        return False
    if isinstance(owner, QObject) and not Shiboken.isValid(owner):
        return True
    return isinstance(owner, Closable) and bool(owner.closed)


def share_the_gil() -> None:
    """Let the GUI thread have the GIL back within `GIL_SWITCH_SECONDS` of asking for it.

    Process-wide (`sys.setswitchinterval`), set once workers exist; never lengthened."""
    if sys.getswitchinterval() > GIL_SWITCH_SECONDS:
        sys.setswitchinterval(GIL_SWITCH_SECONDS)


def emit(signal: SignalInstance, *args: object) -> None:
    """Emit a Qt signal from Python (the one place the project emits, kept so every emit reads
    the same; the reference workaround for PySide6 6.12.0 went with that version's exclusion in
    pyproject.toml)."""
    signal.emit(*args)


def vault_opener(vault: Vault) -> Callable[[], Vault]:
    """How a worker opens its own connection to the same (unlocked) vault file.

    The connection is new; the record cipher is the profile's, so locking the GUI's vault
    (which makes the cipher forget its keys) also stops the worker from reading or writing.
    """
    return VaultOpener(vault.path, vault.cipher, vault.profile, vault.catalogue)


@dataclass(frozen=True)
class VaultOpener:
    """Opens a worker's own connection to an unlocked vault (see `vault_opener`), carrying the
    session's form catalogue (emptied when the session closes) to what it opens."""

    path: Path
    cipher: RecordCipher
    profile: str
    catalogue: Catalogue | None = None

    def __call__(self) -> Vault:
        opened = Vault(self.path, self.cipher, self.profile)
        opened.catalogue = self.catalogue
        return opened


class _QtLane(QObject):
    """Lives in a QThread with an event loop; runs the jobs posted to it, in order."""

    job = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.job.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, job: Callable[[], None]) -> None:
        job()


@dataclass
class _Job:
    """A task's work and callbacks, held by the GUI thread from submission to delivery.

    Worker threads see only the job's number. Whatever the work or the callbacks reference
    (often a widget, through a bound method or a closure) is therefore released on the GUI
    thread: a widget's last reference dropped on a worker would destroy it off the GUI thread,
    which crashes Qt.
    """

    work: Callable[[], Any]
    future: Future[Any]
    on_success: Success | None
    on_failure: Failure | None
    owner: object = None
    result: Any = None
    error: BaseException | None = None


class TaskRunner(QObject):
    """Runs work off the GUI thread and delivers each outcome back on it.

    ``run_db(work)`` calls ``work(vault)`` on the single database thread with that thread's
    own vault; ``run(work)`` calls ``work()`` on the background pool. Both return a
    ``Future``; ``on_success(result)`` or ``on_failure(error)`` is then called on the GUI thread.
    Given an ``owner`` (a widget, or anything with a ``closed`` property), the callbacks are
    dropped if the owner was deleted or closed before the result came back (see `owner_gone`).
    ``idle`` is emitted whenever the last outstanding task has been delivered.
    """

    _delivered = Signal(object)
    idle = Signal()
    failed = Signal(object)  # BaseException, for tasks given no failure callback

    def __init__(
        self, open_vault: Callable[[], Vault] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        share_the_gil()  # the workers below run Python beside the GUI thread
        self._open_vault = open_vault
        # The session's fetched forms, for what the GUI thread draws from a definition.
        self.catalogue = open_vault.catalogue if isinstance(open_vault, VaultOpener) else None
        self._db_vault: Vault | None = None
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onesend-db")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="onesend-work")
        self._qt_thread = QThread()
        self._qt_thread.setObjectName("onesend-qt-work")
        self._qt_lane = _QtLane()
        self._qt_lane.moveToThread(self._qt_thread)
        self._qt_thread.start()
        self._pending = 0
        self._lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}  # submitted, not yet delivered (GUI-owned)
        self._next_key = 0
        self._closed = False
        # Queued: the slot always runs on this object's (the GUI) thread.
        self._delivered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # -- submitting (GUI thread) ---------------------------------------------------------------

    def run_db(
        self,
        work: Callable[[Vault], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: Failure | None = None,
        *,
        owner: object = None,
    ) -> Future[T]:
        """Run ``work(vault)`` on the database thread, after every task submitted before it."""
        if self._open_vault is None:
            raise RuntimeError("This task runner was made without a vault.")
        return self._submit(self._db, lambda: work(self._thread_vault()), on_success, on_failure,
                            owner)

    def run(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: Failure | None = None,
        *,
        owner: object = None,
    ) -> Future[T]:
        """Run ``work()`` on the background pool."""
        return self._submit(self._pool, work, on_success, on_failure, owner)

    def run_qt(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None] | None = None,
        on_failure: Failure | None = None,
        *,
        owner: object = None,
    ) -> Future[T]:
        """Run ``work()`` on the Qt worker thread (for QTextDocument, QPdfWriter, QImage)."""
        if self._closed:
            raise RuntimeError("The task runner has been shut down.")
        key, future = self._hold(work, on_success, on_failure, owner)
        emit(self._qt_lane.job, functools.partial(self._run_job, key))
        return future

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def submitted(self) -> int:
        """How many tasks were ever submitted to this runner."""
        return self._next_key

    def wait_for_writes(self, timeout: float = 30.0) -> bool:
        """Block until every database task submitted so far has run (used when closing).

        The callbacks are still delivered later through the event loop; this only makes
        sure nothing submitted is lost when the window closes. True if all finished.
        """
        if self._closed:
            return True  # shutdown() already waited for everything
        marker: Future[None] = self._db.submit(lambda: None)
        try:
            marker.result(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def shutdown(self) -> None:
        """Finish the queued work, close the database thread's vault and stop the threads."""
        if self._closed:
            return
        self._closed = True
        self._db.submit(self._close_thread_vault)
        self._db.shutdown(wait=True)
        self._pool.shutdown(wait=True)
        self._qt_thread.quit()
        self._qt_thread.wait()

    # -- internals -------------------------------------------------------------------------------

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        work: Callable[[], T],
        on_success: Callable[[T], None] | None,
        on_failure: Failure | None,
        owner: object,
    ) -> Future[T]:
        if self._closed:
            raise RuntimeError("The task runner has been shut down.")
        key, future = self._hold(work, on_success, on_failure, owner)
        executor.submit(self._run_job, key)
        return future

    def _hold(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None] | None,
        on_failure: Failure | None,
        owner: object,
    ) -> tuple[int, Future[T]]:
        future: Future[T] = Future()
        with self._lock:
            self._pending += 1
            self._next_key += 1
            key = self._next_key
            self._jobs[key] = _Job(work, future, on_success, on_failure, owner)
        return key, future

    def _run_job(self, key: int) -> None:  # runs on a worker thread
        with self._lock:
            job = self._jobs[key]
        work = job.work  # the job keeps its own reference, for the GUI thread to drop
        if job.future.set_running_or_notify_cancel():
            try:
                job.result = work()
                job.future.set_result(job.result)
            except BaseException as error:  # noqa: BLE001 - handed to the failure callback
                job.error = error
                job.future.set_exception(error)
        # Drop this thread's references before the GUI thread can release the job's.
        del work, job
        emit(self._delivered, key)

    def _thread_vault(self) -> Vault:  # database thread only
        if self._db_vault is None or not self._db_vault.is_open:
            assert self._open_vault is not None
            self._db_vault = self._open_vault()
        return self._db_vault

    def _close_thread_vault(self) -> None:  # database thread only
        if self._db_vault is not None:
            # Only the connection: the cipher belongs to the profile's session.
            vault, self._db_vault = self._db_vault, None
            conn = vault.conn if vault.is_open else None
            if conn is not None:
                conn.close()

    @Slot(object)
    def _deliver(self, key: int) -> None:
        with self._lock:
            job = self._jobs.pop(key)
            self._pending -= 1
            now_idle = self._pending == 0
        if owner_gone(job.owner):
            pass  # the owner was deleted or closed meanwhile: nobody is left to tell
        elif job.error is None:
            if job.on_success is not None:
                job.on_success(job.result)
        elif job.on_failure is not None:
            job.on_failure(job.error)
        else:
            emit(self.failed, job.error)
        if now_idle:
            emit(self.idle)
