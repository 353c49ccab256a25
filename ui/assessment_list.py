"""The assessment list: every record in a table model, searched, filtered and sorted in memory.

The rows are read in pages on the database thread (`desktop.listing.next_page`, newest edit
first, then the display text and sort keys): the first page is painted at once and the rest
appended as it arrives, so 100,000 records show their first screen in well under two seconds.
Sorting and searching run on the background pool over precomputed keys and are swapped in
(`ui.list_model`). A search by name or a status filter never decrypts anything; a search by
UPN asks the blind index on the database thread. No per-row widgets, uniform row heights.
"""

from __future__ import annotations

import datetime

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
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
    QTableView,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from desktop.errors import OneSendError
from desktop.listing import (
    FIRST_PAGE,
    LIST_STATUSES,
    PAGE,
    STATUS_LABELS,
    ListLoad,
    looks_like_upn,
    matching_upn,
    next_page,
    start_load,
)
from desktop.vault import Vault
from ui.crash import user_sentence
from ui.list_model import (
    ALL_FILTER,
    CHILD,
    COLUMNS,
    DAMAGED_FILTER,
    DAMAGED_SENTENCE,
    DATE_OF_BIRTH,
    ID_ROLE,
    KIND,
    LAST_EDITED,
    NEXT_DATE,
    SEARCH_DEBOUNCE_MS,
    SETTING,
    SORT_ROLE,
    STATUS,
    AssessmentFilter,
    AssessmentTableModel,
    PreparedRows,
    prepare,
)
from ui.tasks import TaskRunner, emit

__all__ = ["CHILD", "COLUMNS", "DATE_OF_BIRTH", "ID_ROLE", "NEXT_DATE", "SORT_ROLE", "STATUS",
           "AssessmentListPage"]


def problems(vault: Vault) -> tuple[str, ...]:
    """Vault-wide checks (audit log, removed or rolled-back records): one sentence each."""
    try:
        return tuple(vault.check_metadata())
    except OneSendError as exc:  # a damaged page: the rows still show
        return (str(exc),)


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
    page_loaded = Signal()  # a page of rows arrived (the first one is painted at once)
    loaded = Signal()  # every row (re)loaded into the model

    def __init__(
        self, tasks: TaskRunner, parent: QWidget | None = None, *,
        today: datetime.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.today = today
        self._loaded_once = False
        self._loading = 0  # the current load's number; pages of an older one are dropped
        self._total = 0  # records in the vault, known once the first page is read
        # While held (`hold_pages`), a load stops after its first page until `release_pages`.
        self._held = False
        self._waiting: tuple[int, ListLoad] | None = None
        self._upn_lookup = 0
        self.dialog: QWidget | None = None
        self.message: QMessageBox | None = None
        self.setObjectName("assessmentList")
        self.model = AssessmentTableModel(self)
        self.proxy = AssessmentFilter(self.model, tasks, self)
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

    @property
    def loading(self) -> bool:
        """Whether pages of the list are still being read."""
        return self._loading > 0 and self._total > self.model.rowCount()

    def refresh(self) -> None:
        """Reload the rows in pages on the database thread: the first page (newest edit first)
        replaces the list at once, the others are appended as they come (`page_loaded`), then
        the vault-wide checks are shown (`loaded`)."""
        today = self.today or datetime.date.today()  # noqa: DTZ011 - deadlines are local days
        self._loading += 1
        number = self._loading

        def first(vault: Vault) -> tuple[ListLoad, PreparedRows]:
            load = start_load(vault, today)
            return load, prepare(next_page(vault, load, FIRST_PAGE))

        self.tasks.run_db(first, lambda got: self._first_page(number, *got),
                          self._load_failed, owner=self)

    def hold_pages(self) -> None:
        """Read only the first page of each load until `release_pages`: while the window is
        still being built, the other pages' decryption on the database thread would share the
        GIL (and the processor) with every step of the build, doubling each one."""
        self._held = True

    def release_pages(self) -> None:
        """Read the rest of the list (the pages `hold_pages` held back), and of every load."""
        self._held = False
        waiting, self._waiting = self._waiting, None
        if waiting is not None and waiting[0] == self._loading and not self.tasks.closed:
            self._next_page(*waiting)

    def forget(self) -> None:
        """On lock: drop every row (names, dates of birth) and the search typed."""
        self._debounce.stop()
        self._upn_lookup += 1  # a lookup still running is ignored when it answers
        self._loading += 1  # and so are pages still being read
        self.search.blockSignals(True)  # no search is started by clearing it
        self.search.clear()
        self.search.blockSignals(False)
        self.proxy.forget()

    def _first_page(self, number: int, load: ListLoad, prepared: PreparedRows) -> None:
        if number != self._loading:
            return
        self._loaded_once = True
        self._total = max(len(load.ids), len(prepared.rows))
        self.proxy.reset_rows(prepared)
        self.stack.setCurrentWidget(self.empty if not prepared.rows else self.view)
        self._update_count()
        emit(self.page_loaded)
        if self._held:
            self._waiting = (number, load)
        else:
            self._next_page(number, load)

    def _next_page(self, number: int, load: ListLoad) -> None:
        if load.finished:
            self.tasks.run_db(problems, lambda found: self._finished(number, found),
                              self._load_failed, owner=self)
            return
        self.tasks.run_db(lambda vault: prepare(next_page(vault, load, PAGE)),
                          lambda prepared: self._page(number, load, prepared),
                          self._load_failed, owner=self)

    def _page(self, number: int, load: ListLoad, prepared: PreparedRows) -> None:
        if number != self._loading:
            return
        self.proxy.append_rows(prepared)
        if prepared.rows:
            self.stack.setCurrentWidget(self.view)
        self._update_count()
        emit(self.page_loaded)
        self._next_page(number, load)

    def _finished(self, number: int, found: tuple[str, ...]) -> None:
        if number != self._loading:
            return
        self._total = self.model.rowCount()
        self.integrity_label.setText(" ".join(found))
        self.integrity_label.setVisible(bool(found))
        self.stack.setCurrentWidget(self.empty if not self._total else self.view)
        self._update_count()
        emit(self.loaded)

    def _load_failed(self, error: BaseException) -> None:
        self.count_label.setText(user_sentence(error, "loading the assessments",
                                                  "try again, or restart OneSEND"))


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

        self.tasks.run_db(lambda vault: matching_upn(vault, text), found,
                          self._load_failed, owner=self)

    def _status_picked(self, _index: int) -> None:
        self.proxy.set_status(str(self.status_filter.currentData() or ""))

    def _update_count(self, *_args: object) -> None:
        if not self._loaded_once:
            return
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        noun = "assessment" if total == 1 else "assessments"
        if self.loading:
            text = f"Showing {shown:,} so far; loading {self._total:,} {noun}…"
        elif not total:
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
        item = self.model.rows[self.proxy.source_row(index.row())]
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


