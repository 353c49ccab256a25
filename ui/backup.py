"""Backups in the window: File → Back up… and Restore a backup…, the weekly reminder, and the
check at unlock.

Everything that touches the vault or a file runs off the GUI thread (`ui/tasks.py`): the check
(SQLite's ``quick_check``) and the backup on the session's database thread, a restore on the
pool. What they find is said in a message bar at the top of the window — a sentence and a
button, never a modal dialog.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolBar,
    QWidget,
)

from desktop.backup import (
    BACKUP_SUFFIX,
    BackupInfo,
    backup_is_due,
    check_vault,
    create_backup,
    last_backup_at,
    password_unlock,
    restore_backup,
)
from desktop.crypto import RecordCipher
from desktop.errors import BadBackup, CorruptVault
from desktop.profiles import ProfileRecord
from desktop.vault import Vault
from ui.crash import show_problem, user_sentence

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

DAMAGED_SENTENCE = (
    "OneSEND found damage in this profile's vault file (SQLite's check failed); what still "
    "opens is shown, but restore your last backup to be safe: choose Restore a backup…."
)


def _uk(iso: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    return moment.strftime("%-d %b %Y")


def reminder_sentence(last: str | None) -> str:
    if last is None:
        return ("This profile has never been backed up: back it up now (File → Back up…) to a "
                "place your school keeps safe.")
    return (f"This profile was last backed up on {_uk(last)}, more than a week ago: back it up "
            "again (File → Back up…).")


class MessageBar(QFrame):
    """A non-modal bar: one sentence, one action button and a "Not now" to hide it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupBar")
        self.setAccessibleName("Backup message")
        self.label = QLabel()
        self.label.setObjectName("backupBarText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Backup message")
        self.label.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.button = QPushButton("Back up…")
        self.button.setObjectName("backupBarAction")
        self.button.setAccessibleName("Back up…")
        self.dismiss = QPushButton("Not now")
        self.dismiss.setObjectName("backupBarDismiss")
        self.dismiss.setAccessibleName("Not now: hide this message")
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(self.dismiss)
        self._action: Callable[[], object] | None = None
        self.button.clicked.connect(self._clicked)
        self.kind = ""

    def say(self, kind: str, sentence: str, button: str = "",
            action: Callable[[], object] | None = None) -> None:
        self.kind = kind
        text = f"Problem: {sentence}" if kind == "damaged" else sentence
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        self.button.setText(button)
        self.button.setAccessibleName(button or "Back up…")
        self.button.setVisible(bool(button))
        self._action = action

    def _clicked(self) -> None:
        if self._action is not None:
            self._action()


