"""Process hardening: no core dump (it would hold decrypted children's data and keys).

Python cannot wipe memory: str and bytes are immutable and may be copied by the interpreter,
so after a lock the keys and answers are dropped (no reference left) rather than overwritten.
What it can do is make sure no copy of the process's memory is written to disk by a crash.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3


def disable_core_dumps() -> None:
    """RLIMIT_CORE 0 (soft and hard) and, on Linux, PR_SET_DUMPABLE 0; best effort elsewhere."""
    try:
        import resource  # noqa: PLC0415 - POSIX only

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        libc = _libc()
        if libc is not None:
            libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def dumpable() -> int | None:
    """The process's PR_GET_DUMPABLE (Linux), or None where it cannot be asked."""
    if not sys.platform.startswith("linux"):
        return None
    libc = _libc()
    return None if libc is None else int(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name or "libc.so.6", use_errno=True)
    except OSError:
        return None
