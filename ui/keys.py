"""Keys that work the same everywhere in the window (GOV.UK's keyboard model).

Arrow keys in a radio group choose as they move (``ArrowsSelect``).

Enter activates the focused button or link, as Space does: Qt only does that for buttons in
a dialog, so the main window's "Next", "Undo last change", error-summary and "Change" links
and toolbar buttons did nothing on Enter. One application-wide filter fixes them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QPushButton, QToolButton
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


_ARROWS = {Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1}


class ArrowsSelect(QObject):
    """Arrow keys in a group of radio buttons move to the next one *and* choose it; the
    group is one Tab stop (the chosen option, else the first).

    Qt moves only the focus once one button is checked (the others lose their Tab stop), so
    the answer did not change although the focus did; a radio group is one Tab stop and the
    arrows choose, as in a browser and the GOV.UK radios.
    """

    def __init__(self, buttons: Sequence[QAbstractButton], parent: QObject) -> None:
        super().__init__(parent)
        self.buttons = list(buttons)
        for button in self.buttons:
            button.installEventFilter(self)
            button.toggled.connect(self._tab_stops)
        self._tab_stops()

    def _tab_stops(self, *_checked: object) -> None:
        """One Tab stop for the group, as in a browser: the chosen option, else the first."""
        stop = next((b for b in self.buttons if b.isChecked()), self.buttons[0])
        for button in self.buttons:
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus if button is stop
                                  else Qt.FocusPolicy.ClickFocus)

    @override
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent)
                or event.key() not in _ARROWS or watched not in self.buttons):
            return False
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        usable = [b for b in self.buttons if b.isEnabled() and b.isVisible()]
        if watched not in usable or len(usable) < 2:
            return True
        step = _ARROWS[Qt.Key(event.key())]
        target = usable[(usable.index(watched) + step) % len(usable)]
        target.setFocus(Qt.FocusReason.TabFocusReason)
        if not target.isChecked():
            target.click()  # as a person's click: the group's signals follow
        return True
