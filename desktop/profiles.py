"""Profiles: one per person on a shared laptop, each an owner-only folder holding its vault.

A profile's `profile.json` keeps the Argon2id parameters and the data key wrapped twice (by
the password and by the recovery key, desktop/profile_record.py); its `throttle.json` keeps
the count of wrong passwords, so the growing delay survives a restart (desktop/throttle.py).
The password rule is desktop/passwords.py's.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from contract.canonical import now_iso
from desktop.crypto import (
    DEFAULT_KDF,
    KEY_BYTES,
    KdfParams,
    RecordCipher,
    derive_password_key,
    derive_recovery_key,
    new_recovery_key,
    normalise_recovery_key,
    unwrap_key,
    wrap_key,
)
from desktop.errors import (
    DiskFull,
    InvalidInput,
    OneSendError,
    ProfileError,
    TamperedData,
    WrongPassword,
    WrongRecoveryKey,
)
from desktop.passwords import (
    check_password_strength,
)
from desktop.paths import ensure_private_dir, fsync_dir, write_private_file
from desktop.profile_record import (
    PROFILE_FILE,
    PROFILE_FORMAT,
    ProfileRecord,
    key_context,
    password_check_value,
)
from desktop.throttle import (
    FREE_ATTEMPTS,
    MAX_DELAY_SECONDS,
    THROTTLE_FILE,
    THROTTLE_LOCK,
    AttemptCounter,
    unlock_delay,
)
from desktop.vault import Vault

__all__ = [
    "FREE_ATTEMPTS",
    "MAX_DELAY_SECONDS",
    "PROFILE_FILE",
    "PROFILE_FORMAT",
    "REKEY_FILE",
    "THROTTLE_FILE",
    "THROTTLE_LOCK",
    "VAULT_FILE",
    "ProfileRecord",
    "Profiles",
    "glob_escape",
    "key_context",
    "password_check_value",
    "unlock_delay",
]

REKEY_FILE = "profile.json.rekey"
VAULT_FILE = "vault.db"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


class Profiles:
    """The profiles under one data folder."""

    def __init__(
        self,
        data_dir: Path,
        *,
        kdf: KdfParams = DEFAULT_KDF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "profiles"
        self._kdf = kdf
        self._clock = clock

    # -- listing ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            # A folder still being made (".NAME.creating-…") is never a profile.
            if _NAME.match(entry.name) and entry.is_dir() and (entry / PROFILE_FILE).is_file()
        )

    def choose(self, name: str | None) -> str:
        """The profile named, or the only one; one sentence when that is not possible."""
        names = self.names()
        if name:
            if name not in names:
                raise ProfileError(f"There is no profile called {name!r} in {self.data_dir}.")
            return name
        if not names:
            raise ProfileError(
                f"There is no profile in {self.data_dir} yet: create one with "
                "'onesend profile create NAME --password-stdin'."
            )
        if len(names) > 1:
            raise ProfileError(
                "There are several profiles (" + ", ".join(names) + "): choose one with --profile."
            )
        return names[0]

    def folder(self, name: str) -> Path:
        return self.root / name

    # -- create, unlock, change, recover -----------------------------------------------------

    def create(self, name: str, password: str) -> tuple[Vault, str]:
        """Make a profile and its empty vault; return the open vault and the recovery key.

        The recovery key is returned once and never stored: only what it wraps is.
        """
        if not _NAME.match(name):
            raise InvalidInput(
                "A profile name is 1 to 64 letters, digits, spaces, dots, dashes or "
                "underscores, starting with a letter or digit."
            )
        check_password_strength(password, (name,))
        folder = self.folder(name)
        if (folder / PROFILE_FILE).exists():
            raise ProfileError(f"A profile called {name!r} already exists in {self.data_dir}.")
        try:
            ensure_private_dir(self.data_dir)
            ensure_private_dir(self.root)
            self._clear_unfinished(name)
        except OSError as exc:
            raise self._create_failed(name, exc) from exc

        data_key = secrets.token_bytes(KEY_BYTES)
        recovery_key = new_recovery_key()
        password_salt, recovery_salt = os.urandom(16), os.urandom(16)
        profile_id = uuid.uuid4().hex
        password_kek = derive_password_key(password, password_salt, self._kdf)
        record = ProfileRecord(
            name=name,
            profile_id=profile_id,
            created_at=now_iso(),
            kdf=self._kdf,
            password_salt=password_salt,
            wrapped_by_password=wrap_key(
                password_kek,
                data_key,
                key_context(profile_id, "password"),
            ),
            recovery_salt=recovery_salt,
            wrapped_by_recovery=wrap_key(
                derive_recovery_key(normalise_recovery_key(recovery_key), recovery_salt),
                data_key,
                key_context(profile_id, "recovery"),
            ),
            password_check=password_check_value(password_kek),
        )
        # All or nothing: the profile is built in a hidden folder beside the others and
        # renamed into place whole, so a full disk or a crash never leaves a name half-used.
        staging: Path | None = None
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.creating-", dir=self.root))
            staging.chmod(0o700)
            vault = Vault(staging / VAULT_FILE, RecordCipher(data_key), name, create=True)
            try:
                (staging / VAULT_FILE).chmod(0o600)
                with vault.write() as conn:
                    vault.set_meta(conn, "profile_id", profile_id)
                    vault.audit(conn, "profile.create", None)
            finally:
                vault.close()  # the last connection: the WAL is folded into vault.db
            # The profile file is written last: until it exists, a folder is not a profile.
            record.write(staging)
            fsync_dir(staging)
            try:
                staging.rename(folder)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise ProfileError(
                        f"A profile called {name!r} already exists in {self.data_dir}.") from exc
                raise
            staging = None
            fsync_dir(self.root)
        except OSError as exc:
            raise self._create_failed(name, exc) from exc
        except DiskFull as exc:
            raise self._create_failed(name, OSError(errno.ENOSPC, "full")) from exc
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        return self._open(folder, record, data_key), recovery_key

    def _create_failed(self, name: str, exc: OSError) -> OneSendError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return DiskFull(f"The disk holding {self.data_dir} is full: the profile {name!r} "
                            "was not created; free some space and try again.")
        return ProfileError(f"The profile {name!r} could not be created in {self.data_dir} "
                            f"({exc.strerror or 'the disk refused'}); nothing was left behind.")

    def _clear_unfinished(self, name: str) -> None:
        """Before creating NAME: what an interrupted create left behind is cleared away.

        A hidden ".NAME.creating-…" folder never became a profile (its recovery key was never
        shown) and is deleted. A NAME folder without a profile file (left by an older version)
        is kept, renamed aside, never deleted: it may hold something someone wants.
        """
        for entry in self.root.glob(f".{glob_escape(name)}.creating-*"):
            shutil.rmtree(entry, ignore_errors=True)
        folder = self.folder(name)
        if folder.is_dir() and not (folder / PROFILE_FILE).exists():
            folder.rename(self.root / f".{name}.incomplete-{uuid.uuid4().hex[:8]}")

    def unlock(self, name: str, password: str) -> Vault:
        """Open the named profile's vault with its password (throttled after wrong guesses)."""
        folder = self.folder(self.choose(name))
        record = ProfileRecord.read(folder)
        return self._open(folder, record, self._password_data_key(folder, record, password))

    def change_password(self, name: str, old_password: str, new_password: str) -> None:
        """Re-wrap the data key under a new password; no record is touched."""
        folder = self.folder(self.choose(name))
        check_password_strength(new_password, (folder.name,))
        record = ProfileRecord.read(folder)
        data_key = self._password_data_key(folder, record, old_password)
        self._rewrap_password(folder, record, data_key, new_password, "profile.change-password")

    def recover(self, name: str, recovery_key: str, new_password: str) -> None:
        """Set a new password using the recovery key shown when the profile was created."""
        folder = self.folder(self.choose(name))
        check_password_strength(new_password, (folder.name,))
        record = ProfileRecord.read(folder)
        raw = normalise_recovery_key(recovery_key)
        kek = derive_recovery_key(raw, record.recovery_salt)
        data_key = unwrap_key(kek, record.wrapped_by_recovery, record.context("recovery"))
        if data_key is None:
            raise WrongRecoveryKey(
                f"That recovery key does not belong to the profile {record.name!r}."
            )
        self._rewrap_password(folder, record, data_key, new_password, "profile.recover")
        self._attempts(folder).clear()

    # -- re-key and rotate the recovery key ----------------------------------------------------

    def rekey(
        self, name: str, old_password: str, new_password: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Change the password AND the data key: every record, index and MAC is re-sealed
        under a new key in one transaction, and a new recovery key is made (returned once).

        Afterwards neither an old copy of `profile.json` with the old password nor the old
        recovery key opens anything in the vault.
        """
        from desktop.rekey import rekey_vault  # noqa: PLC0415 - builds on assessments/outbox

        check_password_strength(new_password)
        folder = self.folder(self.choose(name))
        record = ProfileRecord.read(folder)
        old_key = self._password_data_key(folder, record, old_password)
        new_key = secrets.token_bytes(KEY_BYTES)
        recovery_key = new_recovery_key()
        updated = self._wrapped(record, new_key, password=new_password,
                                recovery_key=recovery_key)
        vault = self._open(folder, record, old_key)
        try:
            # Written before the commit: if the process dies between the commit and the
            # profile file's replacement, the next unlock (with the old password) finishes.
            pending = {**updated.to_json(), "wrapped_by_previous_key": base64.b64encode(
                wrap_key(old_key, new_key, record.context("rekey"))).decode("ascii")}
            write_private_file(folder / REKEY_FILE, json.dumps(pending).encode("utf-8"))
            try:
                rekey_vault(vault, RecordCipher(new_key), progress)
            except BaseException:
                (folder / REKEY_FILE).unlink(missing_ok=True)
                raise
            updated.write(folder)
            (folder / REKEY_FILE).unlink(missing_ok=True)
        finally:
            vault.close()
        return recovery_key

    def rotate_recovery_key(self, name: str, password: str) -> str:
        """Rotate the recovery key: a new one is returned (shown once); the old one stops
        working at once. (An old copy of `profile.json` still holds the old one's wrap:
        `rekey` makes such copies useless.)"""
        folder = self.folder(self.choose(name))
        record = ProfileRecord.read(folder)
        data_key = self._password_data_key(folder, record, password)
        recovery_key = new_recovery_key()
        updated = self._wrapped(record, data_key, recovery_key=recovery_key)
        vault = self._open(folder, record, data_key)
        try:
            updated.write(folder)
            with vault.write() as conn:
                vault.audit(conn, "profile.new-recovery-key", None)
        finally:
            vault.close()
        return recovery_key

    def _wrapped(
        self, record: ProfileRecord, data_key: bytes, *, password: str | None = None,
        recovery_key: str | None = None,
    ) -> ProfileRecord:
        """`record` with the data key wrapped afresh by a new password and/or recovery key."""
        updated = record
        if password is not None:
            salt = os.urandom(16)
            kdf = self._kdf if _stronger(self._kdf, record.kdf) else record.kdf
            kek = derive_password_key(password, salt, kdf)
            updated = dataclasses.replace(
                updated, kdf=kdf, password_salt=salt, wrapped_by_password=wrap_key(
                    kek, data_key, record.context("password")),
                password_check=password_check_value(kek))
        if recovery_key is not None:
            salt = os.urandom(16)
            updated = dataclasses.replace(
                updated, recovery_salt=salt, wrapped_by_recovery=wrap_key(
                    derive_recovery_key(normalise_recovery_key(recovery_key), salt), data_key,
                    record.context("recovery")))
        return updated

    def _finish_rekey(self, folder: Path, record: ProfileRecord, data_key: bytes) -> bytes:
        """After a re-key interrupted between its commit and the profile file's replacement:
        the data key the vault is now under (and the profile file completed); else `data_key`
        (and a re-key that never committed is forgotten)."""
        pending_path = folder / REKEY_FILE
        if not pending_path.exists():
            return data_key
        try:
            pending = json.loads(pending_path.read_bytes())
            wrapped = base64.b64decode(pending.pop("wrapped_by_previous_key"), validate=True)
            updated = ProfileRecord.from_json(pending, pending_path)
        except (ValueError, KeyError, TypeError, AttributeError, TamperedData):
            pending_path.unlink(missing_ok=True)
            return data_key
        new_key = unwrap_key(data_key, wrapped, record.context("rekey"))
        if new_key is None:
            return data_key
        if _vault_is_under(folder / VAULT_FILE, data_key, record.name):
            pending_path.unlink(missing_ok=True)
            return data_key
        if not _vault_is_under(folder / VAULT_FILE, new_key, record.name):
            return data_key
        updated.write(folder)
        pending_path.unlink(missing_ok=True)
        return new_key

    # -- internals ---------------------------------------------------------------------------

    def _password_data_key(self, folder: Path, record: ProfileRecord, password: str) -> bytes:
        # Counted before it is tried, under a lock: concurrent guesses cannot share a window.
        failures, unwritten = self._attempts(folder).count_attempt()
        kek = derive_password_key(password, record.password_salt, record.kdf)
        data_key = unwrap_key(kek, record.wrapped_by_password, record.context("password"))
        # The check value only explains a failure; it never refuses a key that opens.
        check = record.password_check
        if data_key is None and check is not None and (
                hmac.compare_digest(password_check_value(kek), check)
                or self._kdf_altered(record, password)):
            # The password is right (its check matches) but the key it wraps does not open:
            # the wrapped key, the profile id bound to it, or the parameters were altered.
            if unwritten is None:
                self._attempts(folder).uncount()
            raise TamperedData(self._altered(record))
        if data_key is None and unwritten is not None:
            raise WrongPassword(
                f"That password does not unlock the profile {record.name!r} (and the disk "
                f"holding it could not be written: {unwritten.strerror or 'a disk error'}).")
        if data_key is None:
            delay = unlock_delay(failures)
            later = f" Wait {delay} seconds before trying again." if delay else ""
            raise WrongPassword(
                f"That password does not unlock the profile {record.name!r}.{later}"
            )
        self._attempts(folder).clear()
        return data_key

    def _kdf_altered(self, record: ProfileRecord, password: str) -> bool:
        """Whether the password's check matches under this build's own Argon2id parameters.

        The profile's parameters are read from the file; when they differ from the ones this
        build writes and the check then matches, it is the parameters that were altered.
        """
        if record.password_check is None or record.kdf == self._kdf:
            return False
        kek = derive_password_key(password, record.password_salt, self._kdf)
        return hmac.compare_digest(password_check_value(kek), record.password_check)

    @staticmethod
    def _altered(record: ProfileRecord) -> str:
        return (f"The profile {record.name!r} has been altered: its profile.json no longer "
                "matches its password, so it cannot be opened (this was not counted as a wrong "
                "password); restore the profile's folder from a backup.")

    def _rewrap_password(
        self, folder: Path, record: ProfileRecord, data_key: bytes, password: str, action: str
    ) -> None:
        salt = os.urandom(16)
        kdf = self._kdf if _stronger(self._kdf, record.kdf) else record.kdf
        kek = derive_password_key(password, salt, kdf)
        wrapped = wrap_key(kek, data_key, record.context("password"))
        updated = ProfileRecord(record.name, record.profile_id, record.created_at, kdf, salt,
                                wrapped, record.recovery_salt, record.wrapped_by_recovery,
                                password_check_value(kek))
        vault = self._open(folder, record, data_key)
        try:
            updated.write(folder)
            with vault.write() as conn:
                vault.audit(conn, action, None)
        finally:
            vault.close()

    def _open(self, folder: Path, record: ProfileRecord, data_key: bytes) -> Vault:
        data_key = self._finish_rekey(folder, record, data_key)
        vault = Vault(folder / VAULT_FILE, RecordCipher(data_key), record.name)
        if not vault.key_matches():
            vault.close()
            raise ProfileError(
                f"The profile file of {record.name!r} does not match its vault: it is an older "
                "copy, from before the vault was re-keyed; use the current profile file.")
        return vault

    def _attempts(self, folder: Path) -> AttemptCounter:
        return AttemptCounter(folder, self._clock)



def _vault_is_under(path: Path, data_key: bytes, profile: str) -> bool:
    """Whether the vault's rows verify under this data key."""
    try:
        with Vault(path, RecordCipher(data_key), profile) as vault:
            return vault.key_matches()
    except OneSendError:
        return False


def glob_escape(text: str) -> str:
    """`text` matched literally by Path.glob."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _stronger(a: KdfParams, b: KdfParams) -> bool:
    return (a.memory_kib, a.iterations) > (b.memory_kib, b.iterations)
