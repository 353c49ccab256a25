"""One sync of a profile at a time, with a lock that cannot outlive the process holding it.

The lock is the operating system's (`desktop/file_lock.py`) on `sync.lock` in the profile's
folder, held for the whole run. The kernel lets go of it
when the process ends however it ends (SIGKILL, a crash, power loss), so a killed sync never
blocks the next one, and no clock is read: a wrong or changed wall clock cannot matter.
The file is empty; only the lock on it means anything. Each `SyncLock` opens its own file
description, so two syncs of one profile also exclude each other inside one process.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from desktop import file_lock
from desktop.errors import SyncBusy, SyncError

LOCK_FILE = "sync.lock"
BUSY = "Another sync of this profile is running; wait for it to finish."


class SyncLock:
    """`with SyncLock(profile_folder):` holds the profile's sync lock, or raises SyncBusy."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            fd = file_lock.try_lock(self.path)
        except OSError as exc:
            raise SyncError(f"OneSEND cannot use {self.path} to keep to one sync at a time "
                            f"({exc.strerror or 'cannot open it'}).") from exc
        if fd is None:
            raise SyncBusy(BUSY)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            file_lock.release(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()

