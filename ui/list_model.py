"""The assessment list's rows and models: prepared off the GUI thread, arranged off it too.

`AssessmentTableModel` holds every row loaded so far (in pages, newest edit first) with its
display text and sort keys. `AssessmentFilter` is what the table shows: the rows that match the
search and the status filter, in the order chosen. Sorting and filtering 100,000 rows is done on
the background pool (`arrange`), over the precomputed keys, and the result swapped in on the GUI
thread in one layout change that keeps the selection; a result overtaken by a newer search or
sort is dropped. Rows arriving while a sort other than the loading order is shown are held back
until they are arranged, so what is shown is always in the order the header says.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStyle, QWidget
from typing_extensions import override

from desktop.listing import (
    DAMAGED_TEXT,
    LIST_STATUSES,
    ListRow,
    fold,
    matches_name,
    parse_iso_date,
)
from desktop.record_status import SET_ASIDE
from forms.bounds import SHORT_CHARS, clip_text
from ui.dates import MONTHS
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
DAMAGED_SENTENCE = (
    "This record is damaged and cannot be opened. The other assessments are not affected; "
    "to recover it, restore your last backup (File → Restore a backup…)."
)
DAMAGED_STATUS = "Damaged"
_ATTENTION = frozenset(SET_ASIDE)


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



DEFAULT_SORT = (LAST_EDITED, Qt.SortOrder.DescendingOrder)  # the order the rows load in
Sort = tuple[int, Qt.SortOrder]


@dataclass(frozen=True)
class Criteria:
    """What the list is narrowed to: name words (folded), UPN matches, a status."""

    words: tuple[str, ...] = ()
    upn_ids: frozenset[str] | None = None
    status: str = ALL_FILTER

    @property
    def active(self) -> bool:
        return bool(self.words) or self.upn_ids is not None or bool(self.status)

    def accepts(self, item: ListRow) -> bool:
        if self.status:
            if self.status == DAMAGED_FILTER:
                if not item.damaged:
                    return False
            elif item.status != self.status or item.damaged:
                return False
        if self.upn_ids is not None:
            return item.id in self.upn_ids
        return not self.words or matches_name(item, list(self.words))


@dataclass(frozen=True)
class Arrangement:
    """The result of `arrange`: how the first `count` rows are reordered and which are shown."""

    ticket: int
    count: int
    sort: Sort
    # The first `count` rows in their new order (with their display text and keys), and where
    # each went: the row that was at r is now at where[r]. None: the order is unchanged.
    sorted_rows: PreparedRows | None
    where: list[int] | None
    visible: list[int] | None  # positions shown, ascending; None: all `count` of them


def arrange(
    shown: PreparedRows, count: int, *, sort: Sort, resort: bool, criteria: Criteria,
    ticket: int,
) -> Arrangement:
    """The background pool's work: sort the first `count` rows by their precomputed keys (one
    `sorted()`, no call back into Qt) and filter them. Stable: the child's name breaks ties,
    and in "last edited" the loading order (newest first, then by id) does."""
    rows, keys = shown.rows, shown.keys
    order: list[int] | None = None
    where: list[int] | None = None
    sorted_rows: PreparedRows | None = None
    if resort:
        column, direction = sort
        reverse = direction == Qt.SortOrder.DescendingOrder
        if column == LAST_EDITED:
            by_id = sorted(range(count), key=lambda i: rows[i].id)
            order = sorted(by_id, key=lambda i: keys[i][LAST_EDITED], reverse=reverse)
        else:
            order = sorted(range(count), key=lambda i: (keys[i][column], keys[i][CHILD]),
                           reverse=reverse)
        where = [0] * count
        for position, old in enumerate(order):
            where[old] = position
        # Reordered here, not on the GUI thread (100,000 rows are tens of milliseconds).
        sorted_rows = PreparedRows([rows[i] for i in order], [shown.display[i] for i in order],
                                   [keys[i] for i in order])
    visible: list[int] | None = None
    if criteria.active:
        sequence = order if order is not None else range(count)
        visible = [p for p, old in enumerate(sequence) if criteria.accepts(rows[old])]
    return Arrangement(ticket, count, sort, sorted_rows, where, visible)


class AssessmentTableModel(TitledTableModel):
    """Every row loaded so far, in the order last arranged (rows not yet arranged at the end).

    The lists are replaced, never changed in place, so a worker arranging a snapshot of them
    never sees them move.
    """

    titles = COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ListRow] = []
        self.display: list[tuple[str, ...]] = []
        self.keys: list[tuple[Any, ...]] = []
        style = parent.style() if parent is not None else None
        self._warning = (
            style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if style else None
        )

    def set_rows(self, prepared: PreparedRows) -> None:
        self.beginResetModel()
        self.rows, self.display, self.keys = prepared.rows, prepared.display, prepared.keys
        self.endResetModel()

    def extend(self, prepared: PreparedRows) -> None:
        start = len(self.rows)
        if not prepared.rows:
            return
        self.beginInsertRows(QModelIndex(), start, start + len(prepared.rows) - 1)
        self.rows = self.rows + prepared.rows
        self.display = self.display + prepared.display
        self.keys = self.keys + prepared.keys
        self.endInsertRows()

    def reorder(self, first: PreparedRows) -> None:
        """The first rows, reordered by a worker (any rows after them stay after them)."""
        emit(self.layoutAboutToBeChanged)
        count = len(first.rows)
        if count == len(self.rows):
            self.rows, self.display, self.keys = first.rows, first.display, first.keys
        else:
            self.rows = first.rows + self.rows[count:]
            self.display = first.display + self.display[count:]
            self.keys = first.keys + self.keys[count:]
        emit(self.layoutChanged)

    @override
    def row_count(self) -> int:
        return len(self.rows)

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        return self.cell(index.row(), index.column(), role) if index.isValid() else None

    def cell(self, row: int, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display[row][column]
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if self.rows[row].damaged and column == CHILD:
                return DAMAGED_TEXT
            return self.display[row][column]
        if role == SORT_ROLE:
            return self.keys[row][column]
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
            return self.display[row][column] or None
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS and (
                item.damaged or item.status in _ATTENTION):
            return self._warning  # an extra cue: the words say it too
        if role == Qt.ItemDataRole.ForegroundRole and column == NEXT_DATE and item.overdue:
            return QColor("#d4351c")
        return None


class AssessmentFilter(TitledTableModel):
    """What the table shows: the arranged rows that match, in the order chosen.

    `arranged` is emitted each time a sort or search result (or a page held back for one) has
    been swapped in. The selection and current row follow their records through every change.
    """

    titles = COLUMNS
    arranged = Signal()

    def __init__(
        self, source: AssessmentTableModel, tasks: TaskRunner, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.tasks = tasks
        self.criteria = Criteria()
        self._sort: Sort = DEFAULT_SORT
        self._sorted_as: Sort = DEFAULT_SORT  # the order the arranged rows are in
        self._arranged = 0  # how many of the source's rows have been arranged
        self._visible: list[int] | None = None
        self._ticket = 0
        self._in_flight = 0

    # -- what the view asks -------------------------------------------------------------------

    @override
    def row_count(self) -> int:
        return self._arranged if self._visible is None else len(self._visible)

    def source_row(self, row: int) -> int:
        return row if self._visible is None else self._visible[row]

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        return self.source.cell(self.source_row(index.row()), index.column(), role)

    @override
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        if ((column, order) == self._sort == self._sorted_as and not self.pending):
            emit(self.arranged)  # already so: nothing to arrange
            return
        self._sort = (column, order)
        self._request(user=True)

    @property
    def pending(self) -> bool:
        """Whether a sort, search or held-back page is still being arranged."""
        return self._in_flight > 0 or self._arranged < len(self.source.rows)

    # -- what the page says -------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """A name search: every word must appear in the child's first or last name."""
        self._criteria(Criteria(tuple(fold(text).split()), None, self.criteria.status))

    def set_upn_ids(self, ids: set[str]) -> None:
        """A UPN search: only these records (found through the blind index)."""
        self._criteria(Criteria((), frozenset(ids), self.criteria.status))

    def set_status(self, status: str) -> None:
        self._criteria(Criteria(self.criteria.words, self.criteria.upn_ids, status))

    def _criteria(self, criteria: Criteria) -> None:
        if criteria == self.criteria and not self.pending:
            emit(self.arranged)  # already so: nothing to arrange
            return
        self.criteria = criteria
        self._request(user=True)

    def reset_rows(self, prepared: PreparedRows) -> None:
        """A new load's first page (in the loading order), or nothing (on lock)."""
        self.beginResetModel()
        self._ticket += 1  # whatever is being arranged belongs to the old rows
        self.source.set_rows(prepared)
        self._sorted_as = DEFAULT_SORT
        self._visible = None
        direct = self._sort == DEFAULT_SORT and not self.criteria.active
        self._arranged = len(prepared.rows) if direct else 0
        self.endResetModel()
        if not direct:
            self._request(user=False)

    def forget(self) -> None:
        """Drop every row and the search (on lock; the workers may already be stopped)."""
        self.beginResetModel()
        self._ticket += 1
        self.criteria = Criteria((), None, self.criteria.status)
        self.source.set_rows(PreparedRows([], [], []))
        self._visible, self._arranged = None, 0
        self.endResetModel()

    def append_rows(self, prepared: PreparedRows) -> None:
        """The next page. Shown at once when the list is in the loading order; otherwise held
        back until it is arranged with the rest."""
        start = len(self.source.rows)
        self.source.extend(prepared)
        count = len(prepared.rows)
        if not count:
            return
        direct = (self._sort == self._sorted_as == DEFAULT_SORT and self._arranged == start
                  and self._in_flight == 0)
        if not direct:
            self._request(user=False)
            return
        if self._visible is None:
            if not self.criteria.active:
                self.beginInsertRows(QModelIndex(), start, start + count - 1)
                self._arranged += count
                self.endInsertRows()
                return
            self._visible = list(range(start))
        accepts = self.criteria.accepts
        new = [start + n for n, row in enumerate(prepared.rows) if accepts(row)]
        shown = len(self._visible)
        if new:
            self.beginInsertRows(QModelIndex(), shown, shown + len(new) - 1)
        self._visible = self._visible + new
        self._arranged += count
        if new:
            self.endInsertRows()

    # -- arranging off the GUI thread -----------------------------------------------------------

    def _request(self, *, user: bool) -> None:
        if self.tasks.closed:
            return
        if user:
            self._ticket += 1  # a result still running for an older request is dropped
        elif self._in_flight:
            return  # asked again when the running one comes back
        source = self.source
        shown = PreparedRows(source.rows, source.display, source.keys)
        count = len(source.rows)
        sort, criteria, ticket = self._sort, self.criteria, self._ticket
        resort = sort != self._sorted_as or (count > self._arranged and sort != DEFAULT_SORT)
        self._in_flight += 1
        self.tasks.run(lambda: arrange(shown, count, sort=sort, resort=resort,
                                       criteria=criteria, ticket=ticket),
                       self._apply, self._failed, owner=self)

    def _failed(self, error: BaseException) -> None:
        self._in_flight -= 1
        emit(self.tasks.failed, error)  # our bug: the window reports it as a crash

    def _apply(self, result: Arrangement) -> None:
        self._in_flight -= 1
        if result.ticket == self._ticket:
            self._swap_in(result)
            emit(self.arranged)
        if not self._in_flight and self._arranged < len(self.source.rows):
            self._request(user=False)

    def _swap_in(self, result: Arrangement) -> None:
        """One layout change; persistent indexes (selection, current row) follow their rows."""
        emit(self.layoutAboutToBeChanged)
        before = self.persistentIndexList()
        old_rows = [self.source_row(index.row()) for index in before]
        if result.sorted_rows is not None:
            self.source.reorder(result.sorted_rows)
        self._visible, self._arranged = result.visible, result.count
        self._sorted_as = result.sort
        after = []
        for index, old in zip(before, old_rows, strict=True):
            new = result.where[old] if result.where is not None and old < result.count else old
            row = self._row_of(new)
            after.append(self.index(row, index.column()) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(before, after)
        emit(self.layoutChanged)

    def _row_of(self, source_row: int) -> int:
        if self._visible is None:
            return source_row if source_row < self._arranged else -1
        at = bisect.bisect_left(self._visible, source_row)
        return at if at < len(self._visible) and self._visible[at] == source_row else -1
