"""Every path OneSEND uses, in one place: the data folder and the owner-only files under it."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "OneSEND"
DATA_DIR_ENV = "ONESEND_DATA_DIR"


def default_data_dir() -> Path:
    """The platform's per-user data folder (e.g. ~/.local/share/OneSEND on Linux)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir` wins, then ONESEND_DATA_DIR, then the platform default."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().absolute()
    return default_data_dir()


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by its owner only; an existing folder is left as is.

    `--data-dir` may name a folder that already exists and is shared (a team drive, /tmp):
    its mode is never changed. What OneSEND keeps there lives in folders it creates itself
    (`profiles/`, `profiles/NAME/`, `crash-reports/`), each made owner-only (0700) when made,
    and in owner-only files (0600).
    """
    try:
        path.mkdir(parents=True, exist_ok=False, mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise
        return path
    if sys.platform != "win32":
        path.chmod(0o700)  # we made it: whatever the umask, only its owner may enter
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` atomically: owner-only temp file beside it, fsync, rename, fsync the folder."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if sys.platform != "win32":
                os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (a no-op where directories cannot be opened)."""
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe_os_error(exc: OSError) -> str:
    """One sentence for an operating-system error met outside the vault (names files only)."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"The disk is full{where}: what was being written was not saved; free some "
                "space and try again.")
    return f"{exc.strerror or 'The operating system refused'}{where}."
