"""Backups a SENCO can use: one encrypted file per profile, made online, verified, restorable.

A backup is a zip (stored, not compressed: everything in it is already encrypted or holds no
secret) of three members:

- ``onesend-backup.json`` — what it is: format, profile name and id, when it was made, and
  the size and SHA-256 of the two other members;
- ``profile.json`` — the profile's wrapped keys and key-derivation parameters, exactly as on
  disk, so the backup opens with the password or the recovery key on another computer;
- ``vault.db`` — a consistent copy of the vault made through SQLite's online backup API while
  the window (or a command) may still be writing; every blob in it stays AES-256-GCM sealed.

Nothing is ever decrypted to disk: the copy and the zip are built in an owner-only folder
beside the destination, the zip is read back and checked (hashes, ``quick_check``, every
summary and every revision decrypted) and only then renamed into place. Restoring checks the
same before anything is moved, builds the profile in a hidden folder and renames it into place;
an existing profile is never overwritten silently (``replace`` moves it aside, whole).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contract.canonical import now_iso
from desktop.crypto import (
    RecordCipher,
    derive_password_key,
    derive_recovery_key,
    normalise_recovery_key,
    unwrap_key,
)
from desktop.errors import (
    BadBackup,
    CorruptVault,
    InvalidInput,
    OneSendError,
    ProfileError,
    TamperedData,
    WrongPassword,
    WrongRecoveryKey,
)
from desktop.owner import OwnerLock
from desktop.passwords import check_password_strength
from desktop.paths import ensure_private_dir, fsync_dir
from desktop.profiles import PROFILE_FILE, VAULT_FILE, ProfileRecord, Profiles
from desktop.vault import RESTORE_HOW, Vault

BACKUP_FORMAT = "onesend-backup"
BACKUP_VERSION = 1
BACKUP_SUFFIX = ".onesend-backup"
MANIFEST = "onesend-backup.json"
MEMBERS = (MANIFEST, PROFILE_FILE, VAULT_FILE)
MAX_SMALL_MEMBER = 64 * 1024
LAST_BACKUP_KEY = "last_backup_at"
REMIND_AFTER = timedelta(days=7)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds (and, after a restore, where the replaced profile went)."""

    path: Path
    profile: str
    created_at: str
    assessments: int
    revisions: int
    replaced_to: Path | None = None


# -- making a backup -----------------------------------------------------------------------------


def create_backup(vault: Vault, folder: Path, out: Path) -> BackupInfo:
    """Write a verified backup of the open `vault` (profile folder `folder`) to `out`.

    Runs on the thread that owns `vault`'s connection (the window's database thread).
    """
    out = out.expanduser().absolute()
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder: give a file name for the backup.")
    if not out.parent.is_dir():
        raise InvalidInput(f"There is no folder {out.parent} to write the backup in.")
    profile_bytes = _read_small(folder / PROFILE_FILE)
    record = ProfileRecord.from_json(_json(profile_bytes, folder / PROFILE_FILE),
                                     folder / PROFILE_FILE)
    try:
        work = Path(tempfile.mkdtemp(prefix=".onesend-backup-", dir=out.parent))
    except OSError as exc:
        raise _write_failed(out, exc) from exc
    try:
        work.chmod(0o700)
        copy = work / VAULT_FILE
        target = sqlite3.connect(copy)
        try:
            with vault.errors():
                vault.conn.backup(target)  # online and consistent: one read transaction
                # A file that stands alone: no -wal or -shm needed beside it.
                target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        copy.chmod(0o600)
        created_at = now_iso()
        manifest = {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "profile": record.name,
            "profile_id": record.profile_id,
            "created_at": created_at,
            "files": {
                PROFILE_FILE: _describe_bytes(profile_bytes),
                VAULT_FILE: _describe_file(copy),
            },
        }
        staged = work / "backup.zip"
        _write_zip(staged, manifest, profile_bytes, copy)
        copy.unlink()
        # Verified as written: read the file back and open everything in it.
        counts = verify_backup(staged, lambda _record: vault.cipher, work / "verify")
        staged.replace(out)
        fsync_dir(out.parent)
    except OSError as exc:
        raise _write_failed(out, exc) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with vault.write() as conn:
        vault.set_meta(conn, LAST_BACKUP_KEY, created_at)
        vault.audit(conn, "profile.backup", None)
    return BackupInfo(out, record.name, created_at, *counts)


