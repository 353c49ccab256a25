"""The editor's side list: a row per visible section with its mark, then the two pages.

Draws the rows `ui.form.navigation.sidebar_rows` works out; after an edit only the rows whose
words changed are touched. ``picked`` says which row the user chose.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)
from typing_extensions import override

from ui.form.navigation import PAGES
from ui.form.widgets import describe
from ui.scaling import width_in_characters
from ui.tasks import emit


class WrappedRow(QStyledItemDelegate):
    """A row as tall as its words wrapped at the width they are painted in.

    Qt's own hint measured a row's words at their one-line width, which can be a pixel or two
    wider than the list: such a row got one line's height and was painted cut to "…" ("✓ Advice
    received (section K) …", found under Xvfb in the window's first size)."""

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self.view = view

    @override
    def sizeHint(self, _option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        view = self.view
        margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        width = view.viewport().width() - 2 * view.spacing()
        words = view.fontMetrics().boundingRect(
            QRect(0, 0, max(1, width - 2 * margin), 100_000), int(Qt.TextFlag.TextWordWrap),
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
        return QSize(max(1, width), max(words.height(), view.fontMetrics().height()))


class SectionSidebar(QListWidget):
    """Sections of the form, each showing whether it is complete or what is left to do."""

    picked = Signal(str)  # a section id, or one of the pages (navigation.CHECK_PAGE, ...)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sectionList")
        describe(self, "Sections of the form",
                 "Each section shows whether it is complete or what is left to do.")
        width_in_characters(self, 26, minimum=True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap when resized
        self.setWordWrap(True)
        self.setSpacing(3)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setItemDelegate(WrappedRow(self))
        self.currentItemChanged.connect(self._picked)

    def keys(self) -> list[str]:
        return [str(self.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.count())]

    def show_rows(self, rows: list[tuple[str, str]], current: str) -> None:
        """Show these rows: only changed words are set, unless the sections themselves changed."""
        if self.keys() != [key for key, _words in rows]:
            self.blockSignals(True)
            self.clear()
            for key, words in rows:
                item = QListWidgetItem(words, self)
                item.setData(Qt.ItemDataRole.UserRole, key)
                if key not in dict(PAGES):
                    item.setData(Qt.ItemDataRole.AccessibleTextRole, words)
            self.select(current)
            self.blockSignals(False)
            return
        for row, (key, words) in enumerate(rows):
            item = self.item(row)
            if item.text() != words and key not in dict(PAGES):
                item.setText(words)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, words)

    def select(self, key: str) -> None:
        """Mark a row as the one on show, without announcing a pick."""
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.blockSignals(True)
                self.setCurrentRow(row)
                self.blockSignals(False)
                return

    def _picked(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            emit(self.picked, str(item.data(Qt.ItemDataRole.UserRole)))
