"""The "New assessment" dialog: the child's names, date of birth and UPN, then a draft.

A UPN that already belongs to an assessment is never silently a second child: the dialog says
so and offers to open the existing record or, knowingly, to create another. The lookup (blind
index) and the creation both run on the database thread.
"""

from __future__ import annotations

import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.assessments import Assessments
from desktop.errors import OneSendError
from desktop.vault import Vault
from forms.registry import Catalogue, load_definition
from forms.validators import check_upn, new_person_key, normalise_identifier
from ui.form.widgets import parse_date_text
from ui.tasks import TaskRunner, emit

FORM_ID = "national-send-assessment"
DUPLICATE_SENTENCE = "An assessment for a child with this UPN already exists."
SAME_CHILD_SENTENCE = ("An assessment for a child with this name and date of birth already "
                       "exists.")


def same_name_and_birth(vault: Vault, first: str, last: str, born: str) -> list[str]:
    """Ids of assessments of a child with this name and date of birth (for a child without a
    UPN: the list's summaries are compared, decrypted on the database thread)."""
    def key(text: str) -> str:
        return " ".join(text.split()).casefold()

    wanted = (key(first), key(last), born)
    return [s.id for s in Assessments(vault).summaries()
            if not s.damaged and (key(s.first_name), key(s.last_name), s.date_of_birth) == wanted]


def new_document(first_name: str, last_name: str, date_of_birth: str, upn: str,
                 catalogue: Catalogue | None = None) -> dict[str, Any]:
    """A draft of the latest national form with only the child's identity answered."""
    child: dict[str, Any] = {
        "first_name": first_name, "last_name": last_name, "date_of_birth": date_of_birth,
    }
    definition = load_definition(FORM_ID, catalogue=catalogue)
    if upn:
        child["upn"] = upn
    elif definition.question("child", "person_key") is not None:
        child["person_key"] = new_person_key()  # a stable key for a child with no UPN (2.0.0)
    return {
        "form": FORM_ID,
        "form_version": definition.version,
        "answers": {"child": child},
    }


def create_draft(vault: Vault, document: dict[str, Any]) -> str:
    record_id, _revision = Assessments(vault).create(document)
    return record_id


