"""The pages before a profile is open: create a profile, its recovery key, and unlock.

Key derivation (Argon2id, and the wait after wrong passwords) runs on the task runner's pool,
never on the GUI thread; the page shows a busy state meanwhile. The vault a worker opens is
handed over with its SQLite connection already closed on that worker (connections belong to
the thread that opened them); the session's own database thread opens its own, and the
window closes the vault (which makes the cipher forget its keys) when it locks.
"""

from __future__ import annotations

import contextlib
import html
import sqlite3
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)
from typing_extensions import override

from desktop.owner import create_as_owner, unlock_as_owner
from desktop.passwords import MIN_PASSWORD_LENGTH
from desktop.profiles import Profiles
from desktop.vault import Vault
from ui.crash import user_sentence
from ui.page_parts import (
    Busy,
    Message,
    NewPasswordPage,
    Page,
    new_form,
    paragraph,
    password_edit,
)
from ui.tasks import TaskRunner, emit

__all__ = [
    "CreateProfilePage",
    "RecoverPage",
    "RecoveryKeyPage",
    "UnlockPage",
    "release_connection",
]


def release_connection(vault: Vault) -> Vault:
    """Close the vault's SQLite connection on this (worker) thread; keep its keys for the session.

    The connection was opened by the worker that derived the key and may only be closed
    there; the session's database thread opens its own through ``vault_opener``.
    """
    if vault.is_open:
        with contextlib.suppress(sqlite3.Error):
            vault.conn.close()
    return vault



