"""The CTF import's two tables, drawn: the preview of the pupils in a file (a tick each, and a
drop-down for those already in OneSEND) and the summary of what the import did.

What they show and what a tick or a choice does is decided by `ui.ctf_preview.CtfPreview`
(Qt-free); the models here only hand its text to the views and its changes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)
from typing_extensions import override

from desktop.ctf_mapping import OnExisting
from ui.ctf_preview import (
    CHOICE,
    COLUMNS,
    DATE_OF_BIRTH,
    EXISTING,
    NAME,
    SEN,
    SKIP,
    SUMMARY_COLUMNS,
    TICK,
    UPDATE,
    UPN,
    UPN_VALID,
    YEAR,
    CtfPreview,
    PreviewRow,
)
from ui.table_model import TitledTableModel
from ui.tasks import emit


class PreviewModel(TitledTableModel):
    """The pupils of the file as a table: the presenter's text, ticks and choices."""

    ticks_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.preview = CtfPreview()

    @property
    def rows(self) -> list[PreviewRow]:
        return self.preview.rows

    def set_rows(self, rows: list[PreviewRow]) -> None:
        self.beginResetModel()
        self.preview.set_rows(rows)
        self.endResetModel()
        emit(self.ticks_changed)

    def ticked_count(self) -> int:
        return self.preview.ticked_count()

    def toggle(self, row: int) -> None:
        if self.preview.toggle(row):
            self._changed(row, row, TICK)

    def set_all(self, ticked: bool) -> None:
        if self.rows:
            self.preview.set_all(ticked)
            self._changed(0, len(self.rows) - 1, TICK)

    def set_all_choices(self, choice: OnExisting) -> None:
        if self.rows:
            self.preview.set_all_choices(choice)
            self._changed(0, len(self.rows) - 1, CHOICE)

    def _changed(self, first: int, last: int, column: int) -> None:
        emit(self.dataChanged, self.index(first, column), self.index(last, column))
        emit(self.ticks_changed)

    # -- QAbstractTableModel -----------------------------------------------------------------------

    titles = COLUMNS

    @override
    def row_count(self) -> int:
        return len(self.rows)

    @override
    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(self.rows[section].position) if section < len(self.rows) else None
        return super().headerData(section, orientation, role)

    @override
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == TICK and self.preview.tickable(index.row()):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == CHOICE and self.preview.choosable(index.row()):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.preview.text(row, column)
        if (role == Qt.ItemDataRole.CheckStateRole and column == TICK
                and self.preview.tickable(row)):
            return Qt.CheckState.Checked if self.preview.ticked[row] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column == TICK:
                return self.preview.tick_words(row)
            return self.preview.text(row, column) or "Blank"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.preview.tooltip(row, column) or None
        return None

    @override
    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any,
        role: int = Qt.ItemDataRole.EditRole,
    ) -> bool:
        if not index.isValid():
            return False
        row, column = index.row(), index.column()
        if column == TICK and role == Qt.ItemDataRole.CheckStateRole:
            state = value.value if isinstance(value, Qt.CheckState) else value
            if not self.preview.set_ticked(row, state == Qt.CheckState.Checked.value):
                return False
            self._changed(row, row, TICK)
            return True
        if column == CHOICE and role == Qt.ItemDataRole.EditRole:
            choice: OnExisting = "update" if value in ("update", UPDATE) else "skip"
            if not self.preview.set_choice(row, choice):
                return False
            self._changed(row, row, CHOICE)
            return True
        return False


class ChoiceDelegate(QStyledItemDelegate):
    """A drop-down for "Skip" or "Update the existing draft's details"."""

    @override
    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        combo = QComboBox(parent)
        combo.addItem(SKIP, "skip")
        combo.addItem(UPDATE, "update")
        combo.setAccessibleName("What to do with this pupil already in OneSEND")
        return combo

    @override
    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(1 if index.data() == UPDATE else 0)

    @override
    def setModelData(
        self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class PreviewTable(QTableView):
    """Space ticks or unticks the current pupil, whichever column the cursor is in."""

    toggle_row = Signal(int)

    @override
    def keyPressEvent(self, event: QKeyEvent) -> None:
        editing = self.state() == QAbstractItemView.State.EditingState
        if editing or not self.currentIndex().isValid():
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Space:
            emit(self.toggle_row, self.currentIndex().row())
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            index = self.currentIndex()
            if index.column() == CHOICE and index.flags() & Qt.ItemFlag.ItemIsEditable:
                self.edit(index)
                event.accept()
                return
        super().keyPressEvent(event)


# The widest text each column usually holds (longer text is elided, in full in its tooltip).
COLUMN_SAMPLES = {
    TICK: "", NAME: "Mirith Pebbleford-Ó Brá", DATE_OF_BIRTH: "30 Sep 2020",
    YEAR: "Reception", UPN: "W888888888888", UPN_VALID: "No: wrong check letter",
    SEN: "K: SEN support", EXISTING: "Already in OneSEND", CHOICE: UPDATE,
}


def size_columns(table: QTableView, samples: Mapping[int, str]) -> None:
    """Widths from the text itself (digits are wider than an average character)."""
    cells = table.fontMetrics()
    bold = table.horizontalHeader().font()
    bold.setBold(True)
    header_metrics = QFontMetrics(bold)
    model = table.model()
    header = table.horizontalHeader()
    for column, sample in samples.items():
        title = str(model.headerData(column, Qt.Orientation.Horizontal))
        width = max(cells.horizontalAdvance(sample), header_metrics.horizontalAdvance(title))
        header.resizeSection(column, width + 24)


class SummaryModel(TitledTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lines: list[tuple[str, str, str]] = []

    def set_lines(self, lines: list[tuple[str, str, str]]) -> None:
        self.beginResetModel()
        self.lines = lines
        self.endResetModel()

    titles = SUMMARY_COLUMNS

    @override
    def row_count(self) -> int:
        return len(self.lines)

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
                    Qt.ItemDataRole.ToolTipRole):
            return self.lines[index.row()][index.column()]
        return None
