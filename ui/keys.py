"""Keys that work the same everywhere in the window (GOV.UK's keyboard model).

Enter activates the focused button or link, as Space does: Qt only does that for buttons in
a dialog, so the main window's "Next", "Undo last change", error-summary and "Change" links
and toolbar buttons did nothing on Enter. One application-wide filter fixes them all.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton
from typing_extensions import override

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class EnterActivates(QObject):
    """Enter (without Ctrl, Alt or Shift) on a focused push or tool button clicks it."""

    @override
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in _ENTER and isinstance(watched, QPushButton | QToolButton)):
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if (modifiers == Qt.KeyboardModifier.NoModifier and watched.hasFocus()
                    and watched.isEnabled() and watched.isVisible()):
                if watched.menu() is not None:
                    watched.showMenu()
                else:
                    watched.click()
                return True
        return False


_installed: list[EnterActivates] = []


def install_enter_activation(app: QApplication) -> None:
    """Install the filter once for the application (more calls do nothing)."""
    if not _installed:
        keys = EnterActivates(app)
        app.installEventFilter(keys)
        _installed.append(keys)