class NewAssessmentDialog(QDialog):
    """Asks who the assessment is for; emits `chosen(id)` with the draft (or existing) record."""

    chosen = Signal(str)  # the record to open: the new draft, or the existing one picked
    failed = Signal(str)  # one sentence, when the lookup or the creation failed

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.existing: list[str] = []
        self.setWindowTitle("New assessment")
        self.setObjectName("newAssessmentDialog")
        self.setModal(True)
        self._build()

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        heading = QLabel('<span style="font-size: x-large; font-weight: bold;">'
                         "Who is the assessment for?</span>")
        heading.setTextFormat(Qt.TextFormat.RichText)
        heading.setObjectName("pageHeading")
        outer.addWidget(heading)

        self.message = QLabel()
        self.message.setObjectName("pageMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Problem")
        self.message.hide()
        outer.addWidget(self.message)

        form = QFormLayout()
        self.first_name = self._field(form, "&First name", "firstName")
        self.last_name = self._field(form, "&Last name", "lastName")
        self.date_of_birth = self._field(
            form, "&Date of birth", "dateOfBirth", "For example 27/03/2015 or 27 Mar 2015")
        self.upn = self._field(
            form, "&UPN (optional)", "upn",
            "The unique pupil number, 13 characters, if the child has one")
        outer.addLayout(form)

        self.duplicate = QFrame()
        self.duplicate.setObjectName("duplicateWarning")
        self.duplicate.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(self.duplicate)
        self.duplicate_label = QLabel(DUPLICATE_SENTENCE)
        self.duplicate_label.setObjectName("pageMessage")
        self.duplicate_label.setWordWrap(True)
        box.addWidget(self.duplicate_label)
        choices = QHBoxLayout()
        self.open_existing = QPushButton("Open the existing one")
        self.open_existing.setAccessibleDescription(DUPLICATE_SENTENCE)
        self.open_existing.clicked.connect(self._open_existing)
        self.create_anyway = QPushButton("Create another anyway")
        self.create_anyway.setAccessibleDescription(
            "Start a second assessment for the child with this UPN.")
        self.create_anyway.clicked.connect(self._create)
        choices.addWidget(self.open_existing)
        choices.addWidget(self.create_anyway)
        choices.addStretch(1)
        box.addLayout(choices)
        self.duplicate.hide()
        outer.addWidget(self.duplicate)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.create_button = QPushButton("Create assessment")
        self.create_button.setObjectName("primaryButton")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)
        outer.addLayout(buttons)
        self._duplicate_sentence = DUPLICATE_SENTENCE
        for edit in (self.upn, self.first_name, self.last_name, self.date_of_birth):
            edit.textEdited.connect(self._upn_changed)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    def _field(self, form: QFormLayout, label_text: str, name: str, hint: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        label = QLabel(label_text)
        label.setBuddy(edit)
        edit.setAccessibleName(label_text.replace("&", ""))
        if hint:
            edit.setPlaceholderText(hint)
            edit.setAccessibleDescription(hint)
        form.addRow(label, edit)
        return edit

    # -- checking ---------------------------------------------------------------------------

    def _problem(self) -> tuple[str, QLineEdit] | None:
        if not self.first_name.text().strip():
            return "Enter the child's first name.", self.first_name
        if not self.last_name.text().strip():
            return "Enter the child's last name.", self.last_name
        text = self.date_of_birth.text().strip()
        if not text:
            return "Enter the child's date of birth.", self.date_of_birth
        born = parse_date_text(text)
        if born is None:
            return ("Enter the date of birth as a real date, for example 27/03/2015.",
                    self.date_of_birth)
        if datetime.date.fromisoformat(born) > datetime.date.today():  # noqa: DTZ011 - local day
            return "The date of birth must be in the past.", self.date_of_birth
        upn = self.upn.text().strip()
        if upn:
            problem = check_upn(upn)
            if problem:
                return problem, self.upn
        return None

    def _say(self, sentence: str, focus: QWidget | None = None) -> None:
        self.message.setText(sentence)
        self.message.show()
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def _busy(self, busy: bool) -> None:
        for button in (self.create_button, self.open_existing, self.create_anyway):
            button.setEnabled(not busy)

    def _upn_changed(self, _text: str) -> None:
        self.duplicate.hide()
        self.existing = []

    # -- acting -----------------------------------------------------------------------------

    def submit(self) -> None:
        """Check the answers; look the UPN up, then create the draft or warn of a duplicate."""
        problem = self._problem()
        if problem is not None:
            self._say(*problem)
            return
        self.message.hide()
        upn = normalise_identifier(self.upn.text())
        self._busy(True)
        if upn:
            self._duplicate_sentence = DUPLICATE_SENTENCE
            self.tasks.run_db(lambda vault: Assessments(vault).find_by_upn(upn),
                              self._looked_up, self._failed, owner=self)
            return
        # No UPN: the same name and date of birth is the same warning.
        self._duplicate_sentence = SAME_CHILD_SENTENCE
        first, last = self.first_name.text(), self.last_name.text()
        born = parse_date_text(self.date_of_birth.text().strip()) or ""
        self.tasks.run_db(lambda vault: same_name_and_birth(vault, first, last, born),
                          self._looked_up, self._failed, owner=self)

    def _looked_up(self, ids: list[str]) -> None:
        self._busy(False)
        if not ids:
            self._create()
            return
        self.existing = ids
        self.duplicate_label.setText(self._duplicate_sentence)
        self.open_existing.setAccessibleDescription(self._duplicate_sentence)
        self.create_anyway.setAccessibleDescription(
            "Start a second assessment for this child." if self._duplicate_sentence
            is SAME_CHILD_SENTENCE else "Start a second assessment for the child with this UPN.")
        self.duplicate.show()
        self.open_existing.setFocus(Qt.FocusReason.OtherFocusReason)

    def _open_existing(self) -> None:
        if self.existing:
            emit(self.chosen, self.existing[0])
            self.accept()

    def _create(self) -> None:
        problem = self._problem()
        if problem is not None:
            self._say(*problem)
            return
        born = parse_date_text(self.date_of_birth.text().strip()) or ""
        first, last = self.first_name.text().strip(), self.last_name.text().strip()
        upn = normalise_identifier(self.upn.text())
        self._busy(True)
        self.tasks.run_db(
            lambda vault: create_draft(vault, new_document(first, last, born, upn,
                                                           vault.catalogue)),
            self._created, self._failed, owner=self)

    def _created(self, record_id: str) -> None:
        self._busy(False)
        emit(self.chosen, record_id)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        sentence = str(error) if isinstance(error, OneSendError) else (
            "The assessment could not be created; try again.")
        self._say(sentence)
        emit(self.failed, sentence)

