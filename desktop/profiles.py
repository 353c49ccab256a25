"""Profiles: one per person on a shared laptop, each an owner-only folder holding its vault.

A profile's `profile.json` keeps the Argon2id parameters and the data key wrapped twice (by
the password and by the recovery key); its `throttle.json` keeps the count of wrong
passwords, so the growing delay survives a restart.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import errno
import hmac
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from zxcvbn import zxcvbn

from desktop.crypto import (
    DEFAULT_KDF,
    KEY_BYTES,
    NONCE_BYTES,
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
    TooManyAttempts,
    WrongPassword,
    WrongRecoveryKey,
)
from desktop.paths import ensure_private_dir, fsync_dir, write_private_file
from desktop.vault import Vault, now_iso

PROFILE_FILE = "profile.json"
THROTTLE_FILE = "throttle.json"
REKEY_FILE = "profile.json.rekey"
THROTTLE_LOCK = "throttle.lock"
VAULT_FILE = "vault.db"
PROFILE_FORMAT = 1
MIN_PASSWORD_LENGTH = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
FREE_ATTEMPTS = 3
MAX_DELAY_SECONDS = 300


# zxcvbn's score 3 is "safely unguessable: moderate protection from an offline slow-hash
# scenario" (under 10^10 guesses); with Argon2id at ~0.5 s a guess, lower scores fall in days.
MIN_STRENGTH_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # what zxcvbn judges; a longer password is judged by its first 72
# The National Cyber Security Centre's advice: "use three random words" (NCSC, "Three
# random words", and the Cyber Aware guidance on passwords).
THREE_WORDS_ADVICE = ("three random words, such as 'orange piano lighthouse', are easy to "
                      "remember and hard to guess (the NCSC's advice)")


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str:
    """The one sentence saying why a new password will not do, or '' when it will.

    The rule: at least 10 characters, and a zxcvbn strength score of at least 3 (so no
    repeats, sequences, keyboard walks, common passwords or the profile's own name).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters: "
                f"{THREE_WORDS_ADVICE}.")
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH],
                    user_inputs=[*user_inputs, "onesend", "send", "senco"])
    if int(result["score"]) >= MIN_STRENGTH_SCORE:
        return ""
    warning = str(result["feedback"].get("warning") or "").strip().rstrip(".")
    why = f" ({warning[0].lower()}{warning[1:]})" if warning else ""
    return f"That password is too easy to guess{why}: {THREE_WORDS_ADVICE}."


def check_password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse a password too weak to protect children's health data (`password_problem`)."""
    problem = password_problem(password, user_inputs)
    if problem:
        raise InvalidInput(problem)