def feedback_label(object_name: str, name: str) -> QLabel:
    """A line that says, as the user types, whether what they typed will do."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAccessibleName(name)
    return label


class CreateProfilePage(NewPasswordPage):
    """First run (or "new profile"): name, password twice with strength feedback, Create."""

    created = Signal(object, str)  # the open Vault, the recovery key (shown once, then gone)
    doing = "creating the profile"
    clear_confirm_on_problem = True

    def __init__(self, profiles: Profiles | None, tasks: TaskRunner, *, can_cancel: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__("Create your profile", "createProfilePage", parent)
        self.profiles = profiles
        self.tasks = tasks
        layout = self.layout_
        layout.addWidget(paragraph(
            "Your profile keeps the assessments you make on this computer, encrypted with "
            "your password. Other people who use this computer cannot open them.",
            "About profiles"))
        layout.addWidget(self.message)

        form = new_form()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("profileName")
        self.name_edit.setAccessibleName("Profile name")
        self.name_edit.setAccessibleDescription(
            "Usually your own name, for example Sam Taylor: letters, digits, spaces, dots, "
            "dashes or underscores.")
        self.name_edit.setMaxLength(64)
        name_label = QLabel("&Profile name")
        name_label.setBuddy(self.name_edit)
        form.addRow(name_label)
        form.addRow(paragraph("Usually your own name, for example Sam Taylor.", "Name hint"))
        form.addRow(self.name_edit)

        self.strength = feedback_label("passwordStrength", "Password strength")
        self.match = feedback_label("passwordMatch", "Whether the passwords match")
        self.add_password_fields(
            form, name="Password", label="Pass&word", object_name="newPassword",
            confirm_name="Password again", confirm_label="Password &again",
            confirm_object_name="confirmPassword",
            hint=("At least 10 characters: a short phrase of several words is easy to "
                  "remember and hard to guess."),
            after_password=self.strength, after_confirm=self.match)

        self.show_passwords = QCheckBox("&Show the passwords")
        self.show_passwords.setAccessibleName("Show the passwords")
        self.show_passwords.setAccessibleDescription("Shows what you typed, to check it.")
        self.show_passwords.toggled.connect(self._toggle_echo)
        form.addRow(self.show_passwords)
        layout.addLayout(form)

        self.add_buttons(layout, text="&Create profile", name="Create profile",
                         cancel_name="Cancel: back to unlocking a profile",
                         busy_text="Creating…", busy_name="Creating the profile")
        self.create_button = self.primary_button
        self.cancel_button.setVisible(can_cancel)

        for edit in (self.name_edit, self.password_edit, self.confirm_edit):
            edit.returnPressed.connect(self.submit)
        self.password_edit.textChanged.connect(self._update_feedback)
        self.name_edit.textChanged.connect(self._update_feedback)
        self.confirm_edit.textChanged.connect(self._update_feedback)
        self._update_feedback()
        self.first = self.name_edit

    def _toggle_echo(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password_edit.setEchoMode(mode)
        self.confirm_edit.setEchoMode(mode)

    @override
    def _names(self) -> tuple[str, ...]:
        return (self.name_edit.text().strip(),)

    def _update_feedback(self) -> None:
        password = self.password_edit.text()
        problem = self.strength_problem(password, self._names())
        if not password:
            text = "Not typed yet."
        elif len(password) < MIN_PASSWORD_LENGTH:
            text = (f"✗ Too short: {len(password)} characters so far, "
                    f"at least {MIN_PASSWORD_LENGTH} needed.")
        elif problem:
            text = f"✗ {problem}"
        else:
            text = "✓ Strong enough."
        self.strength.setText(text)
        self.strength.setAccessibleDescription(text)
        self.strength.setProperty("ok", not problem)
        confirm = self.confirm_edit.text()
        if not confirm:
            match = ""
        elif confirm == password:
            match = "✓ The passwords match."
        else:
            match = "✗ The passwords are not the same yet."
        self.match.setText(match)
        self.match.setAccessibleDescription(match)
        self.match.setVisible(bool(match))
    @override
    def _first_problem(self) -> tuple[str, QLineEdit] | None:
        if not self.name_edit.text().strip():
            return "Enter a name for the profile, usually your own name.", self.name_edit
        return None

    @override
    def _start(self) -> None:
        if self.profiles is None:
            self.message.say("There is no data folder to keep a profile in.")
            return
        self.message.clear_message()
        profiles = self.profiles
        name = self.name_edit.text().strip()
        password = self.password_edit.text()

        def work() -> tuple[Vault, str]:
            vault, recovery_key = create_as_owner(profiles, name, password)
            return release_connection(vault), recovery_key

        self.busy.set(True)
        self.tasks.run(work, self._created, self._failed, owner=self)

    def _created(self, result: object) -> None:
        self.busy.set(False)
        assert isinstance(result, tuple)
        vault, recovery_key = result
        self.password_edit.clear()
        self.confirm_edit.clear()
        emit(self.created, vault, recovery_key)


class RecoveryKeyPage(Page):
    """The recovery key, shown once; continuing needs "I have written this down"."""

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Write down your recovery key", "recoveryKeyPage", parent)
        layout = self.layout_
        layout.addWidget(paragraph(
            "If you forget your password, this recovery key is the only way to open your "
            "assessments again. It is shown only this once: write it down on paper and keep "
            "it somewhere safe, away from this computer.", "About the recovery key"))
        self.key_label = QLabel()
        self.key_label.setObjectName("recoveryKey")
        self.key_label.setAccessibleName("Recovery key")
        self.key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.key_label.setWordWrap(True)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                               | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.key_label)
        layout.addWidget(paragraph(
            "The key uses capital letters and the digits 2 to 7 only: there is no zero and "
            "no one, so O is always the letter O and I is always the letter I.",
            "How to read the key"))
        key_buttons = QHBoxLayout()
        self.print_button = QPushButton("&Print the key…")
        self.print_button.setAccessibleName("Print the recovery key")
        self.print_button.clicked.connect(self._print)
        self.copy_button = QPushButton("Cop&y the key")
        self.copy_button.setAccessibleName("Copy the recovery key")
        self.copy_button.clicked.connect(self._copy)
        key_buttons.addWidget(self.print_button)
        key_buttons.addWidget(self.copy_button)
        key_buttons.addStretch(1)
        layout.addLayout(key_buttons)
        self.key_message = Message()
        layout.addWidget(self.key_message)
        self._key = ""
        self.confirm_box = QCheckBox("&I have written down my recovery key and will keep it safe")
        self.confirm_box.setObjectName("recoveryConfirm")
        self.confirm_box.setAccessibleName("I have written down my recovery key")
        self.confirm_box.setAccessibleDescription("Needed before you can continue.")
        layout.addWidget(self.confirm_box)
        buttons = QHBoxLayout()
        self.continue_button = QPushButton("C&ontinue")
        self.continue_button.setObjectName("primaryButton")
        self.continue_button.setAccessibleName("Continue")
        self.continue_button.setAccessibleDescription(
            "Available once you have ticked that you wrote the key down.")
        self.continue_button.setEnabled(False)
        self.continue_button.setDefault(True)
        buttons.addWidget(self.continue_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.confirm_box.toggled.connect(self.continue_button.setEnabled)
        self.continue_button.clicked.connect(self._continue)
        self._apply_key_font()

    def _apply_key_font(self) -> None:
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        base = self.font()
        if base.pointSizeF() > 0:
            fixed.setPointSizeF(base.pointSizeF() * 1.4)
        fixed.setBold(True)
        self.key_label.setFont(fixed)

    @override
    def _apply_fonts(self) -> None:
        super()._apply_fonts()
        if hasattr(self, "key_label"):
            self._apply_key_font()

    def show_key(self, recovery_key: str) -> None:
        groups = recovery_key.split("-")
        half = (len(groups) + 1) // 2
        # Two lines of groups, easier to copy onto paper (the key is accepted either way).
        self.key_label.setText("-".join(groups[:half]) + "\n" + "-".join(groups[half:])
                               if len(groups) > 4 else recovery_key)
        self.key_label.setAccessibleName("Recovery key")
        self.key_label.setAccessibleDescription(" ".join(recovery_key))  # read out one by one
        self._key = recovery_key
        self.key_message.clear_message()
        self.confirm_box.setChecked(False)
        self.continue_button.setEnabled(False)
        self.first = self.key_label

    @property
    def key_shown(self) -> str:
        return self.key_label.text()

    def _continue(self) -> None:
        if not self.confirm_box.isChecked():
            return
        # Shown once: gone from the window as soon as the user moves on.
        self.key_label.clear()
        self.key_label.setAccessibleDescription("")
        self._key = ""
        self.key_message.clear_message()
        emit(self.confirmed)

    def _copy(self) -> None:
        if not self._key:
            return
        QGuiApplication.clipboard().setText(self._key)
        self.key_message.say("The recovery key was copied. Paste it somewhere safe away from "
                             "this computer, then copy something else over it.", kind="info")

    def print_key(self, printer: QPrinter) -> None:
        """Paint the key on one page, large, in a fixed-width typeface, with what it is for."""
        document = QTextDocument()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        groups = html.escape(self._key).replace("-", " - ")
        document.setHtml(
            "<h1>OneSEND recovery key</h1>"
            "<p>If the password of this OneSEND profile is forgotten, this key sets a new "
            "one (on the unlock page, choose “Use my recovery key”). Keep it somewhere safe, "
            "away from the computer.</p>"
            f'<p style="font-family: \'{html.escape(fixed.family())}\', monospace; '
            f'font-size: 20pt; font-weight: bold;">{groups}</p>'
            "<p>Capital letters and the digits 2 to 7 only: there is no zero and no one.</p>")
        document.print_(printer)

    def _print(self) -> None:
        if not self._key:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print the recovery key")
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:  # Qt's modal event loop
            self.print_key(printer)
            self.key_message.say("The recovery key was sent to the printer.", kind="info")


class UnlockPage(Page):
    """Pick the profile (the only one preselected), type the password, Unlock."""

    unlocked = Signal(object)  # the open Vault
    create_requested = Signal()
    recover_requested = Signal(str)  # the profile chosen: set a new password with its key

    def __init__(self, profiles: Profiles | None, tasks: TaskRunner,
                 profile_names: Sequence[str], *, preferred: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__("Unlock OneSEND", "unlockPage", parent)
        self.profiles = profiles
        self.tasks = tasks
        layout = self.layout_
        layout.addWidget(paragraph(
            "OneSEND keeps assessments on this computer, encrypted. Type your password to "
            "open your profile.", "About unlocking"))
        self.message = Message()
        layout.addWidget(self.message)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("profileChoice")
        self.profile_combo.setAccessibleName("Profile")
        self.profile_combo.setAccessibleDescription("Whose assessments to open.")
        profile_label = QLabel("P&rofile")
        profile_label.setBuddy(self.profile_combo)
        form.addRow(profile_label)
        form.addRow(self.profile_combo)
        self.password_edit = password_edit("Password", "The password of the chosen profile.")
        self.password_edit.setObjectName("unlockPassword")
        password_label = QLabel("Pass&word")
        password_label.setBuddy(self.password_edit)
        form.addRow(password_label)
        form.addRow(self.password_edit)
        layout.addLayout(form)

        buttons = QHBoxLayout()
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setObjectName("primaryButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.clicked.connect(self.submit)
        buttons.addWidget(self.unlock_button)
        buttons.addStretch(1)
        self.new_profile_button = QPushButton("Create a &new profile…")
        self.new_profile_button.setAccessibleName("Create a new profile")
        self.new_profile_button.clicked.connect(lambda: emit(self.create_requested))
        buttons.addWidget(self.new_profile_button)
        layout.addLayout(buttons)
        self.busy = Busy(self.column, self.unlock_button, "Unlocking…", "Unlocking")
        layout.addWidget(self.busy.bar)

        layout.addSpacing(self.fontMetrics().height())
        layout.addWidget(paragraph(
            "Forgotten your password? Your recovery key (the one you wrote down when the "
            "profile was made) sets a new one.", "Forgotten password"))
        recover_row = QHBoxLayout()
        self.recover_button = QPushButton("Use my recovery &key…")
        self.recover_button.setObjectName("recoverButton")
        self.recover_button.setAccessibleName("Use my recovery key to set a new password")
        self.recover_button.clicked.connect(lambda: emit(self.recover_requested, self.profile))
        recover_row.addWidget(self.recover_button)
        recover_row.addStretch(1)
        layout.addLayout(recover_row)
        layout.addStretch(1)

        self.password_edit.returnPressed.connect(self.submit)
        self.set_profiles(profile_names, preferred=preferred)
        self.first = self.password_edit

    def set_profiles(self, names: Sequence[str], *, preferred: str = "") -> None:
        self.profile_combo.clear()
        self.profile_combo.addItems(list(names))
        index = self.profile_combo.findText(preferred) if preferred else -1
        self.profile_combo.setCurrentIndex(index if index >= 0 else 0)

    @property
    def profile(self) -> str:
        return self.profile_combo.currentText()

    def reset(self, *, sentence: str = "") -> None:
        """Back to a fresh page (after a lock): empty password, optional message, focus."""
        self.password_edit.clear()
        if sentence:
            self.message.say(sentence, kind="info")
        else:
            self.message.clear_message()
        self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        if self.busy.active:
            return
        password = self.password_edit.text()
        if not password:
            self.message.say("Type your password to unlock the profile.")
            self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if self.profiles is None or not self.profile:
            self.message.say("There is no profile to unlock on this computer.")
            return
        profiles, name = self.profiles, self.profile
        self.busy.set(True)
        self.message.clear_message()
        # The window owns the profile for the session (a second window is refused).
        self.tasks.run(lambda: release_connection(unlock_as_owner(profiles, name, password)),
                       self._unlocked, self._failed, owner=self)

    def _unlocked(self, vault: object) -> None:
        self.busy.set(False)
        self.password_edit.clear()
        self.message.clear_message()
        emit(self.unlocked, vault)

    def _failed(self, error: object) -> None:
        self.busy.set(False)
        assert isinstance(error, BaseException)
        self.message.say(user_sentence(error, "unlocking the profile"))
        self.password_edit.clear()
        self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)


class RecoverPage(NewPasswordPage):
    """Forgotten password: the recovery key and a new password (twice), then unlock again.

    The key is checked and the data key re-wrapped off the GUI thread; no record changes.
    """

    recovered = Signal(str)  # the profile whose password was set
    doing = "setting the new password"

    def __init__(self, profiles: Profiles | None, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__("Set a new password with your recovery key", "recoverPage", parent)
        self.profiles = profiles
        self.tasks = tasks
        self.profile = ""
        layout = self.layout_
        self.about = paragraph("", "About this page")
        layout.addWidget(self.about)
        layout.addWidget(self.message)
        form = new_form()
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("recoveryKeyEdit")
        self.key_edit.setAccessibleName("Recovery key")
        self.key_edit.setAccessibleDescription(
            "32 capital letters and digits, in groups of four; spaces and dashes do not matter.")
        self.key_edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData
                                          | Qt.InputMethodHint.ImhNoPredictiveText)
        key_label = QLabel("Recovery &key")
        key_label.setBuddy(self.key_edit)
        form.addRow(key_label)
        form.addRow(paragraph("As you wrote it down, for example ABCD-EFGH-…; capitals, "
                              "spaces and dashes do not matter.", "Recovery key hint"))
        form.addRow(self.key_edit)
        self.add_password_fields(
            form, name="New password", label="&New password", object_name="recoverPassword",
            confirm_name="New password again", confirm_label="New password &again",
            confirm_object_name="recoverConfirm")
        layout.addLayout(form)
        self.add_buttons(layout, text="&Set the new password", name="Set the new password",
                         cancel_name="Cancel: back to unlocking",
                         busy_text="Setting the password…", busy_name="Setting the new password")
        for edit in (self.key_edit, self.password_edit, self.confirm_edit):
            edit.returnPressed.connect(self.submit)
        self.first = self.key_edit

    def start(self, profile: str) -> None:
        """A fresh page for this profile."""
        self.profile = profile
        text = (f"For the profile {profile}. Type the recovery key you wrote down when the "
                "profile was made, and choose a new password. Your assessments stay as they "
                "are.")
        self.about.setText(text)
        self.about.setAccessibleDescription(text)
        for edit in (self.key_edit, self.password_edit, self.confirm_edit):
            edit.clear()
        self.message.clear_message()
        self.key_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    @override
    def _first_problem(self) -> tuple[str, QLineEdit] | None:
        if not self.key_edit.text().strip():
            return "Type the recovery key you wrote down.", self.key_edit
        return None

    @override
    def _start(self) -> None:
        if self.profiles is None or not self.profile:
            self.message.say("There is no profile to set a password for on this computer.")
            return
        profiles, name = self.profiles, self.profile
        key, password = self.key_edit.text(), self.password_edit.text()
        self.message.clear_message()
        self.busy.set(True)
        self.tasks.run(lambda: profiles.recover(name, key, password),
                       self._done, self._failed, owner=self)

    def _done(self, _result: object) -> None:
        self.busy.set(False)
        for edit in (self.key_edit, self.password_edit, self.confirm_edit):
            edit.clear()
        emit(self.recovered, self.profile)

    @override
    def _failed(self, error: object) -> None:
        super()._failed(error)
        self.key_edit.selectAll()

    @override
    def _cancel(self) -> None:
        for edit in (self.key_edit, self.password_edit, self.confirm_edit):
            edit.clear()
        super()._cancel()
