"""The data folder: the receipt and form signing keys and the secret that keys token and code
hashes. Each file is made once, by whichever process gets there first, so the workers of one
service (and the hosts sharing the folder) agree on them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def private_dir(path: Path) -> Path:
    """The data folder, made if need be, readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        path.chmod(0o700)
    return path


def _load_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, made once (first writer wins, so workers starting together agree)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return data


def load_secret(path: Path) -> bytes:
    secret = _load_or_create(path, lambda: secrets.token_bytes(32))
    if len(secret) != 32:
        raise ValueError(f"{path} does not hold a 32-byte secret")
    return secret


def load_key(path: Path) -> Ed25519PrivateKey:
    def make() -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
    key = serialization.load_pem_private_key(_load_or_create(path, make), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
