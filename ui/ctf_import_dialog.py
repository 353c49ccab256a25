""""Import from school file…": pupils from a school's Common Transfer File, as drafts.

The file is read on the background pool (`desktop.ctf_reader`), then judged and matched against
the vault's blind index on the database thread (`desktop.ctf_import.CtfImport.preview_file`);
the display text of every row is made there too, so the GUI thread only swaps the rows into a
table model. The user ticks pupils and, for each pupil already in OneSEND, chooses to update
that draft's details or to skip it (never a silent second child). The drafts are then created
on the database thread, one transaction per pupil, with a progress bar and a Cancel that stops
between pupils; a summary says what was created, updated and skipped, and why any pupil was
not imported or was imported marked for checking.

Nothing here logs a child's data: errors are the reader's and the importer's own sentences,
which name the file and pupils by position only.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken
from typing_extensions import override

from desktop.assessments import Assessments
from desktop.ctf_import import (
    FORM_ID,
    UPDATABLE_STATUSES,
    CtfImport,
    ImportPreview,
    ImportProgress,
    ImportReport,
    OnExisting,
    PupilPreview,
)
from desktop.ctf_reader import CtfFile, read_ctf
from desktop.errors import ImportCancelled
from desktop.record_status import OutboxState, RecordStatus
from desktop.vault import Vault
from forms.registry import load_definition
from ui.crash import user_sentence
from ui.dates import MONTHS
from ui.table_model import TitledTableModel
from ui.tasks import TaskRunner, emit

FILE_FILTER = "Common Transfer File (*.xml *.XML);;All files (*)"
SKIP = "Skip"
UPDATE = "Update the existing draft's details"
CHOICE_TEXT: dict[OnExisting, str] = {"skip": SKIP, "update": UPDATE}
COLUMNS = (
    "Import", "Name", "Date of birth", "Year", "UPN", "UPN valid?", "SEN provision",
    "Already in OneSEND?", "If already in OneSEND", "Notes",
)
(TICK, NAME, DATE_OF_BIRTH, YEAR, UPN, UPN_VALID, SEN, EXISTING, CHOICE,
 NOTES) = range(len(COLUMNS))
_FLAG_SUFFIX = " Imported as it is, marked for checking."
STATUS_WORDS: dict[str, str] = {
    RecordStatus.QUEUED: "waiting to be sent", RecordStatus.SYNCED: "sent",
    RecordStatus.CONFLICT: "in conflict", OutboxState.QUARANTINED: "refused by the server"}
PAGE_START, PAGE_BUSY, PAGE_PREVIEW, PAGE_SUMMARY = range(4)


# -- rows, made off the GUI thread ---------------------------------------------------------------


def uk_date(iso: str | None) -> str:
    """An ISO date as people in England read it (3 Mar 2015)."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


@dataclass(frozen=True)
class PreviewRow:
    """One pupil as the preview table shows it: display text only, made on a worker."""

    position: int
    cells: tuple[str, ...]  # one text per column; TICK and CHOICE are filled by the model
    importable: bool
    existing: bool  # already in OneSEND (one or more assessments hold the UPN)
    can_update: bool  # exactly one existing assessment, and it is still a draft
    fixed_choice: str  # what happens to an existing pupil who cannot be updated, and why
    flagged: str  # the values imported marked for checking, or ""
    tooltips: tuple[str, ...]
    label: str  # how the summary names this pupil
    known_as: str  # the preferred name, shown with the current pupil's details
    historic: str = ""  # the historic SEN codes kept as the file has them, or ""


@dataclass(frozen=True)
class LoadedFile:
    """What the workers hand back after reading and checking a file."""

    preview: ImportPreview
    rows: list[PreviewRow]


# The validators' sentences are long for a table cell: the cell says it short, Notes in full.
_UPN_SHORT = (
    ("check letter does not match", "wrong check letter"),
    ("13 characters", "not 13 characters"),
    ("starts with a check letter", "does not start with a check letter"),
    ("12 digits", "wrong mix of letters and digits"),
)
SEN_SHORT = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}


def _upn_short(problem: str) -> str:
    return next((short for words, short in _UPN_SHORT if words in problem), "not a UPN")


