"""The count of wrong passwords for one profile (`throttle.json`), so the growing delay between
attempts survives a restart and is shared by every process trying at once."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop.errors import TooManyAttempts
from desktop.paths import write_private_file

THROTTLE_FILE = "throttle.json"
THROTTLE_LOCK = "throttle.lock"
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 300


def unlock_delay(failures: int) -> int:
    """Seconds to wait after `failures` wrong passwords in a row: 0, 0, 2, 4, 8 … 300."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS + 1), MAX_DELAY_SECONDS))


class AttemptCounter:
    """The wrong-password counter in one profile's folder."""

    def __init__(self, folder: Path, clock: Callable[[], float]) -> None:
        self.folder = folder
        self.clock = clock

    def read(self) -> tuple[int, float]:
        try:
            data = json.loads((self.folder / THROTTLE_FILE).read_bytes())
            return int(data["failures"]), float(data["last_failure"])
        except FileNotFoundError:
            return 0, 0.0
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            # A damaged counter is treated as the worst case rather than as a reset.
            return FREE_ATTEMPTS + 8, self.clock()

    def count_attempt(self) -> tuple[int, OSError | None]:
        """Wait out the delay or refuse; else count this attempt as a failure until it succeeds.

        Read, check and increment happen under one lock, so eight processes trying at once
        are counted eight times and only those the delay allows are tried. When the count
        cannot be written (a full disk) the attempt is still tried, so the owner of a full
        disk is not locked out of their records; the error is returned to be said.
        """
        with throttle_lock(self.folder):
            failures, last = self.read()
            delay = unlock_delay(failures)
            remaining = delay - max(0.0, self.clock() - last)
            if delay and remaining > 0:
                raise TooManyAttempts(
                    f"Too many wrong passwords: wait {int(remaining) + 1} seconds before trying "
                    "again."
                )
            failures += 1
            try:
                self._write(failures, self.clock())
            except OSError as exc:
                return failures, exc
        return failures, None

    def uncount(self) -> None:
        """Take back an attempt counted for a profile found altered (not a wrong password)."""
        with throttle_lock(self.folder), contextlib.suppress(OSError):
            failures, last = self.read()
            if failures <= 1:
                (self.folder / THROTTLE_FILE).unlink(missing_ok=True)
            else:
                self._write(failures - 1, last)

    def _write(self, failures: int, last: float) -> None:
        payload = json.dumps({"failures": failures, "last_failure": last}).encode()
        write_private_file(self.folder / THROTTLE_FILE, payload)

    def clear(self) -> None:
        with throttle_lock(self.folder):
            (self.folder / THROTTLE_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def throttle_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the profile's wrong-password counter, across processes."""
    try:
        fd = os.open(folder / THROTTLE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # A full disk cannot hold the lock file either; the counter's own write then fails
        # too, and the attempt is tried uncounted (see `AttemptCounter.count_attempt`).
        yield
        return
    try:
        if sys.platform == "win32":
            import msvcrt  # noqa: PLC0415 - Windows only

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue  # LK_LOCK gives up after ten seconds; the counter must not
        else:
            import fcntl  # noqa: PLC0415 - POSIX only

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
