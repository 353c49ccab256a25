"""The conflict view: this computer's revision and the server's, side by side, answer by answer.

Both revisions are shown section by section; an answer that differs is marked in words
("Differs"), not by colour alone, and needs a choice: "Keep mine" or "Take theirs". Nothing
is saved until every differing answer has one, so neither side is ever overwritten silently.
"Save resolution" writes a new revision based on the server's (Assessments.resolve_conflict)
and finalises it again, on the database thread; the sync panel then sends it.

The server's revision is fetched off the GUI thread with the receipt checked
(sync.conflicts.load_conflict); the answers are compared and merged there too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.answers_text import format_answer
from desktop.assessments import Assessments, summarise
from desktop.errors import NotReady, OneSendError
from desktop.vault import Vault
from forms.bounds import GENERIC_CHARS, clip_text
from forms.engine import Session
from forms.errors import FormError
from forms.model import FormDefinition
from forms.registry import Catalogue, load_definition
from sync.conflicts import (
    MINE,
    THEIRS,
    AnswerKey,
    ConflictPair,
    Side,
    answer_units,
    differences,
    load_conflict,
    merge_answers,
    value_of,
)
from sync.http import ApiSettings
from ui.keys import ArrowsSelect
from ui.tasks import TaskRunner, emit

NOT_HELD = "(no answer)"
# The changed answers on a pale yellow with dark text (in either theme); the same ones in the
# theme's own text colour.
_DIFF_STYLE = ("background: #fff4ce; color: #0b0c0c; border-left: 4px solid #8a5a00; "
               "padding: 4px;")
_SAME_STYLE = "padding: 4px;"


@contextlib.contextmanager
def _own_vault(opener: Callable[[], Vault]) -> Iterator[Vault]:
    vault = opener()
    try:
        yield vault
    finally:
        if vault.is_open:
            vault.conn.close()


class _Labeller:
    """Section titles, question labels and answers in words, from the form when it is known."""

    def __init__(self, form: str, version: str, catalogue: Catalogue | None = None) -> None:
        self.definition: FormDefinition | None
        try:
            self.definition = load_definition(form, version, catalogue)
        except FormError:
            self.definition = None
        self._sessions: dict[int, Session] = {}

    def section_title(self, section_id: str) -> str:
        section = self.definition.sections_by_id.get(section_id) if self.definition else None
        return section.title if section is not None else section_id.replace("_", " ").title()

    def order(self, keys: list[AnswerKey]) -> list[AnswerKey]:
        if self.definition is None:
            return keys
        sections = [s.id for s in self.definition.sections]

        def rank(key: AnswerKey) -> tuple[int, int]:
            section_id, question_id = key
            where = sections.index(section_id) if section_id in sections else len(sections)
            section = self.definition.sections_by_id.get(section_id) if self.definition else None
            ids = [q.id for q in section.questions] if section is not None else []
            base = (question_id or "").removesuffix("_other")
            return where, ids.index(base) if base in ids else len(ids)

        return sorted(keys, key=rank)

    def label(self, key: AnswerKey) -> str:
        section_id, question_id = key
        section = self.definition.sections_by_id.get(section_id) if self.definition else None
        if question_id is None:
            return section.title if section is not None else section_id
        if section is not None:
            question = section.by_id.get(question_id)
            if question is not None:
                return question.label
            base = question_id.removesuffix("_other")
            if base != question_id and base in section.by_id:
                return f"{section.by_id[base].label} (details)"
        return question_id.replace("_", " ").capitalize()

    def text(self, answers: dict[str, Any], key: AnswerKey, held: bool) -> str:
        """An answer in words, never longer than a long answer's bound (forms/bounds.py)."""
        shown, cut = clip_text(self._text(answers, key, held), GENERIC_CHARS)
        return shown + " […]" if cut else shown

    def _text(self, answers: dict[str, Any], key: AnswerKey, held: bool) -> str:
        if not held:
            return NOT_HELD
        value = value_of(answers, key)
        section_id, question_id = key
        section = self.definition.sections_by_id.get(section_id) if self.definition else None
        if section is None:
            return _plain(value)
        if question_id is None:  # a repeating section, as a whole
            items = value if isinstance(value, list) else []
            if not items:
                return "No items"
            lines = []
            for number, item in enumerate(items, start=1):
                parts = [f"{q.label}: {_plain(item.get(q.id))}" for q in section.questions
                         if isinstance(item, dict) and item.get(q.id) not in (None, "", [])]
                lines.append(f"{section.item_label} {number}: " + "; ".join(parts))
            return "\n".join(lines)
        question = section.by_id.get(question_id)
        if question is None or question.is_group:
            return _plain(value)
        session = self._session(answers)
        container = answers.get(section_id) if isinstance(answers.get(section_id), dict) else {}
        try:
            shown = format_answer(session, section_id, question, value, container=container)
        except (FormError, TypeError, ValueError, KeyError):
            shown = _plain(value)
        return shown or "Not answered"

    def _session(self, answers: dict[str, Any]) -> Session:
        found = self._sessions.get(id(answers))
        if found is None:
            assert self.definition is not None
            found = Session(self.definition, answers)
            self._sessions[id(answers)] = found
        return found


