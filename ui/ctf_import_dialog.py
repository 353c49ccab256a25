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
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
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
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken
from typing_extensions import override

from desktop.ctf_import import ImportPreview, ImportProgress, ImportReport
from desktop.ctf_mapping import OnExisting
from desktop.ctf_reader import CtfFile, read_ctf
from desktop.errors import ImportCancelled
from ui.crash import user_sentence
from ui.ctf_preview import (
    CHOICE,
    SKIP,
    TICK,
    UPDATE,
    CtfWork,
    LoadedFile,
    Summary,
    file_sentence,
    progress_words,
    summarise,
    summary_counts,
    summary_headline,
)
from ui.ctf_preview_table import (
    COLUMN_SAMPLES,
    ChoiceDelegate,
    PreviewModel,
    PreviewTable,
    SummaryModel,
    size_columns,
)
from ui.dates import MONTHS
from ui.tasks import TaskRunner, emit

__all__ = ["MONTHS", "CtfImportDialog"]

FILE_FILTER = "Common Transfer File (*.xml *.XML);;All files (*)"
PAGE_START, PAGE_BUSY, PAGE_PREVIEW, PAGE_SUMMARY = range(4)


# -- progress from the workers -------------------------------------------------------------------


class WorkProgress(QObject):
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


class CtfImportDialog(QDialog):
    """Choose a school's CTF, tick pupils, create their drafts, and see what happened."""

    imported = Signal()  # drafts were created or updated

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None, *,
                 work: CtfWork | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.work = work or CtfWork()
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
        self.progress = WorkProgress(self)
        self.progress.changed.connect(self._progressed)
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
        size_columns(self.table, COLUMN_SAMPLES)
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
        size_columns(self.summary_table, {0: "2000. Mirith Pebbleford-Ó Brá",
                                           1: "Imported, marked for checking"})
        layout.addWidget(self.summary_table, 1)
        # With no pupil listed, the empty space goes here, not to the sentence above.
        layout.addStretch(0)
        self._summary_layout, self._summary_space = layout, layout.count() - 1
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
        progress = self.progress

        def read() -> CtfFile:
            return read_ctf(path, cancelled=cancel.is_set,
                            progress=lambda done, total: progress.report("reading", done, total))

        def read_done(ctf: CtfFile) -> None:
            if generation != self._generation:
                return
            self.state = "checking"
            self.busy_label.setText(f"Checking the pupils in {path.name} against OneSEND…")
            check = self.work.check
            self.tasks.run_db(lambda vault: check(vault, ctf, cancel=cancel, progress=progress),
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
        count = len(loaded.rows)
        self.heading.setText(f"Choose pupils to import from {self.file_name}")
        self.file_label.setText(file_sentence(self.file_name, loaded.preview, count))
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
        presenter = self.model.preview
        self.import_button.setText(presenter.import_label())
        self.import_button.setAccessibleName(self.import_button.text())
        self.import_button.setEnabled(presenter.writing() > 0)
        self.counts_label.setText(presenter.counts_sentence())

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        """The current pupil's notes in full (a cell shows only their start)."""
        self.details.setText(self.model.preview.details(current.row()) if current.isValid()
                             else "")

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
        plan = self.model.preview.plan()
        total = plan.total
        self.state = "importing"
        self._say("")
        self.heading.setText(f"Importing pupils from {self.file_name}")
        self.busy_label.setText("Creating drafts…")
        self.busy_detail.setText("")
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self._show_page(PAGE_BUSY)
        progress = self.progress

        def done(report: ImportReport) -> None:
            if generation == self._generation:
                self._finished(summarise(report, plan.rows, total))

        def failed(error: BaseException) -> None:
            if generation == self._generation:
                self._import_failed(error)

        run = self.work.run
        self.tasks.run_db(lambda vault: run(vault, preview, plan, cancel=cancel,
                                            progress=progress),
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
        if phase != self.state or phase not in ("reading", "checking", "importing"):
            return  # a late report of a phase already over
        if phase == "reading":
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(1000 * done // total if total else 0)
        else:
            self.progress_bar.setRange(0, max(total, 1))
            self.progress_bar.setValue(done)
        self.busy_detail.setText(progress_words(phase, done, total))

    def _finished(self, summary: Summary) -> None:
        self.summary = summary
        self.state = "done"
        self.preview = None
        title, first = summary_headline(summary, self.file_name)
        self.heading.setText(title)
        self.summary_label.setText(first)
        counts = summary_counts(summary)
        self.counts_grid.setText(
            "<table cellpadding='3'>" + "".join(
                f"<tr><td>{html.escape(name)}:</td><td><b>{html.escape(value)}</b></td></tr>"
                for name, value in counts) + "</table>")
        self.counts_grid.setAccessibleName(
            "; ".join(f"{name}: {value}" for name, value in counts))
        self.summary_model.set_lines(summary.lines)
        self.lines_heading.setVisible(bool(summary.lines))
        self.summary_table.setVisible(bool(summary.lines))
        self._summary_layout.setStretch(self._summary_space, 0 if summary.lines else 1)
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

