"""What OneSEND put on the clipboard is taken off it when the session locks.

A child's name copied from a field must not stay on the clipboard (or the X11 selection) of
a locked laptop. Only a hash of what we put there is kept, and it is cleared only when the
clipboard still holds exactly that: something copied since in another application is left.
"""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QObject
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QApplication


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class ClipboardGuard(QObject):
    """Watches the clipboard; `clear_ours()` empties each mode still holding our text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ours: dict[QClipboard.Mode, bytes] = {}
        clipboard = QGuiApplication.clipboard()
        clipboard.changed.connect(self._changed)

    def _modes(self) -> list[QClipboard.Mode]:
        clipboard = QGuiApplication.clipboard()
        modes = [QClipboard.Mode.Clipboard]
        if clipboard.supportsSelection():
            modes.append(QClipboard.Mode.Selection)
        return modes

    def _changed(self, mode: QClipboard.Mode) -> None:
        clipboard = QGuiApplication.clipboard()
        text = clipboard.text(mode)
        # Ours when this application owns it, or changed while one of our windows is active
        # (some platforms, the offscreen one included, never report ownership).
        owned = (clipboard.ownsClipboard() if mode == QClipboard.Mode.Clipboard
                 else clipboard.ownsSelection())
        ours = owned or QApplication.activeWindow() is not None
        if ours and text:
            self._ours[mode] = _digest(text)
        else:
            self._ours.pop(mode, None)

    def clear_ours(self) -> None:
        clipboard = QGuiApplication.clipboard()
        for mode in self._modes():
            digest = self._ours.pop(mode, None)
            if digest is not None and _digest(clipboard.text(mode)) == digest:
                clipboard.clear(mode)
