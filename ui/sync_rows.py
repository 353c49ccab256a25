"""The sync area's table: one row per finalised assessment sent or to send, updated by what
changed.

A refresh reads the outbox on the database thread and, still there, compares it with the rows
the table shows (`diff`): the GUI thread then removes, changes and inserts only those rows. A
row whose state changes stays where it is (its words and its bold change); a new one is placed
by the table's order (needs attention first, then by name); nothing is rebuilt or re-sorted on
the GUI thread, so 100,000 rows refresh as cheaply as ten.
"""

from __future__ import annotations

import bisect
import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.errors import OneSendError
from desktop.listing import summaries_of
from desktop.record_status import SET_ASIDE, OutboxState
from desktop.vault import Vault
from forms.errors import FormError
from forms.model import FormDefinition
from forms.paths import parse_answer_path
from forms.registry import Catalogue, load_definition
from sync.device import load_credentials
from sync.engine import SyncStatus, sync_status
from sync.http import ApiSettings
from ui.table_model import TitledTableModel
from ui.tasks import emit

# Words a SENCO uses, never the outbox's own ("in flight", "quarantined", "acknowledged").
STATE_WORDS: dict[str, str] = {
    OutboxState.QUEUED: "Waiting to send",
    OutboxState.IN_FLIGHT: "Sending now",
    OutboxState.ACKNOWLEDGED: "Sent and confirmed",
    OutboxState.QUARANTINED: "Needs your attention: not accepted",
    OutboxState.CONFLICT: "Needs your attention: changed elsewhere",
}
COUNT_WORDS = (
    (OutboxState.QUEUED, "Waiting to send"),
    (OutboxState.IN_FLIGHT, "Sending now"),
    (OutboxState.QUARANTINED, "Not accepted"),
    (OutboxState.CONFLICT, "Changed elsewhere"),
    (OutboxState.ACKNOWLEDGED, "Sent and confirmed"),
)
_ORDER: dict[str, int] = {OutboxState.CONFLICT: 0, OutboxState.QUARANTINED: 1,
                          OutboxState.IN_FLIGHT: 2, OutboxState.QUEUED: 3,
                          OutboxState.ACKNOWLEDGED: 4}


def path_label(definition: FormDefinition | None, path: str) -> str:
    """`outcomes[1].by_when` as a person reads it: "Outcomes, item 2: By when"."""
    found = parse_answer_path(path, whole=False)
    section = definition.sections_by_id.get(found.section) if definition and found else None
    if found is None or section is None:
        return path
    words = section.title
    if found.item is not None:
        words += f", {section.item_label.lower()} {found.item + 1}"
    question = section.by_id.get(found.question or "")
    if question is not None:
        words += f": {question.label}"
    elif found.question:
        words += f": {found.question}"
    return words


def _definition(form: str, version: str,
                catalogue: Catalogue | None = None) -> FormDefinition | None:
    try:
        return load_definition(form, version, catalogue)
    except FormError:
        return None


def plain_reason(reasons: dict[str, Any] | None, definition: FormDefinition | None = None
                 ) -> str:
    """Why a record was set aside, in words (questions by label, never answer values)."""
    if not reasons:
        return ""
    kind = str(reasons.get("type") or "")
    errors = reasons.get("errors") if isinstance(reasons.get("errors"), list) else []
    assert isinstance(errors, list)
    paths = [path_label(definition, str(e.get("path"))) for e in errors
             if isinstance(e, dict) and e.get("path")]
    where = ""
    if paths:
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        where = ": " + "; ".join(paths[:3]) + more
    if kind == "conflict":  # wire word: the problem's type
        return ("The national service has a newer version of this assessment from another "
                "computer: choose which answers to keep.")
    if kind == "invalid-payload":
        return f"The national service found answers to complete or correct{where}."
    if kind == "hash-mismatch":
        return ("The assessment changed after it was signed off, so the national service "
                "did not accept it.")
    if kind == "local-damage":
        return "This record is damaged on this computer and was not sent."
    if kind == "bad-request":
        return f"The national service could not read this assessment{where}."
    title = str(reasons.get("title") or "").strip()
    return title or "The national service did not accept this assessment."


def when_text(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return iso
    return f"{moment.day} {moment:%B %Y at %H:%M}"


@dataclass(frozen=True)
class Row:
    """One line of the table (immutable: a change is a new row in the same place)."""

    id: str
    revision: int
    state: str
    name: str
    reason: str
    placed: int = 9  # the group (needs attention first) the row was placed by

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.revision)

    @property
    def order(self) -> tuple[int, str, str, int]:
        """Where a new row goes: needs attention first, then by the child's name."""
        return (self.placed, self.name.lower(), self.id, self.revision)


@dataclass(frozen=True)
class RowsDiff:
    """How to turn the rows shown (version `base`) into the outbox as read.

    Applied in this order: `removed` (positions, highest first), `changed` (position, row),
    then `added` (final position, row; lowest first)."""

    base: int
    removed: tuple[int, ...] = ()
    changed: tuple[tuple[int, Row], ...] = ()
    added: tuple[tuple[int, Row], ...] = ()
    reset: tuple[Row, ...] | None = None  # so much moved that all rows are put in order

    @property
    def empty(self) -> bool:
        return not (self.removed or self.changed or self.added) and self.reset is None


def placed(row: Row) -> Row:
    return replace(row, placed=_ORDER.get(row.state, 9))