def last_backup_at(vault: Vault) -> str | None:
    """When this profile was last backed up (UTC, ISO 8601), or None if never."""
    return vault.meta(LAST_BACKUP_KEY)


def backup_is_due(last: str | None, created_at: str, now: datetime | None = None) -> bool:
    """A reminder is due when the last backup (or, never backed up, the profile) is a week old."""
    since = last or created_at
    try:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return True
    return (now or datetime.now(tz=UTC)) - moment > REMIND_AFTER


def _write_zip(path: Path, manifest: dict[str, Any], profile_bytes: bytes, copy: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
            archive.writestr(PROFILE_FILE, profile_bytes)
            with archive.open(VAULT_FILE, "w", force_zip64=True) as member, \
                    copy.open("rb") as source:
                shutil.copyfileobj(source, member, _CHUNK)
        handle.flush()
        os.fsync(handle.fileno())


def _write_failed(out: Path, exc: OSError) -> OneSendError:
    from desktop.paths import describe_os_error  # noqa: PLC0415 - one sentence for the OS

    return InvalidInput(f"The backup could not be written to {out}: "
                        f"{describe_os_error(exc)} Nothing was changed.")


# -- reading and checking a backup ------------------------------------------------------------


@dataclass(frozen=True)
class _Backup:
    manifest: dict[str, Any]
    profile_bytes: bytes
    record: ProfileRecord


def _bad(path: Path, what: str = "damaged, incomplete or not a OneSEND backup") -> BadBackup:
    return BadBackup(f"The file {path} is {what}: nothing was restored or changed.")


def _read_backup(path: Path, archive: zipfile.ZipFile) -> _Backup:
    names = sorted(info.filename for info in archive.infolist())
    if names != sorted(MEMBERS):
        raise _bad(path)
    for small in (MANIFEST, PROFILE_FILE):
        if archive.getinfo(small).file_size > MAX_SMALL_MEMBER:
            raise _bad(path)
    manifest = _json(archive.read(MANIFEST), path)
    if (not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT
            or not isinstance(manifest.get("files"), dict)):
        raise _bad(path)
    if manifest.get("version") != BACKUP_VERSION:
        raise BadBackup(f"The backup {path} was made by a newer version of OneSEND: update "
                        "OneSEND to restore it; nothing was changed.")
    profile_bytes = archive.read(PROFILE_FILE)
    if _describe_bytes(profile_bytes) != manifest["files"].get(PROFILE_FILE):
        raise _bad(path)
    try:
        record = ProfileRecord.from_json(_json(profile_bytes, path), path)
    except TamperedData as exc:
        raise _bad(path) from exc
    if record.name != manifest.get("profile") or record.profile_id != manifest.get("profile_id"):
        raise _bad(path)
    return _Backup(manifest, profile_bytes, record)


def _extract_vault(path: Path, archive: zipfile.ZipFile, backup: _Backup, dest: Path) -> None:
    """Copy vault.db out of the archive (owner-only), checking its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as out, archive.open(VAULT_FILE) as member:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    expected = backup.manifest["files"].get(VAULT_FILE)
    if {"size": size, "sha256": digest.hexdigest()} != expected:
        raise _bad(path)


def verify_backup(
    path: Path, unlock: Callable[[ProfileRecord], RecordCipher], work: Path,
) -> tuple[int, int]:
    """Open the backup at `path` in `work` (a private scratch folder, emptied afterwards) and
    check all of it; return (assessments, revisions). BadBackup when anything is wrong."""
    work.mkdir(mode=0o700, exist_ok=True)
    try:
        with _open_zip(path) as archive, _reading(path):
            backup = _read_backup(path, archive)
            cipher = unlock(backup.record)
            _extract_vault(path, archive, backup, work / VAULT_FILE)
        return check_vault_file(work / VAULT_FILE, cipher, backup.record.profile_id, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_vault_file(
    db: Path, cipher: RecordCipher, profile_id: str, source: Path,
) -> tuple[int, int]:
    """quick_check, the profile id, and every summary and revision decrypted (read-only)."""
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _bad(source) from exc
    try:
        if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
            raise _bad(source)
        rows = conn.execute("SELECT value FROM meta WHERE key = 'profile_id'").fetchall()
        if rows != [(profile_id,)]:
            raise _bad(source)
        assessments = revisions = 0
        for record_id, revision, blob in conn.execute(
                "SELECT id, current_revision, CAST(summary AS BLOB) FROM assessments"):
            cipher.open(blob, "summary", record_id, revision)
            assessments += 1
        for record_id, revision, blob in conn.execute(
                "SELECT assessment_id, revision, CAST(body AS BLOB) FROM revisions"):
            cipher.open(blob, "answers", record_id, revision)
            revisions += 1
    except TamperedData as exc:
        raise _bad(source, "altered or damaged (a record in it does not decrypt)") from exc
    except sqlite3.Error as exc:
        raise _bad(source) from exc
    finally:
        conn.close()
    return assessments, revisions


# -- restoring -----------------------------------------------------------------------------------


def password_unlock(password: str) -> Callable[[ProfileRecord], RecordCipher]:
    def unlock(record: ProfileRecord) -> RecordCipher:
        kek = derive_password_key(password, record.password_salt, record.kdf)
        key = unwrap_key(kek, record.wrapped_by_password, record.context("password"))
        if key is None:
            raise WrongPassword(f"That password does not unlock this backup of the profile "
                                f"{record.name!r}; nothing was changed.")
        return RecordCipher(key)

    return unlock


def recovery_unlock(recovery_key: str) -> Callable[[ProfileRecord], RecordCipher]:
    raw = normalise_recovery_key(recovery_key)

    def unlock(record: ProfileRecord) -> RecordCipher:
        key = unwrap_key(derive_recovery_key(raw, record.recovery_salt),
                         record.wrapped_by_recovery, record.context("recovery"))
        if key is None:
            raise WrongRecoveryKey(f"That recovery key does not unlock this backup of the "
                                   f"profile {record.name!r}; nothing was changed.")
        return RecordCipher(key)

    return unlock


def restore_with_recovery_key(
    profiles: Profiles, path: Path, recovery_key: str, new_password: str, *,
    replace: bool = False,
) -> BackupInfo:
    """Restore with the recovery key (the password forgotten), then set `new_password`."""
    check_password_strength(new_password)  # before anything is restored
    info = restore_backup(profiles, path, recovery_unlock(recovery_key), replace=replace)
    profiles.recover(info.profile, recovery_key, new_password)
    return info


def backup_profile_name(path: Path) -> str:
    """The profile a backup file holds (read from its manifest and checked)."""
    with _open_zip(path) as archive, _reading(path):
        return _read_backup(path, archive).record.name


def restore_backup(
    profiles: Profiles,
    path: Path,
    unlock: Callable[[ProfileRecord], RecordCipher],
    *,
    replace: bool = False,
    owner: OwnerLock | None = None,
) -> BackupInfo:
    """Restore the backup at `path` as its profile in `profiles`, after checking all of it.

    An existing profile of that name is refused unless `replace`; then it is first moved,
    whole, to DATA_DIR/replaced/NAME-TIME/ (after taking its owner lock, so never from under
    a window; `owner` is that lock when the caller already holds it).
    """
    path = path.expanduser().absolute()
    with _open_zip(path) as archive, _reading(path):
        backup = _read_backup(path, archive)
    name = backup.record.name
    folder = profiles.folder(name)
    exists = (folder / PROFILE_FILE).exists()
    if exists and not replace:
        raise ProfileError(
            f"A profile called {name!r} already exists here: nothing was restored; to replace "
            "it with this backup add --replace (the current one is kept aside, not deleted).")
    ensure_private_dir(profiles.data_dir)
    ensure_private_dir(profiles.root)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.restoring-", dir=profiles.root))
    held: OwnerLock | None = None
    replaced_to: Path | None = None
    try:
        staging.chmod(0o700)
        with _open_zip(path) as archive, _reading(path):
            backup = _read_backup(path, archive)
            cipher = unlock(backup.record)
            _extract_vault(path, archive, backup, staging / VAULT_FILE)
        counts = check_vault_file(staging / VAULT_FILE, cipher, backup.record.profile_id, path)
        fd = os.open(staging / PROFILE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(backup.profile_bytes)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(staging)
        if folder.exists():
            held = owner or OwnerLock.acquire(folder, name)
            aside = ensure_private_dir(profiles.data_dir / "replaced")
            replaced_to = aside / f"{name}-{datetime.now(tz=UTC).strftime('%Y%m%dT%H%M%SZ')}"
            folder.rename(replaced_to)
        try:
            staging.rename(folder)
        except OSError:
            if replaced_to is not None:
                replaced_to.rename(folder)
                replaced_to = None
            raise
        fsync_dir(profiles.root)
    except OSError as exc:
        from desktop.paths import describe_os_error  # noqa: PLC0415

        raise ProfileError(f"The backup could not be restored: {describe_os_error(exc)} "
                           "Nothing was changed.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if held is not None and held is not owner:
            held.release()
    # Recorded in the restored vault (no child data): when, and from which backup time.
    with contextlib.suppress(OneSendError):  # the restore itself has succeeded
        restored = Vault(folder / VAULT_FILE, cipher, name)
        try:
            with restored.write() as conn:
                restored.audit(conn, "profile.restore", None)
        finally:
            restored.conn.close()  # only the connection: the cipher may be the window's
    return BackupInfo(path, name, str(backup.manifest.get("created_at", "")), *counts,
                      replaced_to=replaced_to)


# -- helpers ---------------------------------------------------------------------------------------


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path, "r")
    except FileNotFoundError as exc:
        raise InvalidInput(f"There is no backup file at {path}.") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _bad(path) from exc


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A member that does not read back (bad CRC, cut short) means a damaged backup."""
    try:
        yield
    except (zipfile.BadZipFile, EOFError, KeyError, struct.error, zlib.error) as exc:
        raise _bad(path) from exc


def _json(raw: bytes, source: Path) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(source) from exc


def _read_small(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"The profile file {path} could not be read.") from exc


def _describe_bytes(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _describe_file(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}



# -- checking the open vault ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """What `onesend check` and the window's check at unlock found."""

    quick_check_ok: bool
    assessments: int
    revisions: int
    damaged: tuple[str, ...]  # ids of assessments with a blob that does not decrypt

    @property
    def ok(self) -> bool:
        return self.quick_check_ok and not self.damaged

    def sentence(self, path: Path) -> str:
        if not self.quick_check_ok:
            return f"The vault file {path} is damaged (SQLite's quick_check failed): {RESTORE_HOW}."
        if self.damaged:
            return (f"{len(self.damaged)} assessment(s) do not decrypt "
                    f"({', '.join(self.damaged)}); the others are whole: to recover them, "
                    f"{RESTORE_HOW}.")
        return (f"The vault is whole: SQLite's quick_check found no damage, and all "
                f"{self.assessments} assessments and {self.revisions} revisions decrypt.")

    def to_json(self) -> dict[str, Any]:
        return {"quick_check": "ok" if self.quick_check_ok else "damaged",
                "assessments": self.assessments, "revisions": self.revisions,
                "damaged": list(self.damaged)}


def check_vault(vault: Vault, *, decrypt: bool = True) -> CheckResult:
    """SQLite's quick_check over every page and (with `decrypt`) every blob opened."""
    try:
        rows = vault.read("PRAGMA quick_check")
    except CorruptVault:  # a page so damaged that SQLite refuses to walk it
        rows = []
    quick_ok = [tuple(row) for row in rows] == [("ok",)]
    if not quick_ok or not decrypt:
        return CheckResult(quick_ok, 0, 0, ())
    cipher = vault.cipher
    damaged: set[str] = set()
    assessments = revisions = 0
    for record_id, revision, blob in vault.read(
            "SELECT id, current_revision, CAST(summary AS BLOB) FROM assessments"):
        assessments += 1
        try:
            cipher.open(blob, "summary", record_id, revision)
        except TamperedData:
            damaged.add(record_id)
    for record_id, revision, blob in vault.read(
            "SELECT assessment_id, revision, CAST(body AS BLOB) FROM revisions"):
        revisions += 1
        try:
            cipher.open(blob, "answers", record_id, revision)
        except TamperedData:
            damaged.add(record_id)
    return CheckResult(True, assessments, revisions, tuple(sorted(damaged)))
