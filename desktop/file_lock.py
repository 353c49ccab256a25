"""An exclusive lock that cannot outlive its holder: the operating system's, on a file of its own.

`flock` (POSIX) or `msvcrt.locking` on the first byte (Windows), non-blocking, on a file that
holds nothing; the kernel drops it when the descriptor is closed or the process ends, however
it ends, and no clock is read. The profile's owner (`desktop/owner.py`) and one sync at a time
(`sync/lock.py`) both stand on it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


def try_lock(path: Path) -> int | None:
    """The open descriptor now holding the lock on `path`, or None when another holds it.

    OSError when the file cannot be opened at all.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt  # noqa: PLC0415 - Windows only

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl  # noqa: PLC0415 - POSIX only

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def release(fd: int) -> None:
    """Let go of a lock `try_lock` took (closing the descriptor drops it)."""
    with contextlib.suppress(OSError):
        os.close(fd)
