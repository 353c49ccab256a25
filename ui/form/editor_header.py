"""The editor's header: the child's name and the record's status, then the save state, Undo and
the family copy.

On one line when everything fits at its full size; otherwise (200% text in a laptop's window,
WCAG 1.4.4 and 1.4.10) the save state and the buttons move to a second line, right-aligned, so
nothing is drawn over anything else and no button is cut. A name wider than its line is cut
with "…" where it is painted; the label's text, and so what a screen reader says, stays whole.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from typing_extensions import override

from ui.scaling import relative_font

# The widest the save state usually reads: the arrangement is chosen for it, so the header does
# not jump between one and two lines as "Saving…" and "✓ All changes saved" take turns.
SAVED_TEXT = "✓ All changes saved"
NAME_MIN_WIDTH = 120


class NameLabel(QLabel):
    """The child's name, painted with "…" when it is wider than the label."""

    @override
    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        metrics = self.fontMetrics()
        if metrics.horizontalAdvance(self.text()) <= rect.width():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        shown = metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(),
                                  self.isEnabled(), shown, self.foregroundRole())


class EditorHeader(QWidget):
    """The name and status on the first line; the save state and buttons beside them, or on a
    second line when the first cannot hold them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = NameLabel(self)
        self.title_label.setObjectName("editorTitle")
        relative_font(self.title_label, 1.3)
        self.title_label.setMinimumWidth(NAME_MIN_WIDTH)  # never widens the window
        self.status_label = QLabel(self)
        self.status_label.setObjectName("recordStatus")
        self.save_label = QLabel(self)
        self.save_label.setObjectName("saveState")
        self.undo_button = QPushButton("&Undo last change", self)
        self.undo_button.setEnabled(False)
        self.pdf_button = QPushButton("Family copy (&PDF)…", self)
        self.open_pdf_button = QPushButton("&Open the PDF", self)
        self.open_pdf_button.setVisible(False)

        self.save_and_buttons = QWidget(self)
        row = QHBoxLayout(self.save_and_buttons)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.save_label, self.undo_button, self.pdf_button, self.open_pdf_button):
            row.addWidget(widget)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(12, 8, 12, 8)
        self.first = QHBoxLayout()
        self.first.addWidget(self.title_label)
        self.first.addWidget(self.status_label)
        self.first.addStretch(1)
        self.first.addWidget(self.save_and_buttons)
        self.second = QHBoxLayout()
        self.second.addStretch(1)
        self.outer.addLayout(self.first)
        self.outer.addLayout(self.second)
        self._one_line = True

    @property
    def one_line(self) -> bool:
        """Whether the save state and the buttons share the name's line."""
        return self._one_line

    def set_name(self, name: str) -> bool:
        """Show this name; whether it changed."""
        if name == self.title_label.text():
            return False
        self.title_label.setText(name)
        self.arrange()
        return True

    def set_save_state(self, state: str, text: str) -> None:
        self.save_label.setText(text)
        self.save_label.setAccessibleDescription(text)
        self.save_label.setProperty("state", state)
        self.arrange()

    def arrange(self) -> None:
        """One line or two, for the width the header has now."""
        one_line = self.width() >= self._one_line_width()
        if one_line == self._one_line:
            return
        self._one_line = one_line
        (self.second if one_line else self.first).removeWidget(self.save_and_buttons)
        (self.first if one_line else self.second).addWidget(self.save_and_buttons)

    def _one_line_width(self) -> int:
        margins = self.outer.contentsMargins()
        spacing = max(0, self.first.spacing())
        saved = self.save_label.fontMetrics().horizontalAdvance(SAVED_TEXT)
        widest = max(0, saved - self.save_label.sizeHint().width())
        actions = self.save_and_buttons.sizeHint().width() + widest
        return (margins.left() + margins.right() + self.title_label.sizeHint().width()
                + self.status_label.sizeHint().width() + actions + 3 * spacing)

    @override
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.arrange()

    @override
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            QTimer.singleShot(0, self, self.arrange)  # once the parts have their new sizes
