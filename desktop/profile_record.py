"""What a profile's `profile.json` holds: the Argon2id parameters and the data key wrapped twice
(by the password and by the recovery key), and nothing secret in the clear."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.crypto import KEY_BYTES, NONCE_BYTES, KdfParams
from desktop.errors import ProfileError, TamperedData
from desktop.paths import write_private_file

PROFILE_FILE = "profile.json"
PROFILE_FORMAT = 1
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

    @classmethod
    def read(cls, folder: Path) -> ProfileRecord:
        """The record in a profile's folder; a damaged or altered file is TamperedData."""
        path = folder / PROFILE_FILE
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise ProfileError(f"There is no profile at {folder}.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise TamperedData(f"The profile file {path} is damaged or has been altered.") from exc
        return cls.from_json(data, path)

    def write(self, folder: Path) -> None:
        """Replace the profile's file with this record (owner-only, durably)."""
        payload = json.dumps(self.to_json(), indent=2).encode("utf-8") + b"\n"
        write_private_file(folder / PROFILE_FILE, payload)