def unlock_delay(failures: int) -> int:
    """Seconds to wait after `failures` wrong passwords in a row: 0, 0, 2, 4, 8 … 300."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS + 1), MAX_DELAY_SECONDS))


SALT_BYTES = 16
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + 16  # nonce, the data key, the GCM tag
CHECK_BYTES = 16
_PROFILE_ID = re.compile(r"^[0-9a-f]{32}$")


def password_check_value(kek: bytes) -> bytes:
    """What tells a right password from an altered profile: 16 bytes derived from the
    password's key, stored beside the wrapped key.

    It reveals nothing the wrapped key does not (both only confirm a guess, at the same
    Argon2id cost). With it, a password whose check matches but whose wrapped key does not
    open proves the wrapped key or its binding (profile id) was altered.
    """
    derived = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                   info=b"onesend/v1/password-check").derive(kek)
    return derived[:CHECK_BYTES]


def key_context(profile_id: str, wrapper: str) -> bytes:
    """Associated data binding a wrapped key to its profile and to how it was wrapped."""
    return f"onesend/v1/data-key|{profile_id}|{wrapper}".encode()


@dataclass(frozen=True)
class ProfileRecord:
    """What `profile.json` holds: no secret in the clear, only wrapped keys and parameters."""

    name: str
    profile_id: str
    created_at: str
    kdf: KdfParams
    password_salt: bytes
    wrapped_by_password: bytes
    recovery_salt: bytes
    wrapped_by_recovery: bytes
    # Absent in profiles made before it existed: they cannot tell "altered" from "wrong".
    password_check: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")

        extra = {} if self.password_check is None else {
            "password_check": b64(self.password_check)}
        return {
            "format": PROFILE_FORMAT,
            "name": self.name,
            "profile_id": self.profile_id,
            "created_at": self.created_at,
            "kdf": {"algorithm": "argon2id", **self.kdf.to_json()},
            "password_salt": b64(self.password_salt),
            "wrapped_by_password": b64(self.wrapped_by_password),
            "recovery_salt": b64(self.recovery_salt),
            "wrapped_by_recovery": b64(self.wrapped_by_recovery),
            **extra,
        }

    @classmethod
    def from_json(cls, data: Any, source: Path) -> ProfileRecord:
        damaged = f"The profile file {source} is damaged or has been altered."
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise TamperedData(damaged)
        kdf = KdfParams.from_json(data.get("kdf"))
        if not isinstance(data.get("kdf"), dict) or data["kdf"].get("algorithm") != "argon2id":
            raise TamperedData(damaged)
        try:
            record = cls(
                name=str(data["name"]),
                profile_id=str(data["profile_id"]),
                created_at=str(data["created_at"]),
                kdf=kdf,
                password_salt=base64.b64decode(data["password_salt"], validate=True),
                wrapped_by_password=base64.b64decode(data["wrapped_by_password"], validate=True),
                recovery_salt=base64.b64decode(data["recovery_salt"], validate=True),
                wrapped_by_recovery=base64.b64decode(data["wrapped_by_recovery"], validate=True),
                password_check=(base64.b64decode(data["password_check"], validate=True)
                                if "password_check" in data else None),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TamperedData(damaged) from exc
        # What OneSEND writes has exact shapes: anything else was altered (and is said so
        # before a password is tried, so it never counts as a wrong one).
        if (len(record.password_salt) != SALT_BYTES or len(record.recovery_salt) != SALT_BYTES
                or len(record.wrapped_by_password) != WRAPPED_BYTES
                or len(record.wrapped_by_recovery) != WRAPPED_BYTES
                or not _PROFILE_ID.match(record.profile_id)
                or (record.password_check is not None
                    and len(record.password_check) != CHECK_BYTES)):
            raise TamperedData(damaged)
        return record

    def context(self, wrapper: str) -> bytes:
        return key_context(self.profile_id, wrapper)


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
                    conn.execute("INSERT INTO meta (key, value) VALUES ('profile_id', ?)",
                                 (profile_id,))
                    vault.audit(conn, "profile.create", None)
            finally:
                vault.close()  # the last connection: the WAL is folded into vault.db
            # The profile file is written last: until it exists, a folder is not a profile.
            self._write_record(staging, record)
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
        record = self._read_record(folder)
        return self._open(folder, record, self._password_data_key(folder, record, password))

    def change_password(self, name: str, old_password: str, new_password: str) -> None:
        """Re-wrap the data key under a new password; no record is touched."""
        folder = self.folder(self.choose(name))
        check_password_strength(new_password, (folder.name,))
        record = self._read_record(folder)
        data_key = self._password_data_key(folder, record, old_password)
        self._rewrap_password(folder, record, data_key, new_password, "profile.change-password")

    def recover(self, name: str, recovery_key: str, new_password: str) -> None:
        """Set a new password using the recovery key shown when the profile was created."""
        folder = self.folder(self.choose(name))
        check_password_strength(new_password, (folder.name,))
        record = self._read_record(folder)
        raw = normalise_recovery_key(recovery_key)
        kek = derive_recovery_key(raw, record.recovery_salt)
        data_key = unwrap_key(kek, record.wrapped_by_recovery, record.context("recovery"))
        if data_key is None:
            raise WrongRecoveryKey(
                f"That recovery key does not belong to the profile {record.name!r}."
            )
        self._rewrap_password(folder, record, data_key, new_password, "profile.recover")
        self._clear_failures(folder)

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
        record = self._read_record(folder)
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
            self._write_record(folder, updated)
            (folder / REKEY_FILE).unlink(missing_ok=True)
        finally:
            vault.close()
        return recovery_key

    def rotate_recovery_key(self, name: str, password: str) -> str:
        """Rotate the recovery key: a new one is returned (shown once); the old one stops
        working at once. (An old copy of `profile.json` still holds the old one's wrap:
        `rekey` makes such copies useless.)"""
        folder = self.folder(self.choose(name))
        record = self._read_record(folder)
        data_key = self._password_data_key(folder, record, password)
        recovery_key = new_recovery_key()
        updated = self._wrapped(record, data_key, recovery_key=recovery_key)
        vault = self._open(folder, record, data_key)
        try:
            self._write_record(folder, updated)
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
        self._write_record(folder, updated)
        pending_path.unlink(missing_ok=True)
        return new_key

    # -- internals ---------------------------------------------------------------------------

    def _password_data_key(self, folder: Path, record: ProfileRecord, password: str) -> bytes:
        # Counted before it is tried, under a lock: concurrent guesses cannot share a window.
        failures, unwritten = self._count_attempt(folder)
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
                self._uncount(folder)
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
        self._clear_failures(folder)
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
            self._write_record(folder, updated)
            with vault.write() as conn:
                vault.audit(conn, action, None)
        finally:
            vault.close()

    def _open(self, folder: Path, record: ProfileRecord, data_key: bytes) -> Vault:
        data_key = self._finish_rekey(folder, record, data_key)
        vault = Vault(folder / VAULT_FILE, RecordCipher(data_key), record.name)
        if not _key_matches(vault):
            vault.close()
            raise ProfileError(
                f"The profile file of {record.name!r} does not match its vault: it is an older "
                "copy, from before the vault was re-keyed; use the current profile file.")
        return vault

    def _read_record(self, folder: Path) -> ProfileRecord:
        path = folder / PROFILE_FILE
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise ProfileError(f"There is no profile at {folder}.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise TamperedData(f"The profile file {path} is damaged or has been altered.") from exc
        return ProfileRecord.from_json(data, path)

    @staticmethod
    def _write_record(folder: Path, record: ProfileRecord) -> None:
        payload = json.dumps(record.to_json(), indent=2).encode("utf-8") + b"\n"
        write_private_file(folder / PROFILE_FILE, payload)

    def _throttle(self, folder: Path) -> tuple[int, float]:
        try:
            data = json.loads((folder / THROTTLE_FILE).read_bytes())
            return int(data["failures"]), float(data["last_failure"])
        except FileNotFoundError:
            return 0, 0.0
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            # A damaged counter is treated as the worst case rather than as a reset.
            return FREE_ATTEMPTS + 8, self._clock()

    def _count_attempt(self, folder: Path) -> tuple[int, OSError | None]:
        """Wait out the delay or refuse; else count this attempt as a failure until it succeeds.

        Read, check and increment happen under one lock, so eight processes trying at once
        are counted eight times and only those the delay allows are tried. When the count
        cannot be written (a full disk) the attempt is still tried, so the owner of a full
        disk is not locked out of their records; the error is returned to be said.
        """
        with _throttle_lock(folder):
            failures, last = self._throttle(folder)
            delay = unlock_delay(failures)
            remaining = delay - max(0.0, self._clock() - last)
            if delay and remaining > 0:
                raise TooManyAttempts(
                    f"Too many wrong passwords: wait {int(remaining) + 1} seconds before trying "
                    "again."
                )
            failures += 1
            try:
                self._write_throttle(folder, failures, self._clock())
            except OSError as exc:
                return failures, exc
        return failures, None

    def _uncount(self, folder: Path) -> None:
        """Take back an attempt counted for a profile found altered (not a wrong password)."""
        with _throttle_lock(folder), contextlib.suppress(OSError):
            failures, last = self._throttle(folder)
            if failures <= 1:
                (folder / THROTTLE_FILE).unlink(missing_ok=True)
            else:
                self._write_throttle(folder, failures - 1, last)

    @staticmethod
    def _write_throttle(folder: Path, failures: int, last: float) -> None:
        payload = json.dumps({"failures": failures, "last_failure": last}).encode()
        write_private_file(folder / THROTTLE_FILE, payload)

    @staticmethod
    def _clear_failures(folder: Path) -> None:
        with _throttle_lock(folder):
            (folder / THROTTLE_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def _throttle_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the profile's wrong-password counter, across processes."""
    try:
        fd = os.open(folder / THROTTLE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # A full disk cannot hold the lock file either; the counter's own write then fails
        # too, and the attempt is tried uncounted (see `_count_attempt`).
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


def _vault_is_under(path: Path, data_key: bytes, profile: str) -> bool:
    """Whether the vault's rows verify under this data key."""
    try:
        with Vault(path, RecordCipher(data_key), profile) as vault:
            return _key_matches(vault)
    except OneSendError:
        return False


def _key_matches(vault: Vault) -> bool:
    """Whether this data key is the vault's: its state row verifies under it, or (if that row
    was altered) its first audit entry or one of its records does."""
    from desktop.integrity import STATE_KEY, Head, VaultState  # noqa: PLC0415

    cipher = vault.cipher
    rows = vault.read("SELECT value FROM meta WHERE key = ?", (STATE_KEY,))
    if rows and VaultState.from_text(str(rows[0][0]), cipher) is not None:
        return True
    first = vault.read("SELECT id, at, profile, action, assessment_id, CAST(mac AS BLOB) "
                       "FROM audit ORDER BY id LIMIT 1")
    if first and cipher.mac_ok(first[0][5], "audit", *first[0][:5], None):
        return True
    heads = vault.read(f"SELECT {Head.COLUMNS} FROM assessments LIMIT 20")  # noqa: S608
    return any(Head.from_row(row).ok(cipher) for row in heads)
def glob_escape(text: str) -> str:
    """`text` matched literally by Path.glob."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _stronger(a: KdfParams, b: KdfParams) -> bool:
    return (a.memory_kib, a.iterations) > (b.memory_kib, b.iterations)
