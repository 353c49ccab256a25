"""History: every revision of an assessment with who and when, a view of any, and restore.

Restoring makes the chosen revision's answers current again as a *new* revision; nothing in
the history is changed. Reads and writes go through the task runner's database thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.answers_text import summary_blocks
from desktop.assessments import Assessments, RevisionInfo
from desktop.errors import OneSendError
from desktop.record_status import RecordStatus
from desktop.vault import Vault
from forms.bounds import clip_answers, definition_for
from forms.engine import document_session
from forms.errors import FormError
from forms.registry import Catalogue
from ui.form.widgets import describe
from ui.scaling import relative_font
from ui.tasks import TaskRunner, emit

ACTIONS = {
    "create": "Started",
    "edit": "Edited",
    "import": "Imported",
    "finalise": "Finalised (signed off)",
    "amend": "Amendment started",
    "resolve-conflict": "Conflict resolved",
}


DAMAGED_REVISION = "Damaged: altered outside OneSEND"


# A revision's status in the words the editor uses, never the stored code.
STATUS_WORDS: dict[str, str] = {
    RecordStatus.DRAFT: "Draft",
    RecordStatus.READY: "Finalised (signed off)",
    RecordStatus.QUEUED: "Finalised, waiting to send",
    RecordStatus.SYNCED: "Finalised and sent",
    RecordStatus.AMENDED: "Amendment (draft)",
    RecordStatus.CONFLICT: "Needs your attention: changed elsewhere",
}


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("-", " ").capitalize())


def action_words(action: str) -> str:
    if action.startswith("restore-from-"):
        return f"Restored revision {action.removeprefix('restore-from-')}"
    return ACTIONS.get(action, action.replace("-", " ").capitalize())


def local_time(stamp: str) -> str:
    """A stored UTC timestamp in the computer's local time, as people read it."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%b %Y, %H:%M:%S}"


def revision_text(document: dict[str, Any], catalogue: Catalogue | None = None) -> str:
    """A revision's answers as plain text, for reading (never edited here).

    Answers past their bounds (a record saved before the bounds existed) are cut to them, so
    the viewer's layout never holds more; a note at the top says so.
    """
    answers, clipped = clip_answers(document.get("answers"), definition_for(document, catalogue))
    try:
        session = document_session({**document, "answers": answers}, catalogue=catalogue)
    except FormError as error:
        return str(error)
    lines = []
    if clipped:
        lines += [f"Shown shortened to OneSEND's bounds: {', '.join(clipped[:5])}"
                  f"{', …' if len(clipped) > 5 else ''} (export the assessment to read them "
                  "whole).", ""]
    for block in summary_blocks(session, include_unanswered=False):
        lines.append(block.title.upper())
        for row in block.rows:
            lines.append(f"  {row.label}: {row.text}")
        for item_title, rows in block.items:
            lines.append(f"  {item_title}")
            lines.extend(f"    {row.label}: {row.text}" for row in rows)
        lines.append("")
    return "\n".join(lines)