class BackupController(QObject):
    """The window's backup actions, its message bar, and the check run at each unlock."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.bar = MessageBar()
        self.toolbar = QToolBar("Backup messages", window)
        self.toolbar.setObjectName("backupToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.addWidget(self.bar)
        self.toolbar.setVisible(False)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.bar.dismiss.clicked.connect(self.hide_bar)

        self.back_up_action = QAction("&Back up…", window)
        self.back_up_action.setObjectName("backUpAction")
        self.back_up_action.setStatusTip(
            "Write an encrypted, checked copy of this profile to a file (e.g. a USB stick)")
        self.back_up_action.triggered.connect(self.back_up)
        self.restore_action = QAction("&Restore a backup…", window)
        self.restore_action.setObjectName("restoreBackupAction")
        self.restore_action.setStatusTip(
            "Restore a profile from a backup file (a profile it replaces is kept aside)")
        self.restore_action.triggered.connect(self.restore)
        first = window.quit_action  # before Quit, in the File menu
        window.file_menu.insertAction(first, self.back_up_action)
        window.file_menu.insertAction(first, self.restore_action)
        window.file_menu.insertSeparator(first)
        self.dialog: QFileDialog | None = None
        self.password_dialog: QInputDialog | None = None
        self.profile_id = ""
        self.last_result: BackupInfo | None = None
        self.check_ok: bool | None = None
        self._set_enabled(False)
        window.workspace_opened.connect(self._session_started)
        window.locked.connect(self._session_ended)

    # -- the session ------------------------------------------------------------------------

    def _set_enabled(self, on: bool) -> None:
        self.back_up_action.setEnabled(on)
        # Restoring works locked too (with the backup's password): a vault too damaged to
        # unlock, or a new laptop with no profile yet.
        self.restore_action.setEnabled(self.window.profiles is not None)

    def _session_started(self, workspace: Workspace) -> None:
        self._set_enabled(True)
        self.check_ok = None

        def work(vault: Vault) -> tuple[bool, str | None, str, str]:
            quick_ok = check_vault(vault, decrypt=False).quick_check_ok
            profile_id = vault.meta("profile_id") or ""
            try:
                created = vault.first_audit_at()
                last = last_backup_at(vault)
            except CorruptVault:  # the page holding them is damaged: so is the vault
                return False, None, "", profile_id
            return quick_ok, last, created or "", profile_id

        def failed(_error: BaseException) -> None:  # damage too deep even to read the meta
            self._checked((False, None, "", self.profile_id))

        # In the background: a large vault's check must not hold up the GUI thread.
        workspace.tasks.run_db(work, self._checked, failed)

    def _session_ended(self) -> None:
        self._set_enabled(False)
        if self.bar.kind != "restored":
            self.hide_bar()

    def _checked(self, result: tuple[bool, str | None, str, str]) -> None:
        quick_ok, last, created, profile_id = result
        self.check_ok = quick_ok
        self.profile_id = profile_id
        if self.window.workspace is None:
            return
        if not quick_ok:
            self.show_bar("damaged", DAMAGED_SENTENCE, "Restore a backup…",
                          self.restore)
        elif backup_is_due(last, created or last or ""):
            self.show_bar("reminder", reminder_sentence(last), "Back up…",
                          self.back_up)

    def show_bar(self, kind: str, sentence: str, button: str = "",
                 action: Callable[[], object] | None = None) -> None:
        self.bar.say(kind, sentence, button, action)
        self.toolbar.setVisible(True)

    def hide_bar(self) -> None:
        self.bar.kind = ""
        self.toolbar.setVisible(False)

    # -- back up ------------------------------------------------------------------------------

    def back_up(self) -> QFileDialog | None:
        """Ask where to write the backup (a save dialog, not blocking), then write it."""
        workspace = self.window.workspace
        if workspace is None:
            return None
        today = datetime.datetime.now().astimezone().date().isoformat()
        suggested = Path.home() / f"{workspace.profile}-{today}{BACKUP_SUFFIX}"
        dialog = QFileDialog(self.window, "Back up this profile", str(suggested),
                             f"OneSEND backups (*{BACKUP_SUFFIX})")
        dialog.setObjectName("backUpDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(BACKUP_SUFFIX.lstrip("."))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda name: self.back_up_to(Path(name)))
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def back_up_to(self, path: Path) -> None:
        workspace = self.window.workspace
        profiles = self.window.profiles
        if workspace is None or profiles is None:
            return
        folder = profiles.folder(workspace.profile)
        self.show_bar("working", f"Backing up to {path}…")
        workspace.tasks.run_db(lambda vault: create_backup(vault, folder, path),
                               self._backed_up, self._failed("backing up the profile"))

    def _backed_up(self, info: BackupInfo) -> None:
        self.last_result = info
        self.show_bar("done", f"Backed up {info.assessments} assessments to {info.path} and "
                      "checked the copy; keep it somewhere safe.")

    def _failed(self, doing: str) -> Callable[[BaseException], None]:
        def failed(error: BaseException) -> None:
            self.hide_bar()
            show_problem(self.window, user_sentence(error, doing, "nothing was changed"))

        return failed

    # -- restore ----------------------------------------------------------------------------------

    def restore(self) -> QFileDialog | None:
        """Ask for the backup file (an open dialog, not blocking), then restore it."""
        if self.window.profiles is None:
            return None
        dialog = QFileDialog(self.window, "Restore a backup of this profile", str(Path.home()),
                             f"OneSEND backups (*{BACKUP_SUFFIX})")
        dialog.setObjectName("restoreDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda name: self.restore_from(Path(name)))
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def restore_from(self, path: Path) -> None:
        """Replace the open profile with the backup at `path`, checked with this session's key.

        The current profile folder is kept aside whole (DATA_DIR/replaced/); the window then
        locks, and unlocking opens the restored profile.
        """
        window, workspace, profiles = self.window, self.window.workspace, self.window.profiles
        vault = window.vault
        if profiles is None:
            return
        if workspace is None or vault is None:
            self._ask_password(path)
            return
        cipher, owner, profile_id = vault.cipher, vault.owner, self.profile_id

        def unlock(record: ProfileRecord) -> RecordCipher:
            if record.profile_id != profile_id:
                raise BadBackup(f"The file {path} is a backup of another profile "
                                f"({record.name!r}): nothing was restored or changed.")
            return cipher

        self.show_bar("working", f"Checking and restoring {path}…")
        workspace.tasks.run(
            lambda: restore_backup(profiles, path, unlock, replace=True, owner=owner),
            self._restored, self._failed("restoring the backup"))

    def _ask_password(self, path: Path) -> QInputDialog:
        """Locked: the backup opens with its profile's password (asked without blocking)."""
        dialog = QInputDialog(self.window)
        dialog.setObjectName("restorePasswordDialog")
        dialog.setWindowTitle("Restore a backup")
        dialog.setLabelText(f"Password of the profile in the backup {path.name} (a profile of "
                            "the same name here is kept aside, not deleted):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setAccessibleName("Password of the profile in the backup")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda password: self._restore_locked(path, password))
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "password_dialog", None))
        self.password_dialog = dialog
        dialog.open()
        return dialog

    def _restore_locked(self, path: Path, password: str) -> None:
        profiles = self.window.profiles
        if profiles is None or self.window.workspace is not None:
            return
        self.show_bar("working", f"Checking and restoring {path}…")
        self.window.key_tasks.run(  # key derivation: off the GUI thread
            lambda: restore_backup(profiles, path, password_unlock(password), replace=True),
            self._restored_while_locked, self._failed("restoring the backup"))

    def _restored_while_locked(self, info: Any) -> None:
        assert isinstance(info, BackupInfo)
        self.last_result = info
        window = self.window
        if window.workspace is None and window.profiles is not None:
            window.prefs.last_profile = info.profile
            window.show_unlock()
        self._say_restored(info)

    def _say_restored(self, info: BackupInfo) -> None:
        kept = f" The profile it replaced is kept in {info.replaced_to}." if info.replaced_to \
            else ""
        self.show_bar("restored", f"Restored the backup made on {_uk(info.created_at)} "
                      f"({info.assessments} assessments): unlock to carry on.{kept}")

    def _restored(self, info: Any) -> None:
        assert isinstance(info, BackupInfo)
        self.last_result = info
        self.window.lock()
        self._say_restored(info)
