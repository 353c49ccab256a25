"""Change the password and re-key: the current password and a new one (typed twice).

The work itself (every record re-encrypted under a new key) runs off the GUI thread after the
session is locked; see ``MainWindow.change_password_and_rekey``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import InvalidInput
from desktop.passwords import check_password_strength
from ui.tasks import emit

EXPLANATION = (
    "Use this when your password may have been seen by someone else. OneSEND locks, then "
    "re-encrypts every assessment under a new key, so an old copy of your profile with the "
    "old password opens nothing. You then get a new recovery key to write down; the old one "
    "stops working."
)


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData
                             | Qt.InputMethodHint.ImhNoPredictiveText)
    return edit


class RekeyDialog(QDialog):
    """Asks for the passwords; ``submitted(current, new)`` once they are acceptable."""

    submitted = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change password and re-key")
        self.setObjectName("rekeyDialog")
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        self.current_edit = _password_edit("Current password")
        self.new_edit = _password_edit("New password")
        self.repeat_edit = _password_edit("New password again")
        form = QFormLayout()
        form.addRow("&Current password", self.current_edit)
        form.addRow("&New password", self.new_edit)
        form.addRow("New password &again", self.repeat_edit)
        self.message = QLabel()
        self.message.setObjectName("rekeyMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Problem")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton("Change password and re-key",
                                           QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.current_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        current, new = self.current_edit.text(), self.new_edit.text()
        problem = ""
        if not current:
            problem = "Type your current password."
        elif new != self.repeat_edit.text():
            problem = "The two new passwords are not the same."
        else:
            try:
                check_password_strength(new)
            except InvalidInput as exc:
                problem = str(exc)
        if problem:
            self.message.setText(problem)
            return
        for edit in (self.current_edit, self.new_edit, self.repeat_edit):
            edit.clear()
        self.accept()
        emit(self.submitted, current, new)
