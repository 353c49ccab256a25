"""The assessment list: every record in a table model, searched, filtered and sorted in memory.

The rows are built off the GUI thread (`desktop.listing.list_rows`, then the display text and
sort keys), so the GUI thread only swaps them in with one model reset. A search by name or a
status filter never decrypts anything; a search by UPN asks the blind index on the database
thread. 10,000 rows stay smooth: no per-row widgets, uniform row heights, and sorting done
with Python's `sorted` over precomputed keys instead of a comparison per call into Python.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken
from typing_extensions import override

from desktop.errors import OneSendError
from desktop.listing import (
    DAMAGED_TEXT,
    LIST_STATUSES,
    STATUS_LABELS,
    ListRow,
    fold,
    list_rows,
    looks_like_upn,
    matches_name,
    matching_upn,
    parse_iso_date,
)
from desktop.vault import Vault
from forms.bounds import SHORT_CHARS, clip_text
from ui.crash import user_sentence
from ui.table_model import TitledTableModel
from ui.tasks import TaskRunner, emit

COLUMNS = (
    "Child", "Date of birth", "Setting", "Kind of assessment", "Status", "Last edited",
    "Next statutory date",
)
CHILD, DATE_OF_BIRTH, SETTING, KIND, STATUS, LAST_EDITED, NEXT_DATE = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
DAMAGED_FILTER = "damaged"
ALL_FILTER = ""
SEARCH_DEBOUNCE_MS = 250
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAMAGED_SENTENCE = (
    "This record is damaged and cannot be opened. The other assessments are not affected; "
    "to recover it, restore your last backup (File → Restore a backup…)."
)
DAMAGED_STATUS = "Damaged"
_ATTENTION = frozenset({"conflict", "quarantined"})


def uk_date(iso: str) -> str:
    """An ISO date as people in England read it (3 Mar 2015); other text unchanged."""
    day = parse_iso_date(iso)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else iso


def uk_time(iso: str) -> str:
    """A stored UTC timestamp as local date and time (3 Mar 2015, 14:05)."""
    try:
        moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    return f"{uk_date(moment.date().isoformat())}, {moment:%H:%M}"


@dataclass(frozen=True)
class PreparedRows:
    """Rows with their display text and sort keys, computed off the GUI thread."""

    rows: list[ListRow]
    display: list[tuple[str, ...]]
    keys: list[tuple[Any, ...]]
    # Vault-wide checks (audit log, removed or rolled-back records): one sentence each.
    problems: tuple[str, ...] = ()


def _date_key(iso: str) -> tuple[int, str]:
    # Real dates first in date order (ISO sorts chronologically); text that is not a date,
    # then blanks, after them, whichever way the column is sorted.
    if parse_iso_date(iso):
        return (0, iso)
    return (1, fold(iso)) if iso else (2, "")


def _bounded(text: str) -> str:
    """A cell never holds more than a name's bound (a record saved before the bounds may)."""
    clipped, cut = clip_text(text, SHORT_CHARS)
    return clipped + "…" if cut else clipped


def prepare(rows: list[ListRow]) -> PreparedRows:
    """Display text (UK dates) and sort keys (ISO dates, folded names) for each row."""
    display: list[tuple[str, ...]] = []
    keys: list[tuple[Any, ...]] = []
    # Settings, kinds and dates repeat across thousands of rows: format each once.
    dates: dict[str, str] = {}
    folded: dict[str, tuple[int, str]] = {"": (1, "")}

    def shown(iso: str) -> str:
        text = dates.get(iso)
        if text is None:
            text = dates[iso] = uk_date(iso)
        return text

    def text_key(text: str) -> tuple[int, str]:
        key = folded.get(text)
        if key is None:
            key = folded[text] = (0, fold(text))
        return key

    for row in rows:
        due = ""
        if row.next_statutory_date:
            due = f"{shown(row.next_statutory_date)} · {row.next_statutory_label}"
        if row.damaged:
            # Short words in the cells; the whole sentence is the row's tooltip.
            display.append(("Damaged record", "", "", "", DAMAGED_STATUS,
                            uk_time(row.last_edited), ""))
        else:
            display.append((
                _bounded(row.child), shown(row.date_of_birth), _bounded(row.setting),
                row.kind_label,
                row.status_label, uk_time(row.last_edited), due,
            ))
        keys.append((
            (1, "", "") if row.damaged else (0, fold(row.last_name), fold(row.first_name)),
            _date_key(row.date_of_birth),
            text_key(row.setting),
            text_key(row.kind_label),
            (LIST_STATUSES.index(row.status) if row.status in LIST_STATUSES else 99,),
            row.last_edited,
            _date_key(row.next_statutory_date),
        ))
    return PreparedRows(rows, display, keys)


