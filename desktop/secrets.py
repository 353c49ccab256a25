"""Small secrets of one vault (the device token, the server's keys): the `secrets` table.

Each is sealed with the vault's cipher and bound to its name.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from contract.canonical import canonical_json, now_iso
from desktop.errors import TamperedData
from desktop.vault import Vault


class Secrets:
    """Small secrets (the device token, the server's keys), each sealed and bound to its name."""

    _KIND = "secret"

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def put(self, conn: sqlite3.Connection, name: str, value: bytes) -> None:
        sealed = self.vault.cipher.seal(value, self._KIND, name, 0)
        conn.execute(
            "INSERT INTO secrets (name, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (name, sealed, now_iso()),
        )

    def get(self, name: str) -> bytes | None:
        rows = self.vault.read("SELECT CAST(value AS BLOB) FROM secrets WHERE name = ?", (name,))
        if not rows:
            return None
        try:
            return self.vault.cipher.open(rows[0][0], self._KIND, name, 0)
        except TamperedData as exc:
            raise TamperedData(
                f"The stored {name.replace('_', ' ')} has been altered or damaged; enrol this "
                "device again."
            ) from exc

    def get_json(self, name: str) -> Any:
        raw = self.get(name)
        return None if raw is None else json.loads(raw)

    def put_json(self, conn: sqlite3.Connection, name: str, value: Any) -> None:
        self.put(conn, name, canonical_json(value))