def _upn_problem(pupil: PupilPreview) -> str:
    for problem in pupil.problems:
        if problem.element == "UPN":
            return problem.message.removesuffix(_FLAG_SUFFIX)
    return ""


def _name(pupil: PupilPreview) -> str:
    name = " ".join(part for part in (pupil.first_name, pupil.last_name) if part)
    return name or "(no name in the file)"


def prepare_rows(preview: ImportPreview) -> list[PreviewRow]:
    """The display text of every row (worker thread: no Qt here)."""
    definition = load_definition(FORM_ID, preview.form_version)
    years = {item.code: item.label for item in definition.code_lists["nc_year"].items}
    rows = []
    for pupil in preview.pupils:
        if pupil.upn is None:
            upn_valid = "No UPN in the file"
        elif pupil.upn_valid:
            upn_valid = "Valid"
        else:
            upn_valid = f"No: {_upn_short(_upn_problem(pupil))}"
        sen = sen_full = ""
        if pupil.sen_provision:
            code = pupil.sen_provision
            label = pupil.sen_provision_label or code
            sen_full = f"{code}: {label}"
            if pupil.sen_provision_historic:
                # "historic" first, so a narrow column never cuts it off.
                sen = f"{code} (historic): {label.replace(' (historic)', '')}"
                if "historic" not in label:
                    sen_full += " (historic code)"
            else:
                sen = f"{code}: {SEN_SHORT.get(code, label)}"
        needs = "; ".join(f"{need.rank}. {need.code}: {need.label}"
                          + (" (historic)" if need.historic and "historic" not in need.label
                             else "") for need in pupil.needs)
        existing = bool(pupil.existing)
        can_update = (len(pupil.existing) == 1
                      and pupil.existing_status in UPDATABLE_STATUSES)
        if not existing:
            in_onesend = "No"
        elif len(pupil.existing) > 1:
            in_onesend = f"Already in OneSEND ({len(pupil.existing)} assessments)"
        elif pupil.existing_status in UPDATABLE_STATUSES or pupil.existing_status is None:
            in_onesend = "Already in OneSEND"
        else:
            words = STATUS_WORDS.get(pupil.existing_status, pupil.existing_status)
            in_onesend = f"Already in OneSEND ({words})"
        fixed = "" if can_update or not existing else f"{SKIP}: {pupil.reason}"
        if not pupil.importable:
            tick_text = "✕"
            notes = f"Cannot import: {pupil.reason}"
        else:
            tick_text = ""
            notes = " ".join(p.message for p in pupil.problems)
        flagged = " ".join(p.message.removesuffix(_FLAG_SUFFIX) for p in pupil.problems
                           if p.severity == "flag")
        historic_codes = ([f"SEN provision {pupil.sen_provision}"]
                          if pupil.sen_provision and pupil.sen_provision_historic else [])
        historic_codes += [f"type of need {need.code}" for need in pupil.needs if need.historic]
        historic = (f"Historic code{'s' if len(historic_codes) > 1 else ''} kept as the file "
                    f"has {'them' if len(historic_codes) > 1 else 'it'}: "
                    f"{', '.join(historic_codes)}. Choose a current code in the draft."
                    if historic_codes else "")
        name = _name(pupil)
        cells = (
            tick_text, name, uk_date(pupil.date_of_birth),
            years.get(pupil.nc_year, pupil.nc_year).split(" (")[0] if pupil.nc_year else "",
            pupil.upn or "", upn_valid, sen or "None in the file", in_onesend, fixed, notes,
        )
        tips = list(cells)
        if pupil.preferred_name:
            tips[NAME] = f"{name}, known as {pupil.preferred_name}"
        tips[TICK] = "Cannot import" if not pupil.importable else ""
        tips[SEN] = sen_full or "No SEN provision in the file"
        if needs:
            tips[SEN] += f". Types of need: {needs}"
        if pupil.upn and not pupil.upn_valid:
            tips[UPN_VALID] = f"Not valid: {_upn_problem(pupil)}"
        rows.append(PreviewRow(
            position=pupil.position, cells=cells, importable=pupil.importable,
            existing=existing, can_update=can_update, fixed_choice=fixed, flagged=flagged,
            tooltips=tuple(tips), label=f"{pupil.position}. {name}",
            known_as=pupil.preferred_name or "", historic=historic,
        ))
    return rows