def load_rows(vault: Vault, today: datetime.date) -> PreparedRows:
    """The database thread's work: decrypt the summaries once and prepare every row."""
    prepared = prepare(list_rows(vault, today))
    try:
        problems = tuple(vault.check_metadata())
    except OneSendError as exc:  # a damaged page: the rows above still show
        problems = (str(exc),)
    return dataclasses.replace(prepared, problems=problems)


class AssessmentTableModel(TitledTableModel):
    """The rows of the list, in the order last sorted; set all at once with one reset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ListRow] = []
        self._display: list[tuple[str, ...]] = []
        self._keys: list[tuple[Any, ...]] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None
        style = parent.style() if parent is not None else None
        self._warning = (
            style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if style else None
        )

    def clear(self) -> None:
        """Drop every row (on lock)."""
        self.beginResetModel()
        self.rows, self._display, self._keys = [], [], []
        self.endResetModel()

    def set_rows(self, prepared: PreparedRows) -> None:
        self.beginResetModel()
        self.rows, self._display, self._keys = prepared.rows, prepared.display, prepared.keys
        if self._sort is not None:
            self._apply_sort(*self._sort)
        self.endResetModel()

    def row_id(self, row: int) -> str:
        return self.rows[row].id

    titles = COLUMNS

    @override
    def row_count(self) -> int:
        return len(self.rows)

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[row][column]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if self.rows[row].damaged and column == CHILD:
                return DAMAGED_TEXT
            return self._display[row][column]
        if role == SORT_ROLE:
            return self._keys[row][column]
        if role == ID_ROLE:
            return self.rows[row].id
        if role == STATUS_ROLE:
            return self.rows[row].status
        return self._extra(row, column, role)

    def _extra(self, row: int, column: int, role: int) -> Any:
        item = self.rows[row]
        if role == Qt.ItemDataRole.ToolTipRole:
            if item.damaged:
                return DAMAGED_TEXT
            if column == NEXT_DATE and item.overdue:
                return "The statutory date has passed and this assessment has not been sent."
            return self._display[row][column] or None
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS and (
                item.damaged or item.status in _ATTENTION):
            return self._warning  # an extra cue: the words say it too
        if role == Qt.ItemDataRole.ForegroundRole and column == NEXT_DATE and item.overdue:
            return QColor("#d4351c")
        return None

    @override
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        emit(self.layoutAboutToBeChanged)
        self._sort = (column, order)
        self._apply_sort(column, order)
        emit(self.layoutChanged)

    def _apply_sort(self, column: int, order: Qt.SortOrder) -> None:
        # One sorted() over precomputed keys (the same ones SORT_ROLE returns): stable, with
        # the child's name breaking ties, so equal dates keep a predictable order.
        reverse = order == Qt.SortOrder.DescendingOrder
        indices = sorted(
            range(len(self.rows)),
            key=lambda i: (self._keys[i][column], self._keys[i][CHILD]),
            reverse=reverse,
        )
        self.rows = [self.rows[i] for i in indices]
        self._display = [self._display[i] for i in indices]
        self._keys = [self._keys[i] for i in indices]


class AssessmentFilter(QSortFilterProxyModel):
    """Search by name (case- and accent-insensitive) or UPN ids, and filter by status.

    Sorting is delegated to the source model: `QSortFilterProxyModel` would call back into
    Python's `data()` twice per comparison (hundreds of thousands of calls for 10,000 rows); the
    source sorts its precomputed keys in one `sorted()`. The proxy keeps the source's order.
    """

    def __init__(self, source: AssessmentTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.source = source
        self._words: list[str] = []
        self._upn_ids: set[str] | None = None
        self._status = ALL_FILTER

    def set_search(self, text: str) -> None:
        """A name search: every word must appear in the child's first or last name."""
        self.beginFilterChange()
        self._words = fold(text).split()
        self._upn_ids = None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_upn_ids(self, ids: set[str]) -> None:
        """A UPN search: only these records (found through the blind index)."""
        self.beginFilterChange()
        self._words = []
        self._upn_ids = set(ids)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_status(self, status: str) -> None:
        self.beginFilterChange()
        self._status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def filtering(self) -> bool:
        return bool(self._words) or self._upn_ids is not None or bool(self._status)

    @override
    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        item = self.source.rows[source_row]
        if self._status:
            if self._status == DAMAGED_FILTER:
                if not item.damaged:
                    return False
            elif item.status != self._status or item.damaged:
                return False
        if self._upn_ids is not None:
            return item.id in self._upn_ids
        return not self._words or matches_name(item, self._words)

    @override
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.source.sort(column, order)


