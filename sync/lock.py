"""One sync of a profile at a time, with a lock that cannot outlive the process holding it.

The lock is the operating system's: `flock` on `sync.lock` in the profile's folder (POSIX), or
`msvcrt.locking` on its first byte (Windows), held for the whole run. The kernel lets go of it
when the process ends however it ends (SIGKILL, a crash, power loss), so a killed sync never
blocks the next one, and no clock is read: a wrong or changed wall clock cannot matter.
The file is empty; only the lock on it means anything. Each `SyncLock` opens its own file
description, so two syncs of one profile also exclude each other inside one process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

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
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise SyncError(f"OneSEND cannot use {self.path} to keep to one sync at a time "
                            f"({exc.strerror or 'cannot open it'}).") from exc
        try:
            _lock(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)  # closing alone would release it too

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise SyncBusy(BUSY) from None

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy(BUSY) from None

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
