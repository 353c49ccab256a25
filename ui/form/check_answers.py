"""'Check your answers': every visible answer by section, each with a Change link, and sign-off.

Finalising is offered only when the engine says the assessment is complete and valid, and
only after the assessor confirms; the editor does the finalising (on the database thread).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.answers_text import AnswerRow, long_date, summary_blocks
from forms.engine import Session
from ui.form.navigation import as_shown
from ui.form.widgets import WrapCheckBox, WrappingLink, describe
from ui.scaling import relative_font
from ui.tasks import emit

DEADLINE_NAMES = {
    "decision_to_assess": "Decision whether to assess",
    "advice": "Advice due",
    "draft_comments": "Comments on the draft plan",
    "final_plan": "Final EHC plan",
    "first_review": "First review",
    "annual_review": "Next review",
    "phase_transfer": "Plan reviewed and amended before the move",
    "sen_support_review": "Next SEN support review",
    "young_person_decides_from": "The young person decides from",
}


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    label.setWordWrap(True)
    if scale == 1.0:
        font = label.font()
        font.setBold(True)  # bold only: the size still follows the text size
        label.setFont(font)
    else:
        relative_font(label, scale)
    return label


class CheckAnswersPage(QScrollArea):
    """The summary page; ``change_requested(path)`` jumps to a question, Finalise signs off."""

    change_requested = Signal(str)
    finalise_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkAnswers")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the page scrolls; its links take the focus
        self.heading = _bold(QLabel("Check your answers before finalising"), 1.7)
        self.heading.setObjectName("sectionTitle")
        self.heading.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.heading.setWordWrap(True)
        describe(self.heading, self.heading.text(),
                 "Every answer by section, each with a Change link; finalise at the end.")
        self.change_links: list[QPushButton] = []
        self.finalise_button: QPushButton | None = None
        self.confirm: QCheckBox | None = None
        self.message: QLabel | None = None
        self._busy = False
        self.setWidget(QWidget())

    def refresh(self, session: Session, *, read_only: bool, status: str,
                archive: Sequence[Mapping[str, Any]] = ()) -> None:
        """Rebuild from the session (cheap: one label per answer); `archive` is shown read-only."""
        old = self.takeWidget()
        if old is not None:
            self.heading.setParent(None)
            old.deleteLater()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(24, 16, 24, 24)
        layout.addWidget(self.heading)
        self.change_links = []
        for block in summary_blocks(session):
            title = _bold(QLabel(block.title, page), 1.3)
            title.setObjectName("checkSectionTitle")
            layout.addWidget(title)
            grid_box = QFrame(page)
            grid_box.setObjectName("checkRows")
            grid = QGridLayout(grid_box)
            grid.setColumnStretch(1, 1)
            grid.setHorizontalSpacing(18)
            row = 0
            if block.repeat and not block.items:
                grid.addWidget(QLabel("None added", grid_box), 0, 0)
                row = self._add_change(grid, grid_box, row, block.id, block.title)
            for item_title, rows in block.items:
                grid.addWidget(_bold(QLabel(item_title, grid_box)), row, 0, 1, 3)
                row += 1
                for answer in rows:
                    row = self._add_row(grid, grid_box, row, answer, read_only,
                                        context=item_title)
            for answer in block.rows:
                row = self._add_row(grid, grid_box, row, answer, read_only)
            layout.addWidget(grid_box)
        if session.deadlines:
            layout.addWidget(self._deadlines(session, page))
        if archive:
            layout.addWidget(self._archive(archive, page))
        layout.addWidget(self._sign_off(session, page, read_only=read_only, status=status))
        layout.addStretch(1)
        self.setWidget(page)

    @staticmethod
    def _deadlines(session: Session, parent: QWidget) -> QFrame:
        """The statutory dates that apply to the record, read-only, each with its rule."""
        box = QFrame(parent)
        box.setObjectName("statutoryDates")
        box.setAccessibleName("Statutory dates for this record")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        title = _bold(QLabel("Statutory dates for this record", box), 1.3)
        title.setObjectName("checkSectionTitle")
        layout.addWidget(title)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(18)
        for row, entry in enumerate(session.deadlines):
            name = DEADLINE_NAMES.get(entry.id, entry.id.replace("_", " ").capitalize())
            if entry.path:
                name += f" ({entry.path})"
            when = _bold(QLabel(long_date(entry.due.isoformat()), box))
            when.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            text = QLabel(f"{name}: {entry.because}", box)
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.setWordWrap(True)
            text.setObjectName("statutoryDate")
            describe(text, f"{name}, {long_date(entry.due.isoformat())}: {entry.because}")
            grid.addWidget(when, row, 0)
            grid.addWidget(text, row, 1)
        layout.addLayout(grid)
        return box

    @staticmethod
    def _archive(archive: Sequence[Mapping[str, Any]], parent: QWidget) -> QFrame:
        """Answers an earlier version of the form asked: kept, shown, never editable or sent."""
        box = QFrame(parent)
        box.setObjectName("archivedAnswers")
        box.setAccessibleName("Answers from an earlier version of the form")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        title = _bold(QLabel("Answers from an earlier version of the form", box), 1.3)
        title.setObjectName("checkSectionTitle")
        layout.addWidget(title)
        note = QLabel("The form has changed since these were written. They are kept here, "
                      "read-only, and are not sent.", box)
        note.setWordWrap(True)
        layout.addWidget(note)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setHorizontalSpacing(18)
        for row, entry in enumerate(archive):
            where = QLabel(f"{entry.get('path', '')} (version {entry.get('from_version', '?')})",
                           box)
            where.setWordWrap(True)
            where.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            value = entry.get("value")
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            text = QLabel(shown, box)
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.setWordWrap(True)
            text.setObjectName("archivedAnswer")
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setToolTip(str(entry.get("reason", "")))
            describe(text, f"{entry.get('path', '')}: {shown}")
            grid.addWidget(where, row, 0)
            grid.addWidget(text, row, 1)
        layout.addLayout(grid)
        return box

    def _add_row(self, grid: QGridLayout, parent: QWidget, row: int, answer: AnswerRow,
                 read_only: bool, *, context: str = "") -> int:
        label = QLabel(answer.label, parent)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setMinimumWidth(200)
        value = QLabel(answer.text, parent)
        value.setTextFormat(Qt.TextFormat.PlainText)
        value.setWordWrap(True)
        value.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        value.setObjectName("answerText" if answer.answered else "notAnswered")
        if not answer.answered:
            font = value.font()
            font.setItalic(True)
            value.setFont(font)
        grid.addWidget(label, row, 0)
        grid.addWidget(value, row, 1)
        if not read_only and answer.changeable:
            # "Change Outcome 2: By when", so each link says which one it changes.
            spoken = f"{context}: {answer.label}" if context else answer.label
            self._add_change(grid, parent, row, answer.path, spoken)
        return row + 1

    def _add_change(self, grid: QGridLayout, parent: QWidget, row: int, path: str,
                    label: str) -> int:
        link = QPushButton("Change", parent)
        link.setObjectName("changeLink")
        link.setFlat(True)
        link.setAutoDefault(False)
        link.setCursor(Qt.CursorShape.PointingHandCursor)
        link.setProperty("path", path)
        describe(link, f"Change {label}")
        link.clicked.connect(lambda _c=False, p=path: emit(self.change_requested, p))
        grid.addWidget(link, row, 2, Qt.AlignmentFlag.AlignTop)
        self.change_links.append(link)
        return row + 1

    def _sign_off(self, session: Session, parent: QWidget, *, read_only: bool,
                  status: str) -> QWidget:
        box = QFrame(parent)
        box.setObjectName("signOff")
        box.setFrameShape(QFrame.Shape.Box)
        layout = QVBoxLayout(box)
        layout.addWidget(_bold(QLabel("Sign-off", box), 1.3))
        self.message = QLabel(box)
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.finalise_button = None
        self.confirm = None
        if read_only:
            layout.addWidget(QLabel(f"This assessment is finalised ({status}). Start an "
                                    "amendment to change it.", box))
            layout.addWidget(self.message)
            return box
        problems = as_shown(session.problems)
        if problems:
            count = len(problems)
            intro = QLabel(f"It cannot be finalised yet: {count} "
                           f"{'answer needs' if count == 1 else 'answers need'} attention.", box)
            intro.setWordWrap(True)
            layout.addWidget(intro)
            for problem in problems[:12]:
                link = WrappingLink(problem.message, box)
                link.setObjectName("errorLink")
                link.setFlat(True)
                link.setAutoDefault(False)
                link.setProperty("path", problem.path)
                describe(link, problem.message, "Go to this answer")
                link.clicked.connect(
                    lambda _c=False, p=problem.path: emit(self.change_requested, p))
                layout.addWidget(link)
            if count > 12:
                layout.addWidget(QLabel(f"… and {count - 12} more.", box))
            layout.addWidget(self.message)
            return box
        self.confirm = WrapCheckBox(
            "I confirm these answers are correct, and that the agreements recorded above were "
            "given by the people named.", box)
        describe(self.confirm, self.confirm.text())
        self.finalise_button = QPushButton("&Finalise and queue for sending", box)
        self.finalise_button.setObjectName("primaryButton")
        self.finalise_button.setEnabled(False)
        self.confirm.toggled.connect(self._confirmed)
        self.finalise_button.clicked.connect(self.finalise_requested)
        layout.addWidget(self.confirm)
        layout.addWidget(self.finalise_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.message)
        return box

    def _confirmed(self, checked: bool) -> None:
        if self.finalise_button is not None:
            self.finalise_button.setEnabled(checked and not self._busy)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if self.finalise_button is not None and self.confirm is not None:
            self.finalise_button.setEnabled(self.confirm.isChecked() and not busy)
        if busy:
            self.say("Finalising…")

    def say(self, text: str) -> None:
        if self.message is not None:
            self.message.setText(text)
            describe(self.message, text)
            self.message.setVisible(bool(text))
