"""The one owner of a profile: the window holds an OS lock on `owner.lock` for its session.

The lock is taken on a file of its own (never on `vault.db`, whose locks are SQLite's) and
kept open for as long as the window has the profile unlocked; the operating system drops it
when the process ends, however it ends, so it never outlives its holder. A second window on
the same profile is refused in one sentence. Commands (`onesend …`) do not take it: they work
beside the window through SQLite's own locking; only `restore --replace`, which swaps the
whole profile folder, needs the window to have let go.
"""

from __future__ import annotations

from pathlib import Path

from desktop import file_lock
from desktop.errors import ProfileInUse
from desktop.profiles import Profiles
from desktop.vault import Vault

OWNER_FILE = "owner.lock"


class OwnerLock:
    """An exclusive, non-blocking lock on PROFILE/owner.lock, held until `release`."""

    def __init__(self, fd: int, folder: Path) -> None:
        self._fd: int | None = fd
        self.folder = folder

    @classmethod
    def acquire(cls, folder: Path, profile: str) -> OwnerLock:
        fd = file_lock.try_lock(folder / OWNER_FILE)
        if fd is None:
            raise ProfileInUse(
                f"The profile {profile!r} is already open in another OneSEND window: use that "
                "window, or close it first."
            )
        return cls(fd, folder)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            file_lock.release(fd)

    def __enter__(self) -> OwnerLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def unlock_as_owner(profiles: Profiles, name: str, password: str) -> Vault:
    """The window's unlock: refuse at once if another window has the profile, then unlock.

    The returned vault carries the lock; closing the vault (locking the window) releases it.
    """
    name = profiles.choose(name)
    owner = OwnerLock.acquire(profiles.folder(name), name)
    try:
        vault = profiles.unlock(name, password)
    except BaseException:
        owner.release()
        raise
    vault.owner = owner
    return vault


def create_as_owner(profiles: Profiles, name: str, password: str) -> tuple[Vault, str]:
    """The window's create: the new profile's vault, already held by this window."""
    vault, recovery_key = profiles.create(name, password)
    try:
        vault.owner = OwnerLock.acquire(profiles.folder(name), name)
    except BaseException:
        vault.close()
        raise
    return vault, recovery_key
