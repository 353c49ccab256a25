"""A finalised record's answers: reached with Tab, read at full contrast, never changed.

Qt's disabled state greys a control out and takes it out of the Tab order, so a finalised
record's choices could be neither read comfortably nor reached by a keyboard or screen-reader
user (WCAG 2.1.1; its text answers were read-only boxes already). A choice list, a list of
ticks or a radio button stays enabled instead, and `ReadOnlyGuard` swallows what would change
it: clicks, the wheel, and the keys that pick or tick. Tab, and the arrows in a list of ticks
(they only move), still work; a screen reader reads the answer as it is.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QWidget
from typing_extensions import override

# Keys that choose, tick or open a list (arrows move a radio group's choice and a combo's).
PICKING_KEYS = frozenset({
    Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space, Qt.Key.Key_Select,
    Qt.Key.Key_F4, Qt.Key.Key_Return, Qt.Key.Key_Enter,
})
TICKING_KEYS = frozenset({Qt.Key.Key_Space, Qt.Key.Key_Select})  # a list's arrows only move
_POINTER = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                      QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel})
_KEYS = frozenset({QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride})


class ReadOnlyGuard(QObject):
    """Swallows the pointer and the given keys on the widgets it watches, while `active`."""

    def __init__(self, owner: QWidget, keys: frozenset[Qt.Key]) -> None:
        super().__init__(owner)
        self.keys = keys
        self.active = False

    @override
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.active:
            return False
        kind = event.type()
        if kind in _POINTER:
            return True
        return (kind in _KEYS and isinstance(event, QKeyEvent)
                and Qt.Key(event.key()) in self.keys)


def set_read_only_choice(widget: QWidget, read_only: bool) -> None:
    """Make a choice (combo, list of ticks, radio button) read-only but readable, or not."""
    line = widget.lineEdit() if isinstance(widget, QComboBox) else None
    guard = widget.findChild(ReadOnlyGuard, "", Qt.FindChildOption.FindDirectChildrenOnly)
    if guard is None:
        watched: list[QObject] = [widget]
        if isinstance(widget, QAbstractItemView):
            watched.append(widget.viewport())  # where a list's clicks arrive
        if line is not None:
            watched.append(line)  # where a searchable list's keys arrive
        items = isinstance(widget, QAbstractItemView)
        guard = ReadOnlyGuard(widget, TICKING_KEYS if items else PICKING_KEYS)
        for target in watched:
            target.installEventFilter(guard)  # the last installed runs first
    guard.active = read_only
    widget.setEnabled(True)
    if line is not None:
        line.setReadOnly(read_only)