def diff(shown: tuple[Row, ...], base: int, fresh: list[Row]) -> RowsDiff:
    """What changed between the rows shown and those read (worker side: no Qt).

    A row that changed within its group is changed in place; one that moved group (say, from
    waiting to not accepted) is taken out and put back where the order says. When more than a
    tenth of the rows would move, all are put in order at once (`reset`)."""
    by_key = {row.key: placed(row) for row in fresh}
    # Kept in place: still in the outbox, and in the group it was placed by.
    stays = [row.key in by_key and by_key[row.key].placed == row.placed for row in shown]
    removed = [n for n, stay in enumerate(stays) if not stay]
    kept = [row for row, stay in zip(shown, stays, strict=True) if stay]
    if len(removed) + len(by_key) - len(kept) > max(500, len(shown) // 10):
        return RowsDiff(base, reset=tuple(sorted(by_key.values(), key=lambda row: row.order)))
    changed = [(n, by_key[row.key]) for n, row in enumerate(kept) if by_key[row.key] != row]
    known = {row.key for row in kept}
    added: list[tuple[int, Row]] = []
    orders = [row.order for row in kept]  # the order rows are shown in, roughly sorted
    new = sorted((row for row in by_key.values() if row.key not in known),
                 key=lambda row: row.order)
    for offset, row in enumerate(new):
        # Placed among the rows kept by the table's order; later new rows shift by `offset`.
        added.append((bisect.bisect_right(orders, row.order) + offset, row))
    return RowsDiff(base, tuple(reversed(removed)), tuple(changed), tuple(added))


@dataclass(frozen=True)
class Snapshot:
    """What the panel shows, read on the database thread in one go (the rows as a diff)."""

    status: SyncStatus
    endpoint: tuple[str, ApiSettings] | None
    rows: RowsDiff


def snapshot(vault: Vault, settings: ApiSettings | None, shown: tuple[Row, ...],
             base: int) -> Snapshot:
    """The outbox's state and credentials, and how the rows shown differ from it."""
    status = sync_status(vault)
    summaries = summaries_of(vault, [str(item["id"]) for item in status.items])
    names = {}
    for record_id, summary in summaries.items():
        name = f"{summary.first_name} {summary.last_name}".strip()
        names[record_id] = "(damaged record)" if summary.damaged else name or "(no name yet)"
    definitions: dict[tuple[str, str], FormDefinition | None] = {}
    rows = []
    for item in status.items:
        reason = ""
        if item.get("reasons"):
            form = (str(item["form"]), str(item["form_version"]))
            if form not in definitions:
                definitions[form] = _definition(*form, vault.catalogue)
            reason = plain_reason(item["reasons"], definitions[form])
        rows.append(Row(str(item["id"]), int(item["revision"]), str(item["state"]),
                        names.get(str(item["id"]), "(deleted record)"), reason))
    endpoint = None
    if status.enrolled:
        with contextlib.suppress(OneSendError):
            credentials = load_credentials(vault)
            endpoint = (credentials.server_url, credentials.settings(settings))
    return Snapshot(status, endpoint, diff(shown, base, rows))


def _runs(positions: list[int], step: int) -> list[tuple[int, int]]:
    """Consecutive positions (each `step` from the one before) as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for n in positions:
        if runs and n == runs[-1][1] + step:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


class RecordsModel(TitledTableModel):
    """One row per finalised assessment sent or to send: the child, its state, and why."""

    titles = ("Child", "State", "What to do")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.version = 0  # moves on with every row removed or added
        self._index: dict[tuple[str, int], int] = {}

    def shown(self) -> tuple[int, tuple[Row, ...]]:
        """The version and the rows, for a worker to compare with the outbox."""
        return self.version, tuple(self.rows)

    def apply(self, change: RowsDiff) -> bool:
        """Make the rows what the database said; False when they moved on meanwhile."""
        if change.base != self.version:
            return False
        if change.reset is not None:
            self.beginResetModel()
            self.rows = list(change.reset)
            self.endResetModel()
        for first, last in _runs(sorted(change.removed)[::-1], -1):
            self.beginRemoveRows(QModelIndex(), last, first)
            del self.rows[last:first + 1]
            self.endRemoveRows()
        for n, row in change.changed:
            self.rows[n] = row
            emit(self.dataChanged, self.index(n, 0), self.index(n, 2))
        added = dict(change.added)
        for first, last in _runs([n for n, _row in change.added], 1):
            self.beginInsertRows(QModelIndex(), first, last)
            self.rows[first:first] = [added[n] for n in range(first, last + 1)]
            self.endInsertRows()
        if change.removed or change.added or change.reset is not None:
            self.version += 1
            self._index = {row.key: n for n, row in enumerate(self.rows)}
        return True

    def set_state(self, record_id: str, revision: int, state: str) -> None:
        n = self._index.get((record_id, revision))
        if n is None:
            return
        row = self.rows[n]
        self.rows[n] = replace(row, state=state, reason=row.reason if state in SET_ASIDE else "")
        emit(self.dataChanged, self.index(n, 1), self.index(n, 2))

    def first_with(self, state: str) -> int:
        """The first row in this state, or -1."""
        return next((n for n, row in enumerate(self.rows) if row.state == state), -1)

    def row_count(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (row.name, STATE_WORDS.get(row.state, row.state), row.reason)[index.column()]
        if role == Qt.ItemDataRole.FontRole and row.state in SET_ASIDE:
            font = QFont()
            font.setBold(True)
            return font
        return None


def records_table(model: RecordsModel) -> QTableView:
    """The table of the sync area: whole rows, room for a reason on two lines."""
    table = QTableView()
    table.setObjectName("syncTable")
    table.setModel(model)
    table.setAccessibleName("Records and their sync state")
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
    table.verticalHeader().setVisible(False)
    # Room for a reason on two lines, without measuring every row (lists grow long).
    table.verticalHeader().setDefaultSectionSize(
        int(table.fontMetrics().height() * 2.6))
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    return table