# -- the preview table -----------------------------------------------------------------------------


class PreviewModel(TitledTableModel):
    """The pupils of the file, a tick each, and the choice for those already in OneSEND."""

    ticks_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PreviewRow] = []
        self.ticked: list[bool] = []
        self.choices: list[OnExisting] = []

    def set_rows(self, rows: list[PreviewRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        # Every pupil who can be imported starts ticked; those already in OneSEND are skipped
        # unless the user chooses to update their draft.
        self.ticked = [row.importable for row in rows]
        self.choices = ["skip"] * len(rows)
        self.endResetModel()
        emit(self.ticks_changed)

    # -- what the user chose ---------------------------------------------------------------------

    def ticked_count(self) -> int:
        return sum(self.ticked)

    def positions(self) -> list[int]:
        """The pupils to give to the import: the ticked ones and those that cannot be imported
        (so the summary lists them with their reason)."""
        return [row.position for row, ticked in zip(self.rows, self.ticked, strict=True)
                if ticked or not row.importable]

    def on_existing(self) -> dict[int, OnExisting]:
        return {row.position: choice for row, choice in zip(self.rows, self.choices, strict=True)
                if row.can_update}

    def counts(self) -> dict[str, int]:
        """What the ticks and choices will do: new drafts, updates and skips."""
        counts = {"create": 0, "update": 0, "skip": 0, "cannot": 0, "flagged": 0,
                  "existing": 0}
        for row, ticked, choice in zip(self.rows, self.ticked, self.choices, strict=True):
            counts["existing"] += row.existing
            if not row.importable:
                counts["cannot"] += 1
                continue
            if not ticked:
                continue
            counts["flagged"] += bool(row.flagged)
            if not row.existing:
                counts["create"] += 1
            elif row.can_update and choice == "update":
                counts["update"] += 1
            else:
                counts["skip"] += 1
        return counts

    def toggle(self, row: int) -> None:
        if 0 <= row < len(self.rows) and self.rows[row].importable:
            self.ticked[row] = not self.ticked[row]
            self._changed(row, row, TICK)
            emit(self.ticks_changed)

    def set_all(self, ticked: bool) -> None:
        if not self.rows:
            return
        self.ticked = [ticked and row.importable for row in self.rows]
        self._changed(0, len(self.rows) - 1, TICK)
        emit(self.ticks_changed)

    def set_all_choices(self, choice: OnExisting) -> None:
        if not self.rows:
            return
        self.choices = [choice] * len(self.rows)
        self._changed(0, len(self.rows) - 1, CHOICE)
        emit(self.ticks_changed)

    def _changed(self, first: int, last: int, column: int) -> None:
        emit(self.dataChanged, self.index(first, column), self.index(last, column))

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
        row = self.rows[index.row()]
        if index.column() == TICK and row.importable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == CHOICE and row.can_update:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _text(self, row: int, column: int) -> str:
        item = self.rows[row]
        if column == CHOICE and item.can_update:
            return CHOICE_TEXT[self.choices[row]]
        return item.cells[column]

    @override
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        item = self.rows[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.CheckStateRole and column == TICK and item.importable:
            return Qt.CheckState.Checked if self.ticked[row] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column == TICK:
                if not item.importable:
                    return "Cannot import"
                return "Ticked for import" if self.ticked[row] else "Not ticked"
            return self._text(row, column) or "Blank"
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == CHOICE and item.can_update:
                return "Press F2 or double-click to choose: skip, or update the draft."
            return item.tooltips[column] or None
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
            if not self.rows[row].importable:
                return False
            state = value.value if isinstance(value, Qt.CheckState) else value
            self.ticked[row] = state == Qt.CheckState.Checked.value
            self._changed(row, row, TICK)
            emit(self.ticks_changed)
            return True
        if column == CHOICE and role == Qt.ItemDataRole.EditRole and self.rows[row].can_update:
            choice: OnExisting = "update" if value in ("update", UPDATE) else "skip"
            self.choices[row] = choice
            self._changed(row, row, CHOICE)
            emit(self.ticks_changed)
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


def _size_columns(table: QTableView, samples: Mapping[int, str]) -> None:
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


# -- the summary -----------------------------------------------------------------------------------


SUMMARY_COLUMNS = ("Pupil", "What happened", "Reason")


@dataclass
class Summary:
    """The report, in the words the summary page shows (made on the GUI thread; it is small)."""

    created: int
    updated: int
    unchanged: int
    skipped: int
    not_imported: int
    flagged: int
    cancelled: bool
    done: int
    total: int
    failure: str | None
    lines: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def summarise(report: ImportReport, rows: Mapping[int, PreviewRow], total: int) -> Summary:
    lines: list[tuple[str, str, str]] = []

    def label(entry: Mapping[str, Any]) -> str:
        row = rows.get(int(entry["pupil"]))
        return row.label if row else f"pupil {entry['pupil']}"

    for entry in report.problems:
        lines.append((label(entry), "Not imported", str(entry["reason"])))
    flagged = 0
    for entry in [*report.created, *report.updated, *report.unchanged]:
        row = rows.get(int(entry["pupil"]))
        if row is not None and row.flagged:
            flagged += 1
            lines.append((label(entry), "Imported, marked for checking", row.flagged))
        if row is not None and row.historic:
            lines.append((label(entry), "Imported with a historic SEN code", row.historic))
    for entry in report.skipped:
        reason = str(entry["reason"])
        if reason.startswith("Already in OneSEND; skipped"):
            reason = "Already in OneSEND; skipped as chosen, so its draft is unchanged."
        lines.append((label(entry), "Skipped", reason))
    lines.sort(key=lambda line: int(line[0].split(".", 1)[0]) if line[0][0].isdigit() else 0)
    done = (len(report.created) + len(report.updated) + len(report.unchanged)
            + len(report.skipped) + len(report.problems))
    return Summary(
        created=len(report.created), updated=len(report.updated),
        unchanged=len(report.unchanged), skipped=len(report.skipped),
        not_imported=len(report.problems), flagged=flagged, cancelled=report.cancelled,
        done=done, total=total, failure=report.failure, lines=lines,
    )


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


# -- progress from the workers -------------------------------------------------------------------


class _Progress(QObject):
    """Carries a worker's progress to the GUI thread (a queued signal), a few times a second."""

    changed = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._last: tuple[str, int] = ("", -1)

    def report(self, phase: str, done: int, total: int) -> None:  # any thread
        percent = 100 * done // total if total > 0 else 0
        if (phase, percent) == self._last and done != total:
            return
        self._last = (phase, percent)
        if Shiboken.isValid(self):
            emit(self.changed, phase, done, total)

    def __call__(self, progress: ImportProgress) -> None:
        self.report(progress.phase, progress.done, progress.total)


def _check(vault: Vault, ctf: CtfFile, *, cancel: threading.Event,
           progress: Callable[[ImportProgress], None]) -> LoadedFile:
    """Database thread: judge each pupil and look each UPN up in the vault."""
    importer = CtfImport(Assessments(vault), progress=progress, cancel=cancel)
    preview = importer.preview_file(ctf)
    return LoadedFile(preview, prepare_rows(preview))


def _import(vault: Vault, preview: ImportPreview, positions: list[int],
            choices: dict[int, OnExisting], *, cancel: threading.Event,
            progress: Callable[[ImportProgress], None]) -> ImportReport:
    """Database thread: one transaction per pupil, stopping between pupils when cancelled."""
    importer = CtfImport(Assessments(vault), progress=progress, cancel=cancel)
    return importer.run(preview, positions=positions, choices=choices, stop_on_error=True)




# -- the dialog ------------------------------------------------------------------------------------


class CtfImportDialog(QDialog):
    """Choose a school's CTF, tick pupils, create their drafts, and see what happened."""

    imported = Signal()  # drafts were created or updated

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.setWindowTitle("Import from school file")
        self.setObjectName("ctfImportDialog")
        self.setAccessibleName("Import from school file")
        self.setModal(True)
        self.preview: ImportPreview | None = None
        self.summary: Summary | None = None
        self.file_name = ""
        self.state = "idle"  # idle, reading, checking, previewing, importing, done
        self._generation = 0
        self._cancel = threading.Event()
        self._progress = _Progress(self)
        self._progress.changed.connect(self._progressed)
        self._build()
        self.resize(self.fontMetrics().averageCharWidth() * 190,
                    self.fontMetrics().height() * 38)

    # -- building --------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        self.heading = QLabel("Import pupils from a school file")
        self.heading.setObjectName("pageHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        outer.addWidget(self.heading)
        self.message = QLabel()
        self.message.setObjectName("pageMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Problem")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        outer.addWidget(self.message)
        self.pages = QStackedWidget()
        self.pages.setAccessibleName("Import steps")
        outer.addWidget(self.pages, 1)
        self.pages.addWidget(self._start_page())
        self.pages.addWidget(self._busy_page())
        self.pages.addWidget(self._preview_page())
        self.pages.addWidget(self._summary_page())
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # Enter in the table never starts an import
        self.close_button.setAutoDefault(True)
        self._show_page(PAGE_START)

    @staticmethod
    def _button(text: str, name: str, description: str = "") -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.replace("&", "").replace("…", ""))
        button.setObjectName(name)
        if description:
            button.setAccessibleDescription(description)
            button.setToolTip(description)
        return button

    def _start_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel(
            "Choose the Common Transfer File (CTF) your school information system exported. "
            "OneSEND reads it, shows you every pupil it holds, and makes a draft assessment "
            "for each pupil you tick. Nothing is changed until you choose Import.")
        intro.setWordWrap(True)
        intro.setAccessibleName("About importing")
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.choose_button = self._button("&Choose file…", "chooseFile",
                                          "Open a school's Common Transfer File (XML)")
        self.choose_button.clicked.connect(self.choose_file)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_close = self._button("Close", "startClose")
        self.start_close.clicked.connect(self.reject)
        buttons.addWidget(self.start_close)
        layout.addLayout(buttons)
        return page

    def _busy_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.busy_label = QLabel()
        self.busy_label.setWordWrap(True)
        self.busy_label.setAccessibleName("What OneSEND is doing")
        layout.addWidget(self.busy_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("busyBar")
        self.progress_bar.setAccessibleName("Progress")
        self.progress_bar.setRange(0, 0)
        layout.addWidget(self.progress_bar)
        self.busy_detail = QLabel()
        self.busy_detail.setAccessibleName("Progress in words")
        layout.addWidget(self.busy_detail)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = self._button(
            "Cancel", "cancelWork",
            "Stop: while reading, nothing is imported; while importing, OneSEND stops after "
            "the pupil it is writing, and every draft already made is whole.")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        return page

    def _preview_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.file_label.setAccessibleName("The file")
        layout.addWidget(self.file_label)

        self.model = PreviewModel(self)
        self.model.ticks_changed.connect(self._ticks_changed)
        self.table = PreviewTable()
        self.table.setObjectName("ctfPreviewTable")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Pupils in the file")
        self.table.setAccessibleDescription(
            "Space ticks or unticks the current pupil. For a pupil already in OneSEND, F2 or "
            "Enter on the last but one column chooses to skip or to update the existing draft.")
        self.table.setItemDelegateForColumn(CHOICE, ChoiceDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.table.setCornerButtonEnabled(False)  # it would select rows, not tick them
        self.table.toggle_row.connect(self.model.toggle)
        vertical = self.table.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        _size_columns(self.table, COLUMN_SAMPLES)
        header.setMinimumSectionSize(self.table.fontMetrics().horizontalAdvance("Notes") + 24)
        char = self.fontMetrics().averageCharWidth()
        layout.addWidget(self.table, 1)
        self.details = QLabel()
        self.details.setObjectName("rowDetails")
        self.details.setWordWrap(True)
        self.details.setAccessibleName("About the current pupil")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)

        tools = QHBoxLayout()
        self.select_all = self._button("Select &all", "selectAll",
                                       "Tick every pupil who can be imported")
        self.select_all.clicked.connect(lambda: self.model.set_all(True))
        self.select_none = self._button("Select &none", "selectNone", "Untick every pupil")
        self.select_none.clicked.connect(lambda: self.model.set_all(False))
        tools.addWidget(self.select_all)
        tools.addWidget(self.select_none)
        tools.addSpacing(char * 3)
        existing_label = QLabel("For every pupil already in OneSEND:")
        tools.addWidget(existing_label)
        self.existing_choice = QComboBox()
        self.existing_choice.setObjectName("existingChoice")
        self.existing_choice.addItem(SKIP, "skip")
        self.existing_choice.addItem(UPDATE, "update")
        self.existing_choice.setAccessibleName("For every pupil already in OneSEND")
        self.existing_choice.setAccessibleDescription(
            "Sets the choice for all pupils already in OneSEND; change one pupil in the table.")
        existing_label.setBuddy(self.existing_choice)
        self.existing_choice.activated.connect(self._existing_choice_picked)
        tools.addWidget(self.existing_choice)
        tools.addStretch(1)
        layout.addLayout(tools)

        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.counts_label.setAccessibleName("What the import will do")
        layout.addWidget(self.counts_label)

        buttons = QHBoxLayout()
        self.another_button = self._button("Choose another &file…", "chooseAnother",
                                           "Open a different school file")
        self.another_button.clicked.connect(self.choose_file)
        buttons.addWidget(self.another_button)
        buttons.addStretch(1)
        self.preview_cancel = self._button("Cancel", "previewCancel",
                                           "Close without importing anything")
        self.preview_cancel.clicked.connect(self.reject)
        self.import_button = self._button("Import 0 pupils", "primaryButton")
        self.import_button.clicked.connect(self.start_import)
        buttons.addWidget(self.preview_cancel)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)

        for first, second in [(self.table, self.select_all), (self.select_all, self.select_none),
                              (self.select_none, self.existing_choice),
                              (self.existing_choice, self.another_button),
                              (self.another_button, self.preview_cancel),
                              (self.preview_cancel, self.import_button)]:
            QWidget.setTabOrder(first, second)
        return page

    def _summary_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setObjectName("pageMessage")
        self.summary_label.setProperty("kind", "info")
        self.summary_label.setAccessibleName("Import summary")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_label)
        self.counts_grid = QLabel()
        self.counts_grid.setTextFormat(Qt.TextFormat.RichText)
        self.counts_grid.setAccessibleName("Counts")
        layout.addWidget(self.counts_grid)
        self.lines_heading = QLabel("Pupils to look at")
        self.lines_heading.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.lines_heading)
        self.summary_model = SummaryModel(self)
        self.summary_table = QTableView()
        self.summary_table.setObjectName("ctfSummaryTable")
        self.summary_table.setModel(self.summary_model)
        self.summary_table.setAccessibleName("Pupils not imported, skipped or to check")
        self.summary_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.summary_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary_table.setTabKeyNavigation(False)
        self.summary_table.setWordWrap(False)
        self.summary_table.verticalHeader().hide()
        self.summary_table.horizontalHeader().setStretchLastSection(True)
        self.summary_table.verticalHeader().setDefaultSectionSize(
            self.fontMetrics().height() + 10)
        _size_columns(self.summary_table, {0: "2000. Mirith Pebbleford-Ó Brá",
                                           1: "Imported, marked for checking"})
        layout.addWidget(self.summary_table, 1)
        buttons = QHBoxLayout()
        self.summary_another = self._button("Import another &file…", "importAnother",
                                            "Open another school file")
        self.summary_another.clicked.connect(self.choose_file)
        buttons.addWidget(self.summary_another)
        buttons.addStretch(1)
        self.close_button = self._button("Close", "closeSummary")
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        QWidget.setTabOrder(self.summary_table, self.summary_another)
        QWidget.setTabOrder(self.summary_another, self.close_button)
        return page

    def _show_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        focus = {PAGE_START: self.choose_button, PAGE_BUSY: self.cancel_button,
                 PAGE_PREVIEW: self.table, PAGE_SUMMARY: self.close_button}[page]
        self.close_button.setDefault(page == PAGE_SUMMARY)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def _say(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    # -- choosing and reading a file -------------------------------------------------------------

    def choose_file(self) -> None:
        """Ask for a CTF file, then read and preview it."""
        name, _filter = QFileDialog.getOpenFileName(
            self, "Choose a school's Common Transfer File", "", FILE_FILTER)
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> None:
        """Read the file on the pool and check it against the vault on the database thread."""
        if self.state == "importing":
            return  # one thing at a time: the summary comes first
        self._generation += 1
        generation = self._generation
        self._cancel = cancel = threading.Event()
        self.preview = None
        self.file_name = path.name
        self._say("")
        self.state = "reading"
        self.heading.setText("Import pupils from a school file")
        self.busy_label.setText(f"Reading {path.name}…")
        self.busy_detail.setText("")
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self._show_page(PAGE_BUSY)
        progress = self._progress

        def read() -> CtfFile:
            return read_ctf(path, cancelled=cancel.is_set,
                            progress=lambda done, total: progress.report("reading", done, total))

        def read_done(ctf: CtfFile) -> None:
            if generation != self._generation:
                return
            self.state = "checking"
            self.busy_label.setText(f"Checking the pupils in {path.name} against OneSEND…")
            self.tasks.run_db(lambda vault: _check(vault, ctf, cancel=cancel, progress=progress),
                              checked, failed, owner=self)

        def checked(loaded: LoadedFile) -> None:
            if generation == self._generation:
                self._previewed(loaded)

        def failed(error: BaseException) -> None:
            if generation == self._generation:
                self._load_failed(error)

        self.tasks.run(read, read_done, failed, owner=self)

    def _previewed(self, loaded: LoadedFile) -> None:
        self.preview = loaded.preview
        self.state = "previewing"
        header = loaded.preview.file.header
        school = header.source_school.name or "a school"
        count = len(loaded.rows)
        pupils = "pupil" if count == 1 else "pupils"
        self.heading.setText(f"Choose pupils to import from {self.file_name}")
        self.file_label.setText(
            f"{self.file_name}: a Common Transfer File (version {header.version}) from "
            f"{school}, with {count:,} {pupils}. Tick the pupils to import.")
        self.model.set_rows(loaded.rows)
        self.existing_choice.setCurrentIndex(0)
        self._show_page(PAGE_PREVIEW)
        if count:
            self.table.setCurrentIndex(self.model.index(0, TICK))

    def _load_failed(self, error: BaseException) -> None:
        self.state = "idle"
        self.preview = None
        if isinstance(error, ImportCancelled):
            self._say(f"Reading {self.file_name} was stopped; nothing was imported.")
        else:
            self._say(user_sentence(error, f"reading {self.file_name}",
                                     "nothing was changed, try again"))
        self._show_page(PAGE_START)

    # -- the preview -----------------------------------------------------------------------------

    def _ticks_changed(self) -> None:
        ticked = self.model.ticked_count()
        counts = self.model.counts()
        # The pupils that will be written: the ticked ones less those to be skipped.
        writing = counts["create"] + counts["update"]
        self.import_button.setText(f"Import {writing:,} pupil{'' if writing == 1 else 's'}")
        self.import_button.setAccessibleName(self.import_button.text())
        self.import_button.setEnabled(writing > 0)
        parts = [f"{ticked:,} ticked: {counts['create']:,} new "
                 f"draft{'' if counts['create'] == 1 else 's'}"]
        if counts["update"]:
            parts.append(f"{counts['update']:,} to update")
        if counts["skip"]:
            parts.append(f"{counts['skip']:,} already in OneSEND to skip")
        sentence = ", ".join(parts) + "."
        if counts["flagged"]:
            sentence += (f" {counts['flagged']:,} ticked with values marked for checking "
                         "(imported as the file has them).")
        if counts["cannot"]:
            sentence += f" {counts['cannot']:,} cannot be imported (see Notes)."
        self.counts_label.setText(sentence)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        """The current pupil's notes in full (a cell shows only their start)."""
        if not current.isValid() or current.row() >= len(self.model.rows):
            self.details.setText("")
            return
        row = self.model.rows[current.row()]
        notes = row.cells[NOTES] or "Nothing to check: every value was read as it is."
        known = f" (known as {row.known_as})" if row.known_as else ""
        self.details.setText(f"Pupil {row.label}{known}: {notes}")

    def _existing_choice_picked(self, _index: int) -> None:
        choice: OnExisting = "update" if self.existing_choice.currentData() == "update" else "skip"
        self.model.set_all_choices(choice)

    # -- importing -------------------------------------------------------------------------------

    def start_import(self) -> None:
        """Create or update the ticked pupils' drafts on the database thread."""
        preview = self.preview
        if preview is None or self.state != "previewing" or not self.model.ticked_count():
            return
        self._generation += 1
        generation = self._generation
        self._cancel = cancel = threading.Event()
        positions = self.model.positions()
        choices = self.model.on_existing()
        rows = {row.position: row for row in self.model.rows}
        total = len(positions)
        self.state = "importing"
        self._say("")
        self.heading.setText(f"Importing pupils from {self.file_name}")
        self.busy_label.setText("Creating drafts…")
        self.busy_detail.setText("")
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self._show_page(PAGE_BUSY)
        progress = self._progress

        def done(report: ImportReport) -> None:
            if generation == self._generation:
                self._finished(summarise(report, rows, total))

        def failed(error: BaseException) -> None:
            if generation == self._generation:
                self._import_failed(error)

        self.tasks.run_db(lambda vault: _import(vault, preview, positions, choices,
                                                cancel=cancel, progress=progress),
                          done, failed, owner=self)

    def cancel(self) -> None:
        """Stop reading (nothing is imported) or importing (after the current pupil)."""
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        if self.state == "importing":
            self.busy_label.setText("Stopping after the pupil being written…")
        else:
            self.busy_label.setText("Stopping…")

    def _progressed(self, phase: str, done: int, total: int) -> None:
        if phase == "reading" and self.state == "reading":
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(1000 * done // total if total else 0)
            self.busy_detail.setText(f"{100 * done // total if total else 0}% read")
        elif phase == "checking" and self.state == "checking":
            self.progress_bar.setRange(0, max(total, 1))
            self.progress_bar.setValue(done)
            self.busy_detail.setText(f"{done:,} of {total:,} pupils checked")
        elif phase == "importing" and self.state == "importing":
            self.progress_bar.setRange(0, max(total, 1))
            self.progress_bar.setValue(done)
            self.busy_detail.setText(f"{done:,} of {total:,} pupils done")

    def _finished(self, summary: Summary) -> None:
        self.summary = summary
        self.state = "done"
        self.preview = None
        if summary.failure:
            title = "The import stopped"
            first = (f"The import stopped after {summary.done:,} of {summary.total:,} pupils: "
                     f"{summary.failure} Every draft made before it is whole.")
        elif summary.cancelled:
            title = "Import cancelled"
            first = (f"Cancelled after {summary.done:,} of {summary.total:,} pupils: the rest "
                     "were not imported. Every draft made before it is whole.")
        else:
            title = "Import finished"
            first = (f"Finished: every pupil you chose from {self.file_name} was imported, "
                     "skipped or listed below with the reason.")
        self.heading.setText(title)
        self.summary_label.setText(first)
        counts = [
            ("Created", f"{summary.created:,} new draft{'' if summary.created == 1 else 's'}"),
            ("Updated", f"{summary.updated:,} existing draft"
                        f"{'' if summary.updated == 1 else 's'}"),
            ("Skipped", f"{summary.skipped:,}"),
            ("Not imported", f"{summary.not_imported:,}"),
            ("Imported but marked for checking", f"{summary.flagged:,}"),
        ]
        if summary.unchanged:
            counts.insert(2, ("Already up to date", f"{summary.unchanged:,}"))
        self.counts_grid.setText(
            "<table cellpadding='3'>" + "".join(
                f"<tr><td>{html.escape(name)}:</td><td><b>{html.escape(value)}</b></td></tr>"
                for name, value in counts) + "</table>")
        self.counts_grid.setAccessibleName(
            "; ".join(f"{name}: {value}" for name, value in counts))
        self.summary_model.set_lines(summary.lines)
        self.lines_heading.setVisible(bool(summary.lines))
        self.summary_table.setVisible(bool(summary.lines))
        self._show_page(PAGE_SUMMARY)
        if summary.changed:
            emit(self.imported)

    def _import_failed(self, error: BaseException) -> None:
        # Something unexpected stopped the run: each pupil is its own transaction, so whatever
        # was written is whole; let the list refresh to show it.
        self.state = "done"
        self.preview = None
        self._say(user_sentence(error, "importing",
                                "the drafts made before it are in the list"))
        self._show_page(PAGE_START)
        emit(self.imported)

    # -- closing ---------------------------------------------------------------------------------

    @override
    def reject(self) -> None:
        if self.state == "importing":
            # Stop cleanly and stay to show what was made.
            self.cancel()
            return
        if self.state in ("reading", "checking"):
            self._cancel.set()
            self._generation += 1
            self.state = "idle"
        super().reject()

