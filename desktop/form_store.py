"""The form definitions this profile fetched from the national service: the `form_definitions`
table. Each row keeps the definition's canonical JSON and the server's signature over it, so it
is checked again every time it is read (sync/form_updates.py does the checking)."""

from __future__ import annotations

from collections.abc import Sequence

from contract.canonical import now_iso
from desktop.vault import Vault


class FormStore:
    """The fetched definitions of one open vault."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def keys(self) -> set[tuple[str, str]]:
        """(form, version) of every stored definition."""
        return {(str(f), str(v)) for f, v in self.vault.read(
            "SELECT form, version FROM form_definitions")}

    def any(self) -> bool:
        return bool(self.vault.read("SELECT 1 FROM form_definitions LIMIT 1"))

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(form, version, definition JSON, signature), oldest form and version first."""
        return [(str(f), str(v), str(text), str(signature)) for f, v, text, signature in
                self.vault.read("SELECT form, version, definition, signature "
                                "FROM form_definitions ORDER BY form, version")]

    def put_all(self, checked: Sequence[tuple[str, str, str, str]]) -> None:
        """Store (form, version, definition JSON, signature) rows in one transaction."""
        with self.vault.write() as conn:
            for form, version, text, signature in checked:
                conn.execute(
                    "INSERT OR REPLACE INTO form_definitions (form, version, definition, "
                    "signature, fetched_at) VALUES (?, ?, ?, ?, ?)",
                    (form, version, text, signature, now_iso()),
                )
                self.vault.audit(conn, "forms.fetch", None)