class HistoryView(QWidget):
    """The revisions table; View shows one; Restore makes it current as a new revision."""

    loaded = Signal()  # the table has been filled
    viewed = Signal(int)  # a revision's answers are shown
    restored = Signal(object)  # the new current document (dict)
    COLUMNS = ("Revision", "When", "Who", "What happened", "Status")

    def __init__(self, tasks: TaskRunner, record_id: str, parent: QWidget | None = None, *,
                 finalised: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.tasks = tasks
        self.record_id = record_id
        # Whether the record is signed off now: restoring then goes through an amendment.
        self.finalised = finalised
        self.revisions: list[RevisionInfo] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        heading = QLabel("History of changes", self)
        heading.setObjectName("sectionTitle")
        heading.setWordWrap(True)
        relative_font(heading, 1.7)
        layout.addWidget(heading)
        intro = QLabel("Every save is kept. View any revision, or restore it: restoring adds a "
                       "new revision with those answers, and keeps everything else.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, len(self.COLUMNS), splitter)
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setTabKeyNavigation(False)
        describe(self.table, "Revisions", "Choose a revision, then View or Restore.")
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.doubleClicked.connect(lambda _index: self.view_selected())
        self.viewer = QPlainTextEdit(splitter)
        self.viewer.setReadOnly(True)
        describe(self.viewer, "The chosen revision's answers")
        layout.addWidget(splitter, 1)
        buttons = QHBoxLayout()
        self.view_button = QPushButton("Vie&w this revision", self)
        self.view_button.clicked.connect(self.view_selected)
        self.restore_button = QPushButton("&Restore this revision", self)
        self.restore_button.clicked.connect(self.restore_selected)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # On a signed-off record, Restore asks first (an amendment, never a silent un-finalise).
        self.confirm = QFrame(self)
        self.confirm.setObjectName("restoreQuestion")
        self.confirm.setFrameShape(QFrame.Shape.Box)
        confirm_layout = QVBoxLayout(self.confirm)
        self.confirm_label = QLabel(self.confirm)
        self.confirm_label.setWordWrap(True)
        self.confirm_label.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        confirm_layout.addWidget(self.confirm_label)
        confirm_buttons = QHBoxLayout()
        self.confirm_button = QPushButton("Start an amendment and restore", self.confirm)
        self.confirm_button.clicked.connect(self._restore_confirmed)
        self.cancel_button = QPushButton("Cancel", self.confirm)
        describe(self.cancel_button, "Cancel: do not restore")
        self.cancel_button.clicked.connect(self._restore_cancelled)
        confirm_buttons.addWidget(self.confirm_button)
        confirm_buttons.addWidget(self.cancel_button)
        confirm_buttons.addStretch(1)
        confirm_layout.addLayout(confirm_buttons)
        self.confirm.setVisible(False)
        self._pending: int | None = None
        layout.addWidget(self.confirm)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._selection()

    def reload(self) -> None:
        record_id = self.record_id
        self.status.setText("Loading the history…")
        self.tasks.run_db(lambda vault: Assessments(vault).history(record_id), self._filled,
                          self._failed)

    def _filled(self, revisions: list[RevisionInfo]) -> None:
        self.revisions = list(reversed(revisions))  # newest first
        self.table.setRowCount(len(self.revisions))
        for row, info in enumerate(self.revisions):
            action = (f"{DAMAGED_REVISION} ({action_words(info.action)})" if info.damaged
                      else action_words(info.action))
            cells = (str(info.revision), local_time(info.created_at), info.author, action,
                     status_words(info.status))
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        damaged = sum(info.damaged for info in self.revisions)
        self.status.setText(f"{len(self.revisions)} revisions." + (
            f" {damaged} of them altered outside OneSEND: not trusted." if damaged else ""))
        if self.revisions:
            self.table.selectRow(0)
        emit(self.loaded)

    def _failed(self, error: BaseException) -> None:
        self.status.setText(str(error) if isinstance(error, OneSendError) else
                            "The history could not be read.")

    def selected_revision(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.revisions[rows[0].row()].revision

    def _selection(self) -> None:
        chosen = self.selected_revision()
        latest = self.revisions[0].revision if self.revisions else None
        self.view_button.setEnabled(chosen is not None)
        self.restore_button.setEnabled(chosen is not None and chosen != latest)

    def view_selected(self) -> None:
        revision = self.selected_revision()
        if revision is None:
            return
        record_id = self.record_id

        def shown(document: dict[str, Any]) -> None:
            self.viewer.setPlainText(revision_text(document, self.tasks.catalogue))
            self.status.setText(f"Showing revision {revision}.")
            emit(self.viewed, revision)

        self.tasks.run_db(lambda vault: Assessments(vault).get(record_id, revision), shown,
                          self._failed)

    def restore_selected(self) -> None:
        revision = self.selected_revision()
        if revision is None:
            return
        if self.finalised():
            self._pending = revision
            self.confirm_label.setText(
                "This assessment has been finalised (signed off). Restoring revision "
                f"{revision} starts an amendment: a new draft with those answers, which you "
                "finalise again when you are done. The signed-off assessment is kept, and is "
                "still sent (or stays sent) as it was. Start an amendment and restore "
                f"revision {revision}?")
            describe(self.confirm_label, self.confirm_label.text())
            self.confirm.setVisible(True)
            self.confirm_label.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._restore(revision, amend=False)

    def _restore_confirmed(self) -> None:
        revision, self._pending = self._pending, None
        self.confirm.setVisible(False)
        if revision is not None:
            self._restore(revision, amend=True)

    def _restore_cancelled(self) -> None:
        self._pending = None
        self.confirm.setVisible(False)
        self.status.setText("Nothing was restored.")
        self.restore_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _restore(self, revision: int, *, amend: bool) -> None:
        record_id = self.record_id

        def work(vault: Vault) -> dict[str, Any]:
            store = Assessments(vault)
            if amend:
                # The amendment route, as "Start an amendment" takes it: the signed-off
                # revision stays as it is (and in the outbox); the new draft follows it.
                store.save(record_id, store.get(record_id), action="amend")
            store.restore(record_id, revision)
            return store.get(record_id)

        def done(document: dict[str, Any]) -> None:
            self.status.setText(f"Revision {revision} was restored as revision "
                                f"{document['revision']}.")
            emit(self.restored, document)
            self.reload()

        self.tasks.run_db(work, done, self._failed)
