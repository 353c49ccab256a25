"""The key hierarchy and the authenticated encryption of every blob the vault stores.

A random 256-bit data key is wrapped (AES-256-GCM) by a key derived from the password with
Argon2id and, separately, by a key derived from a random recovery key. Sub-keys for record
encryption and for the blind index are derived from the data key with HKDF, so changing the
password re-wraps 32 bytes and leaves every record untouched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import asdict, dataclass
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.errors import InvalidInput, TamperedData, VaultLocked

NONCE_BYTES = 12
KEY_BYTES = 32
RECOVERY_KEY_BYTES = 20  # 160 bits, shown as 32 base32 characters
_RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_MISREAD = str.maketrans({"0": "O", "1": "I"})


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters, stored with each profile so they can be raised later."""

    memory_kib: int
    iterations: int
    lanes: int

    # A tampered profile may neither weaken the key nor make unlocking take an hour.
    FLOOR = (19 * 1024, 2, 1)
    CEILING = (512 * 1024, 10, 8)

    def check(self) -> None:
        """Raise TamperedData when the parameters fall outside the floor or the ceiling."""
        values = (self.memory_kib, self.iterations, self.lanes)
        for value, low, high in zip(values, self.FLOOR, self.CEILING, strict=True):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise TamperedData(
                    "The profile's key-derivation settings are outside the allowed range; "
                    "the profile file may have been altered."
                )

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> KdfParams:
        if not isinstance(data, dict):
            raise TamperedData("The profile's key-derivation settings are missing or damaged.")
        try:
            params = cls(int(data["memory_kib"]), int(data["iterations"]), int(data["lanes"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TamperedData(
                "The profile's key-derivation settings are missing or damaged."
            ) from exc
        params.check()
        return params


# 128 MiB, 3 passes, 4 lanes: about 0.3 s on the development machines (see `make bench`).
DEFAULT_KDF = KdfParams(memory_kib=128 * 1024, iterations=3, lanes=4)
# The floor itself: only for tests and the self-test, where a profile is thrown away.
FAST_KDF = KdfParams(*KdfParams.FLOOR)


def derive_password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    """Argon2id(password) -> 32-byte key-encryption key."""
    params.check()
    kdf = Argon2id(
        salt=salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(password.encode("utf-8"))


def new_recovery_key() -> str:
    """A random recovery key, grouped for writing down: XXXX-XXXX-... (8 groups of 4)."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_KEY_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_recovery_key(text: str) -> bytes:
    """Accept the key as typed (any case, spaces or dashes); return its 20 raw bytes."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    # The alphabet has no 0 or 1, so one written down as a digit can only mean O or I.
    cleaned = cleaned.translate(_MISREAD)
    if len(cleaned) != 32 or any(ch not in _RECOVERY_ALPHABET for ch in cleaned):
        raise InvalidInput(
            "A recovery key is 32 letters and digits in groups of four, like ABCD-EFGH-…"
        )
    return base64.b32decode(cleaned)


def derive_recovery_key(recovery_raw: bytes, salt: bytes) -> bytes:
    """The recovery key has 160 random bits, so HKDF (not a slow KDF) is enough."""
    return _hkdf(recovery_raw, salt, b"onesend/v1/recovery-kek")


def _hkdf(key: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(key)


def _encode_fields(kind: str, fields: tuple[object, ...]) -> bytes:
    """Each part length-prefixed (8 bytes) and typed, so no two different rows encode alike."""
    head = kind.encode()
    out = [_MAC_DOMAIN, len(head).to_bytes(8, "big"), head]
    for field in fields:
        kind_of = type(field)  # the common exact types inline; the rest (and errors) below
        if kind_of is str:
            part = b"s" + cast(str, field).encode("utf-8")
        elif kind_of is int:
            part = b"i" + str(field).encode()
        elif kind_of is bytes:
            part = b"b" + cast(bytes, field)
        elif field is None:
            part = b"n"
        else:
            part = _encode_field(field)
        out += (len(part).to_bytes(8, "big"), part)
    return b"".join(out)


_MAC_DOMAIN = len(b"onesend/v1/mac").to_bytes(8, "big") + b"onesend/v1/mac"


def _encode_field(field: object) -> bytes:
    if field is None:
        return b"n"
    if isinstance(field, bool):
        raise TypeError("booleans are not MAC'd fields")
    if isinstance(field, int):
        return b"i" + str(field).encode()
    if isinstance(field, str):
        return b"s" + field.encode("utf-8")
    if isinstance(field, bytes):
        return b"b" + field
    raise TypeError(f"cannot MAC a {type(field).__name__}")


def wrap_key(kek: bytes, data_key: bytes, context: bytes) -> bytes:
    """Encrypt the data key under a key-encryption key; `context` binds it to its profile."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, context)


def unwrap_key(kek: bytes, wrapped: bytes, context: bytes) -> bytes | None:
    """The data key, or None when this key-encryption key is not the right one."""
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
    except (InvalidTag, ValueError):
        return None


class RecordCipher:
    """Seals and opens record blobs, and computes blind indexes, from one profile's data key."""

    def __init__(self, data_key: bytes) -> None:
        self._aead: AESGCM | None = AESGCM(_hkdf(data_key, None, b"onesend/v1/records"))
        self._index_key: bytes | None = _hkdf(data_key, None, b"onesend/v1/blind-index")
        self._mac_key: bytes | None = _hkdf(data_key, None, b"onesend/v1/metadata-mac")

    @staticmethod
    def associated_data(kind: str, record_id: str, revision: int) -> bytes:
        """What binds a blob to its row: moving it to another row makes it fail to open."""
        return f"onesend/v1|{kind}|{record_id}|{revision}".encode()

    def seal(self, plaintext: bytes, kind: str, record_id: str, revision: int) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        ad = self.associated_data(kind, record_id, revision)
        return nonce + self._cipher().encrypt(nonce, plaintext, ad)

    def open(self, blob: bytes, kind: str, record_id: str, revision: int) -> bytes:
        ad = self.associated_data(kind, record_id, revision)
        try:
            return self._cipher().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)
        except (InvalidTag, ValueError, TypeError) as exc:
            raise TamperedData(
                f"Assessment {record_id} (revision {revision}, {kind}) has been altered or "
                "damaged and cannot be read; the other assessments are unaffected."
            ) from exc

    def blind_index(self, normalised_value: str, field: str) -> bytes:
        """HMAC-SHA256 of a normalised identifier, keyed per profile: searchable, not readable."""
        if self._index_key is None:
            raise VaultLocked("The vault is locked: unlock it to continue.")
        message = f"{field}\x00{normalised_value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()

    def mac(self, kind: str, *fields: object) -> bytes:
        """HMAC-SHA256 over a canonical encoding of a row's metadata (see desktop/integrity.py).

        Each field is encoded with its type and length, so no two different rows encode alike.
        """
        if self._mac_key is None:
            raise VaultLocked("The vault is locked: unlock it to continue.")
        return hmac.digest(self._mac_key, _encode_fields(kind, fields), "sha256")

    def mac_ok(self, stored: object, kind: str, *fields: object) -> bool:
        """Whether `stored` is this row's MAC (compared in constant time)."""
        if not isinstance(stored, bytes):
            return False
        return hmac.compare_digest(stored, self.mac(kind, *fields))

    @property
    def forgotten(self) -> bool:
        """True once `forget` has dropped every key (after a lock)."""
        return self._aead is None and self._index_key is None and self._mac_key is None

    def forget(self) -> None:
        """Drop the keys: after this nothing can be sealed, opened, indexed or MAC'd.

        Python cannot overwrite the bytes objects themselves; dropping the last reference
        lets the allocator reuse them (see the README's vault section).
        """
        self._aead = None
        self._index_key = None
        self._mac_key = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise VaultLocked("The vault is locked: unlock it to continue.")
        return self._aead
