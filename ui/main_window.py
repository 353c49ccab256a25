"""The OneSEND main window: create or unlock a profile, then the workspace; lock; the View menu.

The window is a stack of pages: create profile → recovery key (once) → workspace, or unlock →
workspace. Each unlock starts a session: the unlocked vault, a task runner whose database
thread has the session's only SQLite connection, and a `Workspace`. Locking (Ctrl+L, or after
the idle time) ends the session: the editor's work is written, the runner stops, the vault
forgets its keys, and the unlock page comes back for the same profile.

For the lead: ``add_workspace_action(action)`` puts an action (import, sync) in every
workspace's toolbar and Assessments menu; ``workspace`` is the current one (None while
locked), and ``workspace_opened`` / ``locked`` say when a session starts and ends.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)
from typing_extensions import override

from desktop.crypto import DEFAULT_KDF, KdfParams
from desktop.errors import OneSendError
from desktop.profiles import Profiles
from desktop.vault import Vault
from ui.backup import BackupController
from ui.clipboard_guard import ClipboardGuard
from ui.crash import CRASH_SENTENCE, CrashReporter, CrashReportOffer, show_problem
from ui.idle import IdleWatcher
from ui.keys import install_enter_activation
from ui.page_parts import Page
from ui.profile_pages import CreateProfilePage, RecoverPage, RecoveryKeyPage, UnlockPage
from ui.sync_area import SyncArea
from ui.tasks import TaskRunner, emit, vault_opener
from ui.theme import (
    Appearance,
    Preferences,
    next_text_scale,
)
from ui.view_menu import build_view_menu

if TYPE_CHECKING:
    from sync.session import Session
    from ui.ctf_import_dialog import CtfImportDialog
    from ui.rekey_dialog import RekeyDialog
    from ui.sync_panel import SyncPanel
    from ui.workspace import Workspace

WINDOW_TITLE = "OneSEND"
LOCKED_SENTENCE = "OneSEND is locked; your work was saved."
REKEYING_SENTENCE = ("Re-encrypting every assessment under a new key; this can take a "
                     "minute. Keep OneSEND open.")
REKEYED_SENTENCE = ("Your password was changed and every assessment re-encrypted (the old "
                    "recovery key no longer works): unlock with the new password.")
IDLE_LOCKED_SENTENCE = "OneSEND locked itself after a time without use; your work was saved."


def warm_up() -> None:
    """Import what an unlocked session needs (a worker's work; no widget is made)."""
    for name in ("sync.http", "sync.session", "ui.workspace", "ui.sync_panel",
                 "PySide6.QtNetwork"):
        importlib.import_module(name)


class MainWindow(QMainWindow):
    """The one OneSEND window: a menu bar and a stack of pages."""

    workspace_opened = Signal(object)  # the new Workspace, after an unlock (still being built)
    session_ready = Signal(object)  # that Workspace, every stage built and the sync area made
    locked = Signal()  # the session ended (locked by the user or after the idle time)

    def __init__(
        self,
        profile_names: Sequence[str],
        data_dir: Path | None = None,
        parent: QWidget | None = None,
        *,
        kdf: KdfParams = DEFAULT_KDF,
        profiles: Profiles | None = None,
        appearance: Appearance | None = None,
        crash_reporter: CrashReporter | None = None,
        today: datetime.date | None = None,
        autosave_ms: int = 600,
        freeze_start_up: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self.setAccessibleName(WINDOW_TITLE)
        self.data_dir = data_dir
        self.profiles = profiles or (Profiles(data_dir, kdf=kdf) if data_dir else None)
        self.today = today
        self.autosave_ms = autosave_ms
        self.prefs = Preferences.load(data_dir)
        app = QApplication.instance()
        assert isinstance(app, QApplication), "make the QApplication first"
        self.appearance = appearance or Appearance.of(app)
        install_enter_activation(app)  # Enter activates the focused button or link
        self.appearance.apply(self.prefs)
        self.crash_reporter = crash_reporter
        self.crash_offer: CrashReportOffer | None = None
        self._offered_reports = False
        self._freeze_start_up = freeze_start_up

        self.vault: Vault | None = None
        self.session: Session | None = None
        self.workspace: Workspace | None = None
        self._pending_vault: Vault | None = None  # created, recovery key not yet confirmed
        self._workspace_actions: list[QAction] = []
        self._resume: tuple[str, str, str] | None = None  # profile, record id, section
        self._closing = False
        self.leave_without_recovery_key = False
        self.recovery_question: QMessageBox | None = None

        # Key derivation runs here (no vault): one runner for the window's life.
        self.key_tasks = TaskRunner(parent=self)
        self.clipboard_guard = ClipboardGuard(self)
        self.idle = IdleWatcher(self.prefs.idle_minutes, self)
        self.idle.timed_out.connect(self._idle_timed_out)

        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.setCentralWidget(self.pages)
        names = list(profile_names)
        self.unlock_page = UnlockPage(self.profiles, self.key_tasks, names,
                                      preferred=self.prefs.last_profile)
        self.unlock_page.unlocked.connect(self._start_session)
        self.unlock_page.create_requested.connect(lambda: self.show_create_profile(True))
        self.pages.addWidget(self.unlock_page)
        self.create_page = CreateProfilePage(self.profiles, self.key_tasks,
                                             can_cancel=bool(names))
        self.create_page.created.connect(self._profile_created)
        self.create_page.cancelled.connect(self.show_unlock)
        self.pages.addWidget(self.create_page)
        self.recovery_page = RecoveryKeyPage()
        self.recovery_page.confirmed.connect(self._recovery_confirmed)
        self.pages.addWidget(self.recovery_page)
        # Forgotten password: the recovery key sets a new one, in the window.
        self.recover_page = RecoverPage(self.profiles, self.key_tasks)
        self.recover_page.recovered.connect(self._password_recovered)
        self.recover_page.cancelled.connect(self.show_unlock)
        self.unlock_page.recover_requested.connect(self.show_recover)
        self.pages.addWidget(self.recover_page)

        self._build_menus()
        self._build_session_actions()
        self.backups = BackupController(self)  # File → Back up…, the reminder, the check
        if names:
            self._show_page(self.unlock_page)
        else:
            self._show_page(self.create_page)
        if crash_reporter is not None:
            crash_reporter.crashed.connect(self._crashed, Qt.ConnectionType.QueuedConnection)
        self.resize(self._comfortable_size())

    # -- menus ---------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.setStatusTip("Close OneSEND (your work is saved)")
        self.quit_action.triggered.connect(self.close)
        self.file_menu = self.menuBar().addMenu("&File")
        self.rekey_action = QAction("Change password and re-&key…", self)
        self.rekey_action.setObjectName("rekeyAction")
        self.rekey_action.setStatusTip(
            "A new password and a new key for every record, when a password may have leaked")
        self.rekey_action.setEnabled(False)
        self.rekey_action.triggered.connect(self.change_password_and_rekey)
        self.file_menu.addAction(self.rekey_action)
        self.file_menu.addAction(self.quit_action)
        self.addAction(self.quit_action)

        view = build_view_menu(
            self, high_contrast=self.prefs.high_contrast, idle_minutes=self.prefs.idle_minutes,
            step_text_size=self.step_text_size, set_text_scale=self.set_text_scale,
            set_high_contrast=self.set_high_contrast, set_idle_minutes=self.set_idle_minutes)
        self.view_menu, self.larger_text_action = view.menu, view.larger_text
        self.smaller_text_action = view.smaller_text
        self.high_contrast_action, self.lock_after_actions = view.high_contrast, view.lock_after

    def _build_session_actions(self) -> None:
        """Import from the school's file and the sync area: in every unlocked workspace."""
        self.import_action = QAction("&Import from school file…", self)
        self.import_action.setObjectName("importCtfAction")
        self.import_action.setIconText("Import…")  # the toolbar's short word
        self.import_action.setStatusTip(
            "Create drafts from the pupils in your school's Common Transfer File")
        self.import_action.triggered.connect(self.import_from_school_file)
        self.import_action.setEnabled(False)  # until the session is built
        self.add_workspace_action(self.import_action)
        self.sync_action = QAction("&Sync", self)
        self.sync_action.setObjectName("syncAction")
        self.sync_action.setCheckable(True)
        self.sync_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.sync_action.setStatusTip(
            "Show or hide what has been sent to the national service, and send now")
        self.add_workspace_action(self.sync_action)
        self.sync_area = SyncArea(self, self.sync_action)
        self.import_dialog: CtfImportDialog | None = None

    def import_from_school_file(self) -> CtfImportDialog | None:
        """Open the import dialog (it asks for the file); the list refreshes after an import."""
        workspace = self.workspace
        if workspace is None or not workspace.built:
            return None
        from ui.ctf_import_dialog import CtfImportDialog  # noqa: PLC0415 - when first asked

        dialog = CtfImportDialog(workspace.tasks, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(workspace.refresh)
        self.import_dialog = dialog
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "import_dialog", None))
        dialog.open()
        return dialog

    @property
    def sync_panel(self) -> SyncPanel | None:
        return self.sync_area.panel

    @property
    def sync_dock(self) -> QDockWidget | None:
        return self.sync_area.dock

    # -- public API ------------------------------------------------------------------------------

    def add_workspace_action(self, action: QAction) -> None:
        """An action for every workspace (now and after each unlock): toolbar and menu."""
        self._workspace_actions.append(action)
        if self.workspace is not None:
            self.workspace.add_action(action)

    @property
    def current_page(self) -> QWidget | None:
        return self.pages.currentWidget()

    def show_unlock(self) -> None:
        names = self.profiles.names() if self.profiles is not None else []
        if not names:
            self.show_create_profile(False)
            return
        self.unlock_page.set_profiles(names, preferred=self.prefs.last_profile)
        self._show_page(self.unlock_page)

    def show_recover(self, profile: str) -> None:
        """The page that sets a new password with the profile's recovery key."""
        self._show_page(self.recover_page)
        self.recover_page.start(profile)

    def _password_recovered(self, profile: str) -> None:
        self.show_unlock()
        self.unlock_page.set_profiles(self.profiles.names() if self.profiles else [profile],
                                      preferred=profile)
        self.unlock_page.reset(sentence=f"A new password is set for {profile}. Type it to "
                                        "unlock.")

    def show_create_profile(self, can_cancel: bool = False) -> None:
        self.create_page.cancel_button.setVisible(can_cancel)
        self.create_page.message.clear_message()
        self._show_page(self.create_page)

    def lock(self, *, idle: bool = False) -> None:
        """End the session: save, stop the threads, drop the keys; back to unlocking."""
        workspace = self.workspace
        if workspace is None:
            return
        profile = workspace.profile
        record = workspace.current_record_id
        self._resume = (profile, record, workspace.current_section) if record else None
        self._end_session()
        self.prefs.last_profile = profile
        self.unlock_page.set_profiles(
            self.profiles.names() if self.profiles is not None else [profile],
            preferred=profile)
        self._show_page(self.unlock_page)
        self.unlock_page.reset(sentence=IDLE_LOCKED_SENTENCE if idle else LOCKED_SENTENCE)
        emit(self.locked)

    # -- View menu ----------------------------------------------------------------------------

    def set_high_contrast(self, on: bool) -> None:
        self.prefs.high_contrast = on
        if self.high_contrast_action.isChecked() != on:
            self.high_contrast_action.setChecked(on)
        self.appearance.apply(self.prefs)
        self.prefs.save(self.data_dir)

    def set_text_scale(self, scale: float) -> None:
        self.prefs.text_scale = scale
        self.appearance.apply(self.prefs)
        self.prefs.save(self.data_dir)

    def step_text_size(self, step: int) -> None:
        self.set_text_scale(next_text_scale(self.prefs.text_scale, step))

    def set_idle_minutes(self, minutes: float) -> None:
        self.prefs.idle_minutes = minutes
        self.idle.set_minutes(minutes)
        action = self.lock_after_actions.get(int(minutes))
        if action is not None and not action.isChecked():
            action.setChecked(True)
        self.prefs.save(self.data_dir)

    # -- pages and sessions ---------------------------------------------------------------------

    def _show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        if isinstance(page, Page):
            page.focus_first()
        else:
            page.setFocus(Qt.FocusReason.OtherFocusReason)

    def _profile_created(self, vault: object, recovery_key: str) -> None:
        assert isinstance(vault, Vault)
        self._pending_vault = vault
        self.recovery_page.show_key(recovery_key)
        self._show_page(self.recovery_page)

    def _recovery_confirmed(self) -> None:
        vault, self._pending_vault = self._pending_vault, None
        if vault is not None:
            self._start_session(vault)
        else:  # after a re-key: the new password opens the profile from now on
            self.unlock_page.set_profiles(
                self.profiles.names() if self.profiles is not None else [],
                preferred=self.prefs.last_profile)
            self._show_page(self.unlock_page)
            self.unlock_page.reset(sentence=REKEYED_SENTENCE)

    # -- change password and re-key -------------------------------------------------------------

    def change_password_and_rekey(self) -> RekeyDialog | None:
        """Ask for the passwords; then lock, and re-key in the background."""
        from ui.rekey_dialog import RekeyDialog  # noqa: PLC0415 - only when asked for

        if self.workspace is None or self.profiles is None:
            return None
        dialog = RekeyDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.submitted.connect(self._rekey)
        dialog.open()
        return dialog

    def _rekey(self, current: str, new: str) -> None:
        if self.workspace is None or self.profiles is None:
            return
        profiles, profile = self.profiles, self.workspace.profile
        # Everything is saved and every writer stopped before the keys change under them.
        self.lock()
        self.unlock_page.busy.set(True)
        self.unlock_page.message.say(REKEYING_SENTENCE, kind="info")
        self.key_tasks.run(lambda: profiles.rekey(profile, current, new),
                           self._rekeyed, self._rekey_failed)

    def _rekeyed(self, recovery_key: object) -> None:
        self.unlock_page.busy.set(False)
        self.unlock_page.message.clear_message()
        assert isinstance(recovery_key, str)
        self.recovery_page.show_key(recovery_key)
        self._show_page(self.recovery_page)

    def _rekey_failed(self, error: object) -> None:
        from ui.crash import user_sentence  # noqa: PLC0415

        assert isinstance(error, BaseException)
        self.unlock_page.busy.set(False)
        self.unlock_page.message.say(user_sentence(
            error, "changing the password and re-keying",
            "Nothing was changed: the current password still opens the profile."))

    def _start_session(self, vault: object) -> None:
        assert isinstance(vault, Vault)
        if self._closing:
            vault.close()
            return
        # Imported on first unlock: the editor and the form engine are not needed to show the
        # unlock page, and leaving them out keeps the cold start short.
        from sync.http import network_settings  # noqa: PLC0415
        from sync.session import Session  # noqa: PLC0415
        from ui.workspace import Workspace, after_frame  # noqa: PLC0415

        settings = None
        if self.data_dir is not None:
            try:  # the administrator's CA bundle and proxy (DATA_DIR/network.json)
                settings = network_settings(self.data_dir)
            except OneSendError as exc:
                self._problem(str(exc))
        # The session the command builds too; its fetched forms are registered on the
        # database thread (the workspace's first task), not here on the GUI thread.
        self.session = Session.open(vault, settings, register_forms=False)
        self.vault = vault
        self.rekey_action.setEnabled(True)
        tasks = TaskRunner(vault_opener(vault))
        workspace = Workspace(tasks, vault.profile, today=self.today,
                              autosave_ms=self.autosave_ms)
        workspace.lock_requested.connect(self.lock)
        workspace.title_changed.connect(self._set_title)
        workspace.failed.connect(self._problem)
        for action in self._workspace_actions:
            workspace.add_action(action)
        self.workspace = workspace
        self.menuBar().insertMenu(self.view_menu.menuAction(), workspace.menu)
        self.pages.addWidget(workspace)
        self._show_page(workspace)
        self.prefs.last_profile = vault.profile
        prefs, data_dir = dataclasses.replace(self.prefs), self.data_dir
        self.key_tasks.run(lambda: prefs.save(data_dir))  # a file write: off the GUI thread
        self.idle.set_minutes(self.prefs.idle_minutes)
        self.idle.start()
        emit(self.workspace_opened, workspace)
        workspace.ready.connect(  # built in short steps, then the sync area (and a resume)
            lambda: after_frame(workspace, lambda: self._finish_session(workspace, vault.profile)))

    def _finish_session(self, workspace: Workspace, profile: str) -> None:
        if self.workspace is not workspace:
            return  # locked meanwhile
        self.sync_area.start(workspace, self.session.settings if self.session else None)
        self.import_action.setEnabled(True)
        resume, self._resume = self._resume, None
        if resume is not None and resume[0] == profile:
            workspace.open_assessment(resume[1], resume[2])
        workspace.session_built()
        emit(self.session_ready, workspace)

    session_is_ready = property(lambda self: self.workspace is not None and self.sync_area.panel
                                is not None, doc="Every step of the session built.")

    def _end_session(self) -> None:
        self.rekey_action.setEnabled(False)
        self.import_action.setEnabled(False)
        self.idle.stop()
        if self.import_dialog is not None:
            self.import_dialog.close()
        self.sync_area.stop()
        workspace, self.workspace = self.workspace, None
        if workspace is not None:
            self.menuBar().removeAction(workspace.menu.menuAction())
            workspace.shutdown()
            self.pages.removeWidget(workspace)
            workspace.hide()
            workspace.deleteLater()
        session, self.session = self.session, None
        self.vault = None
        if session is not None:
            # The catalogue is dropped; the cipher forgets the keys (the connection was closed
            # on its thread).
            session.close()
        self.clipboard_guard.clear_ours()
        self._set_title("")

    def _set_title(self, title: str) -> None:
        self.setWindowTitle(title or WINDOW_TITLE)

    def _problem(self, sentence: str) -> None:
        show_problem(self, sentence)

    # -- idle lock -----------------------------------------------------------------------------

    def _idle_timed_out(self) -> None:
        if self.workspace is None:
            return
        modal = QApplication.activeModalWidget()
        if modal is not None:
            # A dialog's own event loop is running: close it first, lock once it has returned.
            if isinstance(modal, QDialog):
                modal.reject()
                QTimer.singleShot(0, self._idle_timed_out)
            else:
                self.idle.start()
            return
        self.lock(idle=True)

    # -- crashes ----------------------------------------------------------------------------------

    def _crashed(self, _path: str) -> None:
        show_problem(self, CRASH_SENTENCE, "Unexpected problem")

    def offer_crash_reports(self) -> CrashReportOffer | None:
        """If earlier runs left crash reports, say where they are: Open folder / Delete / Keep."""
        if self.crash_reporter is None:
            return None
        reports = self.crash_reporter.pending()
        if not reports:
            return None
        offer = CrashReportOffer(self.crash_reporter, reports, self)
        self.crash_offer = offer
        offer.destroyed.connect(lambda: setattr(self, "crash_offer", None))
        offer.open()
        return offer

    # -- Qt events -----------------------------------------------------------------------------

    @override
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._offered_reports:
            self._offered_reports = True
            if self.crash_reporter is not None:
                QTimer.singleShot(0, self.offer_crash_reports)
            # While the password is typed and the key derived: the modules of a session are
            # imported on a worker, so the GUI thread only builds widgets after the unlock.
            QTimer.singleShot(500, self, self._warm_up)

    def _warm_up(self) -> None:
        if not self.key_tasks.closed:
            first = self.key_tasks.submitted == 0  # no password handed to a worker yet
            self.key_tasks.run(warm_up, self._warmed_up if first else None)

    def _warmed_up(self, _result: object) -> None:
        """With `freeze_start_up` (the application's window): what start-up made, and the
        session's modules just imported, is moved out of the cyclic collector's sight
        (`gc.freeze`), so no full collection walks it again. Such a collection, on whichever
        thread happened to allocate, held the GIL for 40-90 ms in the middle of an unlock
        (`bench/profile_unlock.py`, issue 10). Only while nothing secret was ever in this
        process: on the unlock page (whose password Python reads only when it is submitted),
        no password handed to a worker (the warm-up is the only task so far), no session:
        what is frozen is never collected, so a key or a child's name must not be in it."""
        if (self._freeze_start_up and self.key_tasks.submitted == 1
                and self.current_page is self.unlock_page
                and self.workspace is None and self._pending_vault is None):
            gc.freeze()

    @override
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._pending_vault is not None and not self.leave_without_recovery_key:
            # The recovery key is on screen and not yet confirmed: it is never shown again.
            event.ignore()
            self._ask_before_leaving_the_recovery_key()
            return
        self._closing = self.sync_area.closing = True
        self._end_session()
        pending, self._pending_vault = self._pending_vault, None
        if pending is not None:
            pending.close()
        self.key_tasks.shutdown()
        self.prefs.save(self.data_dir)
        super().closeEvent(event)

    def _ask_before_leaving_the_recovery_key(self) -> None:
        if self.recovery_question is not None:
            self.recovery_question.raise_()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Close OneSEND?",
                          "Your recovery key will not be shown again: write it down before "
                          "you close OneSEND.", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("recoveryKeyQuestion")
        stay = box.addButton("Keep the key on screen", QMessageBox.ButtonRole.RejectRole)
        leave = box.addButton("Close without it", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        self.recovery_question = box

        def answered(_result: int) -> None:
            self.recovery_question = None
            if box.clickedButton() is leave:
                self.leave_without_recovery_key = True
                self.close()

        box.finished.connect(answered)
        box.open()

    def _comfortable_size(self) -> QSize:
        """Room for a readable column and a page of text, within the screen."""
        metrics = self.fontMetrics()
        wanted = QSize(metrics.averageCharWidth() * 190, metrics.height() * 52)
        return wanted.boundedTo(self.screen().availableSize() * 0.9)
