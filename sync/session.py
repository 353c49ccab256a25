"""The session of one unlocked profile, composed in one place for the window and the command.

A session holds the unlocked vault, the profile's form catalogue (definitions fetched from the
national service, registered when it opens and dropped when it closes), this computer's
network settings (DATA_DIR/network.json, or the command's --ca-bundle/--proxy) and the sync
service built from them. The window adds its task runner (ui/main_window.py); the command uses
it as it is (app/). Closing it (lock, or the command's end) forgets the catalogue and closes
the vault, whose cipher forgets the keys.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from desktop.vault import Vault
from forms.registry import Catalogue
from sync.engine import SyncEngine
from sync.form_updates import register_stored_definitions
from sync.http import ApiSettings
from sync.usecase import SyncOutcome, run_sync


class Session:
    """One unlocked profile: vault, form catalogue, network settings, sync."""

    def __init__(self, vault: Vault, settings: ApiSettings | None = None) -> None:
        self.vault = vault
        self.settings = settings
        self.catalogue = Catalogue()
        self.closed = False
        # While it is open, what reads the vault finds this profile's fetched definitions.
        vault.catalogue = self.catalogue

    @classmethod
    def open(cls, vault: Vault, settings: ApiSettings | None = None, *,
             register_forms: bool = True) -> Session:
        """The session of an unlocked vault; its fetched forms registered now unless the
        caller registers them on its own thread (`register_forms`)."""
        session = cls(vault, settings)
        if register_forms:
            session.register_forms(vault)
        return session

    def register_forms(self, vault: Vault | None = None) -> int:
        """Register the fetched definitions (each re-checked) in this session's catalogue."""
        return register_stored_definitions(vault or self.vault, self.catalogue)

    def sync_engine(self, vault: Vault | None = None, **options: Any) -> SyncEngine:
        """The sync service on `vault` (a worker's own connection) or the session's."""
        return SyncEngine(vault or self.vault, settings=self.settings, **options)

    def sync(self, engine: SyncEngine, *, migrate: bool = True,
             cancel: threading.Event | None = None) -> SyncOutcome:
        """The one sync use case (sync/usecase.py) with this session's settings and forms."""
        return run_sync(engine, settings=self.settings, migrate=migrate, cancel=cancel,
                        catalogue=self.catalogue)

    def close(self) -> None:
        """End the session: the catalogue is dropped and the vault closed (keys forgotten)."""
        if self.closed:
            return
        self.closed = True
        self.catalogue.clear()
        self.vault.catalogue = None
        self.vault.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
