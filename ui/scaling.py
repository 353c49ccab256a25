"""Sizes that follow the text size (WCAG 1.4.4): headings relative to the body text, and
widths counted in characters.

A font set on a widget with an explicit size no longer follows the application's, so a
heading made 1.7 times the text once became smaller than the body text after Larger text.
These helpers re-apply the relation whenever the application's font changes.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget
from typing_extensions import override


class _Follow(QObject):
    """Runs `apply` now, each time the application's font changes (Larger text, Normal text
    size) and each time the widget's own font changes.

    The application's change comes by `QGuiApplication.fontChanged`: a widget whose font was
    set explicitly (as `apply` does) gets no ApplicationFontChange or FontChange event from
    `QApplication.setFont`, so an event filter alone left every heading at the size it had when
    it was made (found under Xvfb: 200% headings after Ctrl+0).
    """

    def __init__(self, widget: QWidget, apply: Callable[[], None]) -> None:
        super().__init__(widget)
        self.apply = apply
        self._busy = False
        widget.installEventFilter(self)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.fontChanged.connect(self._font_changed)  # dropped with this object
        apply()

    @Slot(QFont)
    def _font_changed(self, _font: QFont) -> None:
        self._reapply()

    @override
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:
            self._reapply()
        return False

    def _reapply(self) -> None:
        if self._busy:
            return  # our own setFont sends a FontChange
        self._busy = True
        try:
            self.apply()
        finally:
            self._busy = False


def relative_font(widget: QWidget, factor: float, *, bold: bool = True) -> None:
    """The widget's text stays `factor` times the application's text size."""

    def apply() -> None:
        base = QApplication.font()
        font = QFont(widget.font())
        if base.pointSizeF() > 0:
            font.setPointSizeF(base.pointSizeF() * factor)
        elif base.pixelSize() > 0:
            font.setPixelSize(max(1, round(base.pixelSize() * factor)))
        font.setBold(bold)
        if font != widget.font():
            widget.setFont(font)

    _Follow(widget, apply)


def width_in_characters(widget: QWidget, characters: float, *, minimum: bool = False,
                        extra: int = 0) -> None:
    """The widget's maximum (or minimum) width, in average characters of its own font."""

    def apply() -> None:
        pixels = round(widget.fontMetrics().averageCharWidth() * characters) + extra
        if minimum:
            widget.setMinimumWidth(pixels)
        else:
            widget.setMaximumWidth(pixels)

    _Follow(widget, apply)


def follow_font(widget: QWidget, apply: Callable[[], None]) -> None:
    """Run `apply` now and again whenever the text size changes."""
    _Follow(widget, apply)