def _plain(value: Any) -> str:
    if value is None or value in ("", []):
        return "Not answered"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "\n".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items() if not k.startswith("_"))
    return str(value)


class ConflictView(QDialog):
    """Choose, answer by answer, between this computer's revision and the server's."""

    loaded = Signal()
    resolved = Signal(str, bool)  # record id, queued again (False: saved, needs finishing)

    def __init__(
        self, tasks: TaskRunner, open_vault: Callable[[], Vault], record_id: str,
        revision: int, parent: QWidget | None = None, *, settings: ApiSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conflictView")
        self.setWindowTitle("Resolve a conflict")
        self.resize(1100, 760)
        self.tasks = tasks
        self.record_id = record_id
        self.revision = revision
        self.pair: ConflictPair | None = None
        self.differing: list[AnswerKey] = []
        self.choices: dict[AnswerKey, Side] = {}
        self.groups: dict[AnswerKey, QButtonGroup] = {}
        self.same_rows: list[QWidget] = []
        self._saving = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        self.heading = QLabel("Resolve a conflict")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.intro = QLabel("Fetching the server's revision…")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        tools = QHBoxLayout()
        self.only_differences = QCheckBox("Show only the answers that differ")
        self.only_differences.toggled.connect(self._filter)
        self.all_mine = QPushButton("Keep all mine")
        self.all_mine.clicked.connect(lambda: self._choose_all(MINE))
        self.all_theirs = QPushButton("Take all theirs")
        self.all_theirs.clicked.connect(lambda: self._choose_all(THEIRS))
        for widget in (self.only_differences, self.all_mine, self.all_theirs):
            widget.setEnabled(False)
        tools.addWidget(self.only_differences)
        tools.addStretch(1)
        tools.addWidget(self.all_mine)
        tools.addWidget(self.all_theirs)
        layout.addLayout(tools)
        self.scroller = QScrollArea()
        self.scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its radios take the focus
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.scroller, 1)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        layout.addWidget(self.progress_label)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("Save resolution",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primaryButton")
        self.save_button.setEnabled(False)
        self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        settings_ = settings

        def work() -> ConflictPair:
            with _own_vault(open_vault) as vault:
                return load_conflict(vault, record_id, revision, settings_)

        tasks.run(work, self._loaded, self._load_failed, owner=self)

    # -- loading --------------------------------------------------------------------------------

    def _loaded(self, pair: ConflictPair) -> None:
        self.pair = pair
        mine, theirs = pair.mine["answers"], pair.theirs.payload["answers"]
        labeller = _Labeller(pair.mine["form"], pair.mine["form_version"], self.tasks.catalogue)
        self.differing = differences(mine, theirs)
        names = summarise(mine)
        child = " ".join(p for p in (names["first_name"], names["last_name"]) if p)
        who = f"{child}'s assessment" if child else "This assessment"
        self.heading.setText(f"Resolve a conflict: {who}")
        count = len(self.differing)
        self.intro.setText(
            f"This computer's revision {pair.local_revision} and the server's revision "
            f"{pair.theirs.revision} differ in {count} answer{'s' if count != 1 else ''}, "
            "marked “Differs”. Choose for each whether to keep yours or take the server's; "
            "nothing is saved until every one is chosen, and both revisions stay in the "
            "history.")
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 8, 0)
        keys = labeller.order(answer_units(mine, theirs))
        held_mine = set(answer_units(mine, {}))
        held_theirs = set(answer_units({}, theirs))
        sections: dict[str, list[AnswerKey]] = {}
        for key in keys:
            sections.setdefault(key[0], []).append(key)
        for section_id, section_keys in sections.items():
            box = QGroupBox(labeller.section_title(section_id))
            box.setAccessibleName(labeller.section_title(section_id))
            grid = QGridLayout(box)
            grid.setColumnStretch(2, 1)
            grid.setColumnStretch(3, 1)
            for column, text in enumerate(("Question", "", "Yours (this computer)",
                                           f"Server's (revision {pair.theirs.revision})", "")):
                header = QLabel(text)
                bold = header.font()
                bold.setBold(True)
                header.setFont(bold)
                grid.addWidget(header, 0, column)
            any_difference = False
            for row, key in enumerate(section_keys, start=1):
                differs = key in self.differing
                any_difference |= differs
                self._add_row(grid, row, key, differs=differs, labeller=labeller,
                              mine_text=labeller.text(mine, key, key in held_mine),
                              theirs_text=labeller.text(theirs, key, key in held_theirs))
            box.setProperty("differs", any_difference)
            if not any_difference:
                self.same_rows.append(box)
            outer.addWidget(box)
        outer.addStretch(1)
        self.scroller.setWidget(body)
        for widget in (self.only_differences, self.all_mine, self.all_theirs):
            widget.setEnabled(bool(self.differing))
        self._update_progress()
        emit(self.loaded)

    def _add_row(self, grid: QGridLayout, row: int, key: AnswerKey, *, differs: bool,
                 labeller: _Labeller, mine_text: str, theirs_text: str) -> None:
        question = QLabel(labeller.label(key))
        question.setWordWrap(True)
        marker = QLabel("≠ Differs" if differs else "Same")
        cells = [QLabel(mine_text), QLabel(theirs_text)]
        widgets: list[QWidget] = [question, marker, *cells]
        for cell in cells:
            cell.setWordWrap(True)
            cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            cell.setStyleSheet(_DIFF_STYLE if differs else _SAME_STYLE)
            cell.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if differs:
            strong = QFont(marker.font())
            strong.setBold(True)
            marker.setFont(strong)
            question.setFont(strong)
            choice = QWidget()
            line = QVBoxLayout(choice)
            line.setContentsMargins(0, 0, 0, 0)
            keep, take = QRadioButton("Keep mine"), QRadioButton("Take theirs")
            label = labeller.label(key)
            keep.setAccessibleName(f"Keep mine: {label}")
            take.setAccessibleName(f"Take theirs: {label}")
            group = QButtonGroup(choice)
            group.addButton(keep, 0)
            group.addButton(take, 1)
            group.idClicked.connect(lambda which, k=key: self.choose(k, MINE if which == 0
                                                                      else THEIRS))
            line.addWidget(keep)
            line.addWidget(take)
            ArrowsSelect([keep, take], group)
            self.groups[key] = group
            widgets.append(choice)
        else:
            marker.setStyleSheet("")  # the theme's text colour: grey failed on black
            self.same_rows.extend(widgets)
        for column, widget in enumerate(widgets):
            grid.addWidget(widget, row, column, Qt.AlignmentFlag.AlignTop)

    def _load_failed(self, error: BaseException) -> None:
        self.intro.setText(str(error) if isinstance(error, OneSendError) else
                           "The server's revision could not be fetched; nothing was changed. "
                           "Try again when the server can be reached.")

    # -- choosing -------------------------------------------------------------------------------

    def choose(self, key: AnswerKey, side: Side) -> None:
        """Record a choice (the radio buttons call this; tests and shortcuts may too)."""
        if key not in self.differing:
            raise KeyError(key)
        self.choices[key] = side
        button = self.groups[key].button(0 if side == MINE else 1)
        if not button.isChecked():
            button.setChecked(True)
        self._update_progress()

    def _choose_all(self, side: Side) -> None:
        for key in self.differing:
            self.choose(key, side)

    def _filter(self, only: bool) -> None:
        for widget in self.same_rows:
            widget.setVisible(not only)

    def _update_progress(self) -> None:
        chosen, total = len(self.choices), len(self.differing)
        if total == 0:
            self.progress_label.setText("The two revisions hold the same answers.")
        else:
            self.progress_label.setText(f"{chosen} of {total} differing answers chosen.")
        self.save_button.setEnabled(self.pair is not None and chosen == total and
                                    not self._saving)

    # -- saving ---------------------------------------------------------------------------------

    def resolution(self) -> dict[str, Any]:
        """The document to save: the answers chosen, on this computer's form version."""
        assert self.pair is not None
        mine = self.pair.mine
        document: dict[str, Any] = {
            "form": mine["form"], "form_version": mine["form_version"],
            "answers": merge_answers(mine["answers"], self.pair.theirs.payload["answers"],
                                     self.choices),
        }
        if mine.get("archive"):
            document["archive"] = mine["archive"]
        return document

    def save(self) -> None:
        if self.pair is None or self._saving or len(self.choices) != len(self.differing):
            return
        document = self.resolution()
        record_id, server_revision = self.record_id, self.pair.theirs.revision
        self._saving = True
        self._update_progress()
        self.progress_label.setText("Saving the resolution…")

        def work(db: Vault) -> bool:
            store = Assessments(db)
            store.resolve_conflict(record_id, document, server_revision)
            try:
                store.finalise(record_id)
            except NotReady:
                return False  # saved, based on the server's revision; finish it in the form
            return True

        self.tasks.run_db(work, self._saved, self._save_failed, owner=self)

    def _saved(self, queued: bool) -> None:
        self._saving = False
        emit(self.resolved, self.record_id, queued)
        self.accept()

    def _save_failed(self, error: BaseException) -> None:
        self._saving = False
        self._update_progress()
        self.progress_label.setText(str(error) if isinstance(error, OneSendError) else
                                    "The resolution could not be saved; nothing was changed.")