class AssessmentTable(QTableView):
    """The table: whole-row selection, Enter or double-click opens the record."""

    open_row = Signal(QModelIndex)

    @override
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            emit(self.open_row, self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)


class AssessmentListPage(QWidget):
    """Every assessment in the vault: search, filter, sort, open, and start a new one."""

    open_requested = Signal(str)  # id to open in the editor
    loaded = Signal()  # rows (re)loaded into the model

    def __init__(
        self, tasks: TaskRunner, parent: QWidget | None = None, *,
        today: datetime.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.today = today
        self._loaded_once = False
        self._upn_lookup = 0
        self.dialog: QWidget | None = None
        self.message: QMessageBox | None = None
        self.setObjectName("assessmentList")
        self.model = AssessmentTableModel(self)
        self.proxy = AssessmentFilter(self.model, self)
        self._build()
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        heading = QLabel('<span style="font-size: x-large; font-weight: bold;">Assessments</span>')
        heading.setTextFormat(Qt.TextFormat.RichText)
        heading.setObjectName("pageHeading")
        heading.setAccessibleName("Assessments")
        top.addWidget(heading)
        top.addStretch(1)
        self.new_button = QPushButton("New assessment")
        self.new_button.setObjectName("primaryButton")
        self.new_button.setAccessibleName("New assessment")
        self.new_button.setAccessibleDescription("Start an assessment for a child.")
        self.new_button.clicked.connect(self.new_assessment)
        top.addWidget(self.new_button)
        outer.addLayout(top)

        filters = QHBoxLayout()
        search_label = QLabel("&Search")
        self.search = QLineEdit()
        self.search.setObjectName("assessmentSearch")
        self.search.setPlaceholderText("Child's name or UPN")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search assessments")
        self.search.setAccessibleDescription(
            "Type part of a child's name, or a whole UPN. The list updates as you type.")
        search_label.setBuddy(self.search)
        status_label = QLabel("S&tatus")
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName("Show assessments with status")
        self.status_filter.addItem("All statuses", ALL_FILTER)
        for status in LIST_STATUSES:
            self.status_filter.addItem(STATUS_LABELS[status], status)
        self.status_filter.addItem("Damaged", DAMAGED_FILTER)
        status_label.setBuddy(self.status_filter)
        filters.addWidget(search_label)
        filters.addWidget(self.search, 3)
        filters.addSpacing(12)
        filters.addWidget(status_label)
        filters.addWidget(self.status_filter, 1)
        outer.addLayout(filters)

        self.count_label = QLabel("Loading assessments…")
        self.count_label.setObjectName("assessmentCount")
        self.count_label.setAccessibleName("Number of assessments shown")
        outer.addWidget(self.count_label)
        self.integrity_label = QLabel()
        self.integrity_label.setObjectName("integrityProblem")
        self.integrity_label.setAccessibleName("Problem with the vault")
        self.integrity_label.setWordWrap(True)
        self.integrity_label.setVisible(False)
        outer.addWidget(self.integrity_label)

        self.stack = QStackedWidget()
        self.view = AssessmentTable()
        self.view.setObjectName("assessmentTable")
        self.view.setModel(self.proxy)
        self.view.setAccessibleName("Assessments")
        self.view.setAccessibleDescription(
            "One row per assessment. Press Enter to open the selected one.")
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.setCornerButtonEnabled(False)
        self.view.verticalHeader().setVisible(False)
        vertical = self.view.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._size_columns()
        # Newest edit first, said by the header's indicator (the rows arrive in that order).
        self.view.sortByColumn(LAST_EDITED, Qt.SortOrder.DescendingOrder)
        self.view.activated.connect(self._open_index)
        self.view.open_row.connect(self._open_index)
        self.stack.addWidget(self.view)

        self.empty = QLabel(
            "There are no assessments yet.\n\nSelect “New assessment” to start one.")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.empty)
        outer.addWidget(self.stack, 1)

        # The reading order: New assessment, Search, Status, then the table.
        self.setTabOrder(self.new_button, self.search)
        self.setTabOrder(self.search, self.status_filter)
        self.setTabOrder(self.status_filter, self.view)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self.apply_search)
        self.status_filter.currentIndexChanged.connect(self._status_picked)

    def _size_columns(self) -> None:
        """Widths from typical cell text in the current font (no per-row measuring)."""
        metrics = self.view.fontMetrics()
        icon = self.view.iconSize().width() or 16
        samples = ((CHILD, "Oluwaseun Achterberg"), (DATE_OF_BIRTH, "28 Sep 2019"),
                   (SETTING, "Meadowbank Secondary School"), (KIND, "Advice for EHC assessment"),
                   (STATUS, "Not accepted by server"), (LAST_EDITED, "28 Sep 2026, 22:40"))
        header = self.view.horizontalHeader()
        for column, text in samples:
            extra = icon + 8 if column == STATUS else 0
            header.resizeSection(column, metrics.horizontalAdvance(text) + 24 + extra)

    # -- loading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload every row on the database thread; the model is reset once when they arrive."""
        today = self.today or datetime.date.today()  # noqa: DTZ011 - deadlines are local days
        self.tasks.run_db(lambda vault: load_rows(vault, today),
                          self._alive(self._rows_loaded), self._alive(self._load_failed))

    def forget(self) -> None:
        """On lock: drop every row (names, dates of birth) and the search typed."""
        self._debounce.stop()
        self._upn_lookup += 1  # a lookup still running is ignored when it answers
        self.search.clear()
        self.proxy.set_search("")
        self.model.clear()

    def _rows_loaded(self, prepared: PreparedRows) -> None:
        self._loaded_once = True
        self.model.set_rows(prepared)
        self.integrity_label.setText(" ".join(prepared.problems))
        self.integrity_label.setVisible(bool(prepared.problems))
        self.stack.setCurrentWidget(self.empty if not prepared.rows else self.view)
        self._update_count()
        emit(self.loaded)

    def _load_failed(self, error: BaseException) -> None:
        self.count_label.setText(user_sentence(error, "loading the assessments",
                                                  "try again, or restart OneSEND"))

    def _alive(self, callback: Any) -> Any:
        def guarded(value: Any) -> None:
            if Shiboken.isValid(self):
                callback(value)
        return guarded

    # -- searching and filtering --------------------------------------------------------------

    def apply_search(self) -> None:
        """Apply the search box now (it is also applied a moment after typing stops)."""
        self._debounce.stop()
        text = self.search.text().strip()
        self._upn_lookup += 1
        if not looks_like_upn(text):
            self.proxy.set_search(text)
            return
        lookup = self._upn_lookup
        self.count_label.setText("Looking up the UPN…")

        def found(ids: set[str]) -> None:
            if lookup == self._upn_lookup:  # a newer search has replaced this one
                self.proxy.set_upn_ids(ids)
                self._update_count()

        self.tasks.run_db(lambda vault: matching_upn(vault, text), self._alive(found),
                          self._alive(self._load_failed))

    def _status_picked(self, _index: int) -> None:
        self.proxy.set_status(str(self.status_filter.currentData() or ""))

    def _update_count(self, *_args: object) -> None:
        if not self._loaded_once:
            return
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        noun = "assessment" if total == 1 else "assessments"
        if not total:
            text = "No assessments yet"
        elif shown == total:
            text = f"Showing all {total:,} {noun}"
        elif shown == 0:
            text = f"No assessments match (of {total:,}). Try fewer letters or another status."
        else:
            text = f"Showing {shown:,} of {total:,} {noun}"
        self.count_label.setText(text)

    # -- opening ------------------------------------------------------------------------------

    def _open_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        source = self.proxy.mapToSource(index)
        item = self.model.rows[source.row()]
        if item.damaged:
            self._tell(DAMAGED_SENTENCE, "Damaged record")
            return
        emit(self.open_requested, item.id)

    def _tell(self, sentence: str, title: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, sentence,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.message = box
        box.open()

    def selected_ids(self) -> Sequence[str]:
        rows = self.view.selectionModel().selectedRows()
        return [str(self.proxy.data(index, ID_ROLE)) for index in rows]

    # -- a new assessment -------------------------------------------------------------------

    def new_assessment(self) -> None:
        """Ask for the child's details, create the draft off the GUI thread, then open it."""
        from ui.new_assessment import NewAssessmentDialog  # noqa: PLC0415 - only when asked

        dialog = NewAssessmentDialog(self.tasks, self)
        self.dialog = dialog
        dialog.chosen.connect(self._new_chosen)
        dialog.open()

    def _new_chosen(self, record_id: str) -> None:
        """The dialog made a draft (or the user chose to open the existing record)."""
        self.refresh()
        emit(self.open_requested, record_id)


