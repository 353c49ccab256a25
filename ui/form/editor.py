"""The assessment editor: one section at a time, saved as the user types.

``AssessmentEditor`` is the widget a main window hosts for one open assessment. It lists the
form's visible sections at the side with a completeness mark each, shows one section at a
time with widgets chosen by question type, keeps visibility and computed values current as
the user types, shows errors inline and in a GOV.UK-style error summary whose entries move
the focus to the field, and autosaves every change (debounced) through the task runner's
database thread: each save is a new revision. It also hosts "Check your answers" (with
finalise), the family's PDF and the history of revisions.

Nothing here knows a question by name: everything comes from the definition and the engine.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QKeySequence,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from desktop.assessments import Assessments
from desktop.family_copy import family_copy_html, family_copy_title, write_pdf
from desktop.record_status import RecordStatus
from desktop.vault import Vault
from forms.definition import Question
from forms.engine import MISSING_KIND, Session
from ui.crash import user_sentence
from ui.form.check_answers import CheckAnswersPage
from ui.form.edit_session import EditSession
from ui.form.history import HistoryView
from ui.form.section_page import SectionPage
from ui.form.widgets import (
    FieldAdapter,
    FieldContext,
    ItemList,
    adapter_for,
    describe,
)
from ui.scaling import relative_font, width_in_characters
from ui.tasks import TaskRunner, emit

# Errors are marked by words ("Error: …", "There is a problem") and a thick bar, never by
# colour alone; focus is the GOV.UK yellow so it shows on any theme. Colours come from the
# palette where they can; the two that cannot (the error red, the focused input's edge) have
# a light and a dark version, so both themes keep 4.5:1 for text and 3:1 for focus
# (tests/ui_a11y/test_a11y_contrast.py computes them).
_EDITOR_STYLE = """
QFrame#question[error="true"] { border-left: 5px solid {error}; }
QLabel#errorMessage { color: {error}; font-weight: bold; }
QFrame#errorSummary { border: 4px solid {error}; }
QPushButton#errorLink, QPushButton#changeLink, QPushButton#itemOpener {
    border: none; text-align: left; text-decoration: underline; color: palette(link);
    padding: 2px 4px;
}
QPushButton#errorLink { color: {error}; font-weight: bold; }
QPushButton#errorLink QLabel#linkText { color: {error}; font-weight: bold;
    text-decoration: underline; background: transparent; }
QLabel#linkText[focused="true"] { color: #0b0c0c; background: #ffdd00; }
QPushButton#errorLink:focus, QPushButton#changeLink:focus, QPushButton#itemOpener:focus,
QLabel#sectionTitle:focus, QLabel#errorSummaryTitle:focus, QLabel#computedValue:focus {
    background: #ffdd00; color: #0b0c0c; outline: none; border-bottom: 4px solid #0b0c0c;
}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus { border: 3px solid {edge};
    background: palette(base); }
QPushButton:focus, QToolButton:focus, QCheckBox:focus, QRadioButton:focus {
    background: #ffdd00; color: #0b0c0c; border-bottom: 4px solid #0b0c0c; }
QFrame#readOnlyBanner { border: 3px solid #1d70b8; }
QFrame#itemCard { border: 1px solid palette(mid); }
QFrame#itemCard[error="true"] { border-left: 5px solid {error}; }
"""


def editor_style(dark: bool) -> str:
    """The editor's stylesheet for a light window (GOV.UK colours) or a dark one."""
    # GOV.UK's red (#d4351c) is 4.2:1 on a grey window: a darker red keeps 4.5:1.
    return (_EDITOR_STYLE.replace("{error}", "#ff9d8f" if dark else "#aa2a16")
            .replace("{edge}", "#ffff00" if dark else "#0b0c0c"))


STATUS_WORDS: dict[str, str] = {
    RecordStatus.DRAFT: "Draft",
    RecordStatus.READY: "Finalised",
    RecordStatus.QUEUED: "Finalised, waiting to send",
    RecordStatus.SYNCED: "Finalised and sent",
    RecordStatus.AMENDED: "Amendment (draft)",
    RecordStatus.CONFLICT: "Needs attention: changed elsewhere",
}
CHECK_PAGE = "check-answers"
SECTION_COMPLETE = "This section is complete."
HISTORY_PAGE = "history"


# What a failed save, PDF or sign-off can promise: nothing typed is lost.
ON_SCREEN = "your answers are still on screen"


TITLE_CHARS = 80


def title_text(name: str) -> str:
    """A name as a title (the editor's heading, the window title): at most 80 characters."""
    return name if len(name) <= TITLE_CHARS else name[: TITLE_CHARS - 1] + "…"


class AssessmentEditor(QWidget):
    """One open assessment: fill it in, check it, finalise it, print it, see its history.

    Give it the task runner (whose database thread has its own vault connection) and the
    assessment document as ``Assessments.get`` returns it. Call ``flush()`` before closing or
    locking: it writes any change not yet saved and waits for the write.
    """

    saved = Signal(str, int)  # record id, revision: after each successful save
    save_state_changed = Signal(str)  # "saving", "saved" or "failed"
    status_changed = Signal(str)  # the record's status: draft, ready, amended, ...
    finalised = Signal(str, int)  # record id, revision
    pdf_exported = Signal(str)  # the file written
    failed = Signal(str)  # one sentence for the user, when an action failed
    title_changed = Signal(str)  # the child's name, for the window title

    def __init__(self, tasks: TaskRunner, document: dict[str, Any], *,
                 today: date | None = None, autosave_ms: int = 600,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessmentEditor")
        self._apply_style()
        self.tasks = tasks
        # The state and the decisions (undo, autosave, sign-off): the widget only draws them.
        self.edit = EditSession(document, today)
        self.today = today
        self.record_id = self.edit.record_id
        # One editing session: its autosaves replace one working revision (desktop/assessments).
        self._save_session = uuid.uuid4().hex
        self._page: SectionPage | None = None
        self._pages: dict[str, SectionPage] = {}  # built section pages, by section id
        self._scrollers: dict[str, QScrollArea] = {}  # each built page's own scroll area
        self._no_section: QScrollArea | None = None
        self._current: str = ""
        self.last_pdf: Path | None = None
        self.ctx = FieldContext(session=lambda: self.session, build=self._build_adapter,
                                read_only=lambda: self.read_only)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(autosave_ms)
        self._save_timer.timeout.connect(self._save_now)
        self._errors_timer = QTimer(self)
        self._errors_timer.setSingleShot(True)
        self._errors_timer.setInterval(max(150, autosave_ms // 2))
        self._errors_timer.timeout.connect(self._show_problems)
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.setInterval(5000)
        self._retry_timer.timeout.connect(self._retry_save)

        self._build_ui()
        self._show_clipped()
        self._fill_sidebar()
        self._apply_status()
        first = self.session.visible_sections[0].id if self.session.visible_sections else ""
        self.show_section(first)

    # -- layout --------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 8)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("editorTitle")
        relative_font(self.title_label, 1.3)
        # A long name is cut with "…" by title_text(); the label never widens the window.
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setMinimumWidth(120)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("recordStatus")
        self.save_label = QLabel(self)
        self.save_label.setObjectName("saveState")
        describe(self.save_label, "Save state")
        self.undo_button = QPushButton("&Undo last change", self)
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo)
        self.pdf_button = QPushButton("Family copy (&PDF)…", self)
        self.pdf_button.clicked.connect(self._choose_pdf_path)
        self.open_pdf_button = QPushButton("&Open the PDF", self)
        self.open_pdf_button.setVisible(False)
        self.open_pdf_button.clicked.connect(self._open_pdf)
        header.addWidget(self.title_label)
        header.addWidget(self.status_label)
        header.addStretch(1)
        header.addWidget(self.save_label)
        header.addWidget(self.undo_button)
        header.addWidget(self.pdf_button)
        header.addWidget(self.open_pdf_button)
        outer.addLayout(header)

        self.banner = QFrame(self)
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setFrameShape(QFrame.Shape.Box)
        banner_row = QHBoxLayout(self.banner)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.amend_button = QPushButton("Start an a&mendment", self.banner)
        self.amend_button.clicked.connect(self.start_amendment)
        banner_row.addWidget(self.banner_label, 1)
        banner_row.addWidget(self.amend_button)
        outer.addWidget(self.banner)

        self.message = QLabel(self)
        self.message.setObjectName("editorMessage")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.message)
        self.bounds_note = QLabel(self)
        self.bounds_note.setObjectName("boundsNote")
        self.bounds_note.setWordWrap(True)
        self.bounds_note.setVisible(False)
        self.bounds_note.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.bounds_note)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.sections = QListWidget(splitter)
        self.sections.setObjectName("sectionList")
        describe(self.sections, "Sections of the form",
                 "Each section shows whether it is complete or what is left to do.")
        width_in_characters(self.sections, 26, minimum=True)
        self.sections.setResizeMode(QListWidget.ResizeMode.Adjust)  # re-wrap when resized
        self.sections.setWordWrap(True)
        self.sections.setSpacing(3)
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections.currentItemChanged.connect(self._section_picked)
        self.stack = QStackedWidget(splitter)
        # One scroll area per section, built on first visit and kept: switching sections only
        # flips this stack (re-parenting a page of hundreds of widgets costs ~100 ms each time).
        self.section_stack = QStackedWidget(self.stack)
        self.stack.addWidget(self.section_stack)
        self.check_page = CheckAnswersPage(self.stack)
        self.check_page.change_requested.connect(self.focus_path)
        self.check_page.finalise_requested.connect(self.finalise)
        self.stack.addWidget(self.check_page)
        self.history = HistoryView(self.tasks, self.record_id, self.stack,
                                   finalised=lambda: self.read_only)
        self.history.restored.connect(self._restored)
        self.stack.addWidget(self.history)
        splitter.addWidget(self.sections)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 900])
        outer.addWidget(splitter, 1)
        self.undo_shortcut = QShortcut(QKeySequence("Ctrl+Shift+Z"), self)
        self.undo_shortcut.activated.connect(self.undo)
        self._set_save_label("saved", "All changes saved")

    @property
    def clipped(self) -> list[str]:
        """Paths of answers shown shortened to their bounds (see `EditSession.clipped`)."""
        return self.edit.clipped

    def _show_clipped(self) -> None:
        if not self.clipped:
            self.bounds_note.setVisible(False)
            return
        paths = ", ".join(self.clipped[:5]) + (", …" if len(self.clipped) > 5 else "")
        self.bounds_note.setText(
            f"{len(self.clipped)} answer(s) in revision {self.revision} are longer than OneSEND "
            f"accepts and are shown shortened ({paths}). Revision {self.revision} keeps them "
            "whole in History; a change saved here stores the shortened text as a new revision.")
        self.bounds_note.setVisible(True)

    def _build_adapter(self, question: Question, path: str, section_id: str,
                       parent: QWidget) -> FieldAdapter:
        adapter = adapter_for(question)(question, path, section_id, self.ctx, parent)
        adapter.set_read_only(self.read_only)
        return adapter

    # -- state -------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.edit.read_only

    @property
    def session(self) -> Session:
        """The form session: the answers judged against the form (the edit session's)."""
        return self.edit.session

    @property
    def status(self) -> str:
        return self.edit.status

    @property
    def revision(self) -> int:
        return self.edit.revision

    @property
    def form_id(self) -> str:
        return self.edit.form_id

    @property
    def form_version(self) -> str:
        return self.edit.form_version

    @property
    def archive(self) -> list[dict[str, Any]]:
        return self.edit.archive

    @property
    def current_section(self) -> str:
        return self._current

    @property
    def page(self) -> SectionPage | None:
        return self._page

    def document(self) -> dict[str, Any]:
        """What is saved: every answer typed, hidden ones included, so nothing is lost."""
        return self.edit.document()

    def child_name(self) -> str:
        return title_text(self.edit.child_name())

    def _apply_status(self) -> None:
        self.status_label.setText(f"Status: {STATUS_WORDS.get(self.status, self.status)}")
        self.banner.setVisible(self.read_only)
        self.banner_label.setText(
            "This assessment has been finalised, so it is read-only. To change it, start an "
            "amendment: that makes a new revision and the signed-off one is kept.")
        self.undo_button.setVisible(not self.read_only)
        name = self.child_name() or "New assessment"
        self.title_label.setText(name)
        emit(self.title_changed, name)

    # -- sections ------------------------------------------------------------------------------

    def _fill_sidebar(self) -> None:
        current = self._current
        self.sections.blockSignals(True)
        self.sections.clear()
        for section in self.session.visible_sections:
            item = QListWidgetItem(self._mark(section.id), self.sections)
            item.setData(Qt.ItemDataRole.UserRole, section.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, self._mark(section.id))
        for key, text in ((CHECK_PAGE, "Check your answers and finalise"),
                          (HISTORY_PAGE, "History of changes")):
            item = QListWidgetItem(text, self.sections)
            item.setData(Qt.ItemDataRole.UserRole, key)
        self._select_in_sidebar(current)
        self.sections.blockSignals(False)

    def _mark(self, section_id: str) -> str:
        status = self.session.section_status(section_id)
        if status.complete:
            return f"✓ {status.title} (complete)"
        parts = []
        if status.invalid:
            parts.append(f"{status.invalid} to fix")
        if status.missing:
            parts.append(f"{status.missing} to answer")
        return f"○ {status.title} ({', '.join(parts)})"

    def _update_sidebar(self) -> None:
        visible = [s.id for s in self.session.visible_sections]
        shown = [self.sections.item(i).data(Qt.ItemDataRole.UserRole)
                 for i in range(self.sections.count())]
        if shown[:-2] != visible:
            self._fill_sidebar()
            return
        for row, section_id in enumerate(visible):
            item = self.sections.item(row)
            text = self._mark(section_id)
            if item.text() != text:
                item.setText(text)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, text)

    def _select_in_sidebar(self, key: str) -> None:
        for row in range(self.sections.count()):
            if self.sections.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.sections.blockSignals(True)
                self.sections.setCurrentRow(row)
                self.sections.blockSignals(False)
                return

    def _section_picked(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None:
            return
        key = str(item.data(Qt.ItemDataRole.UserRole))
        if key == CHECK_PAGE:
            self.show_check_answers()
        elif key == HISTORY_PAGE:
            self.show_history()
        else:
            self.show_section(key)

    def show_section(self, section_id: str, *, rebuild: bool = False) -> SectionPage | None:
        """Show one section; its widgets are built once and kept while the answers are the same.

        A section's page is rebuilt when `rebuild` is set (its repeating items were added,
        removed or moved) and after anything that replaces the answers wholesale (undo, a
        reload after finalising, amending or restoring): see `_drop_pages`.
        """
        section = self.session.definition.sections_by_id.get(section_id)
        if section is None:
            return None
        if rebuild:
            self._drop_page(section_id)
        page = self._pages.get(section_id)
        if page is None:
            page = SectionPage(section, self.ctx)
            page.load(self.session)
            # Visibility set while the page is not yet on screen: no layout pass per field.
            page.refresh(self.session)
            page.changed.connect(self._on_changed)
            page.items_requested.connect(self._on_items)
            page.summary.entry_activated.connect(self.focus_path)
            page.check_button.clicked.connect(self.check_section)
            page.next_button.clicked.connect(self.next_section)
            scroller = QScrollArea(self.section_stack)
            scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no invisible Tab stop
            scroller.setWidgetResizable(True)
            scroller.setFrameShape(QFrame.Shape.NoFrame)
            scroller.setWidget(page)
            self.section_stack.addWidget(scroller)
            self._pages[section_id] = page
            self._scrollers[section_id] = scroller
        if section_id != self._current or self.stack.currentWidget() is not self.section_stack:
            self._say("")  # a message is about the page it was said on: not carried along
        # Visibility and computed values may depend on answers given in other sections.
        page.refresh(self.session)
        following = self._following(section_id)
        page.next_button.setText(f"Next: {following[1]}" if following else
                                 "Next: check your answers")
        self._page = page
        self._current = section_id
        self.section_stack.setCurrentWidget(self._scrollers[section_id])
        self.stack.setCurrentWidget(self.section_stack)
        self._select_in_sidebar(section_id)
        self._show_problems()
        return page

    @property
    def scroller(self) -> QScrollArea:
        """The scroll area of the section on show (an empty one before any is shown)."""
        current = self.section_stack.currentWidget()
        if isinstance(current, QScrollArea):
            return current
        if self._no_section is None:
            self._no_section = QScrollArea(self.section_stack)
            self.section_stack.addWidget(self._no_section)
        return self._no_section

    def _drop_page(self, section_id: str) -> None:
        page = self._pages.pop(section_id, None)
        scroller = self._scrollers.pop(section_id, None)
        if self._page is page:
            self._page = None
        if scroller is not None:
            self.section_stack.removeWidget(scroller)
            scroller.deleteLater()  # and the page with it

    def _drop_pages(self) -> None:
        """Forget every built section page: the answers they show were replaced."""
        for section_id in list(self._pages):
            self._drop_page(section_id)

    def _following(self, section_id: str) -> tuple[str, str] | None:
        ids = [(s.id, s.title) for s in self.session.visible_sections]
        for index, (sid, _title) in enumerate(ids):
            if sid == section_id and index + 1 < len(ids):
                return ids[index + 1]
        return None

    def next_section(self) -> None:
        self.edit.checked.add(self._current)
        following = self._following(self._current)
        if following is None:
            self.show_check_answers()
            return
        page = self.show_section(following[0])
        if page is not None:
            page.heading.setFocus(Qt.FocusReason.OtherFocusReason)

    def check_section(self) -> None:
        """Show every missing and invalid answer of this section; focus the summary."""
        self.edit.checked.add(self._current)
        self._show_problems()
        if self._page is not None:
            if self._page.summary.isVisible():
                self._page.summary.title.setFocus(Qt.FocusReason.OtherFocusReason)
                self.scroller.ensureWidgetVisible(self._page.summary)
            else:
                self._say(SECTION_COMPLETE)

    def _show_problems(self) -> None:
        page = self._page
        if page is None:
            return
        problems = self.session.problems_at(page.section.id)
        if page.section.id not in self.edit.checked:
            problems = [p for p in problems if p.kind != MISSING_KIND]
        page.show_problems(problems)
        if problems and self.message.text() == SECTION_COMPLETE:
            self._say("")  # no longer true

    def focus_path(self, path: str) -> QWidget | None:
        """Go to the section holding a field and put the focus in it (error links, Change)."""
        section_id = path.split(".", maxsplit=1)[0].split("[", maxsplit=1)[0]
        elsewhere = (self._current != section_id
                     or self.stack.currentWidget() is not self.section_stack)
        if elsewhere and self.show_section(section_id) is None:
            return None
        page = self._page
        if page is None:
            return None
        target = page.focus_path(path)
        self.scroller.ensureWidgetVisible(target, 50, 80)
        return target

    def show_check_answers(self) -> None:
        self._say("")
        self.edit.checked.update(s.id for s in self.session.visible_sections)
        self.check_page.refresh(self.session, read_only=self.read_only, status=self.status,
                                 archive=self.archive)
        self.stack.setCurrentWidget(self.check_page)
        self._select_in_sidebar(CHECK_PAGE)
        self.check_page.heading.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_history(self) -> None:
        self._say("")
        self.history.reload()
        self.stack.setCurrentWidget(self.history)
        self._select_in_sidebar(HISTORY_PAGE)

    # -- editing ---------------------------------------------------------------------------------

    def _on_changed(self, path: str, value: object) -> None:
        if self.edit.set_answer(path, value):
            self._after_edit()

    def _on_items(self, path: str, action: str, index: int, to: int) -> None:
        if self.edit.change_items(path, action, index, to) is None:
            return
        page = self._page
        item_list = page.item_list_at(path) if page is not None else None
        if page is None or item_list is None:
            self.show_section(self._current, rebuild=True)
        else:
            self._change_cards(page, item_list, action, index, to)
        if action == "remove":
            self._say(f"{item_list.item_label if item_list else 'Item'} {index + 1} removed. "
                      "Use Undo to bring it back.")
        self._after_edit()

    def _change_cards(self, page: SectionPage, item_list: ItemList, action: str, index: int,
                      to: int) -> None:
        """Only the item added, removed or moved is built, deleted or renumbered."""
        target: QWidget = item_list.add_button
        if action == "add":
            item_list.append_item()  # the page loads and shows the new item's fields
            card = item_list.cards[-1]
            first = next((a for a in card.adapters if not a.widget.isHidden()), None)
            target = first.primary() if first is not None else card.buttons["remove"]
        elif action == "remove":
            item_list.remove_item(index)
            page.reindex()
        else:
            item_list.move_item(index, to)
            page.reindex()
            buttons = item_list.cards[to].buttons
            target = buttons["up"] if buttons["up"].isEnabled() else buttons["down"]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        self.scroller.ensureWidgetVisible(target)

    def _after_edit(self) -> None:
        if self._page is not None:
            self._page.refresh(self.session)
        self._update_sidebar()
        self.undo_button.setEnabled(self.edit.can_undo)
        self._set_save_label("saving", "Saving…")
        self._save_timer.start()
        self._errors_timer.start()
        name = self.child_name() or "New assessment"
        if name != self.title_label.text():
            self.title_label.setText(name)
            emit(self.title_changed, name)

    def undo(self) -> None:
        """Put back the answers as they were before the last change."""
        step = self.edit.undo()
        if step is None:
            return
        self._drop_pages()
        self._fill_sidebar()
        self._after_edit()
        if self.session.definition.sections_by_id.get(step.section_id) is not None:
            self.show_section(step.section_id)
            self.focus_path(step.path)
        self._say("Your last change was undone.")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        describe(self.message, text)
        self.message.setVisible(bool(text))

    # -- saving ----------------------------------------------------------------------------------

    def _set_save_label(self, state: str, text: str) -> None:
        self.save_label.setText(text)
        self.save_label.setAccessibleDescription(text)
        self.save_label.setProperty("state", state)
        emit(self.save_state_changed, state)

    @property
    def save_state(self) -> str:
        return str(self.save_label.property("state"))

    def _save_now(self) -> None:
        if self.tasks.closed:
            return  # the window is going away; flush() ran before the runner stopped
        document = self.edit.take_save()
        if document is None:
            return
        record_id = self.record_id
        save_session = self._save_session
        self.tasks.run_db(lambda vault: Assessments(vault).save(record_id, document,
                                                                session=save_session),
                          self._saved, self._save_failed, owner=self)


    def _saved(self, revision: int) -> None:
        again = self.edit.save_done(revision)
        emit(self.saved, self.record_id, revision)
        if again:
            if not self._save_timer.isActive():
                self._save_now()
            return
        self._set_save_label("saved", "✓ All changes saved")

    def _save_failed(self, error: BaseException) -> None:
        self.edit.save_failed()
        self._set_save_label("failed", "Not saved yet: " + user_sentence(error, "saving", ON_SCREEN)
                             + " Trying again.")
        self._retry_timer.start()

    def _retry_save(self) -> None:
        if self.edit.dirty:
            self._save_now()

    def forget(self) -> None:
        """After the last flush (on close or lock): drop the undo history's copies of answers."""
        self.edit.forget()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write any unsaved change now and wait until the database thread has written it."""
        self._save_timer.stop()
        if self.edit.dirty:
            self._save_now()
        return self.tasks.wait_for_writes(timeout)

    @override
    def closeEvent(self, event: QCloseEvent) -> None:
        self.flush()
        super().closeEvent(event)

    def _apply_style(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        sheet = editor_style(dark)
        if sheet != self.styleSheet():
            self.setStyleSheet(sheet)

    @override
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_style()  # high contrast on or off

    # -- finalise, amend, restore ----------------------------------------------------------------

    def finalise(self) -> None:
        """Sign off: only when the engine says complete and valid; then read-only."""
        if self.read_only:
            return
        if not self.edit.can_finalise():
            self.check_page.refresh(self.session, read_only=False, status=self.status,
                                     archive=self.archive)
            self.check_page.say("The assessment cannot be finalised yet: answer or fix "
                                "everything listed first.")
            return
        self._save_timer.stop()
        if self.edit.dirty:
            self._save_now()
        record_id = self.record_id

        def work(vault: Vault) -> dict[str, Any]:
            store = Assessments(vault)
            store.finalise(record_id)
            return store.get(record_id)

        self.check_page.set_busy(True)
        self.tasks.run_db(work, self._finalised,
                          lambda e: self._action_failed(e, "finalising"), owner=self)

    def _finalised(self, document: dict[str, Any]) -> None:
        self.check_page.set_busy(False)
        self._reload(document)
        self.check_page.say("Finalised. It is read-only now and will be sent when there is "
                            "a connection.")
        emit(self.finalised, self.record_id, self.revision)

    def start_amendment(self) -> None:
        """A finalised assessment becomes editable again as a new revision."""
        if not self.read_only:
            return
        document = self.document()
        record_id = self.record_id

        def work(vault: Vault) -> dict[str, Any]:
            store = Assessments(vault)
            store.save(record_id, document, action="amend")
            return store.get(record_id)

        self.amend_button.setEnabled(False)
        self.tasks.run_db(work, self._amended,
                          lambda e: self._action_failed(e, "starting an amendment"),
                          owner=self)

    def _amended(self, document: dict[str, Any]) -> None:
        self.amend_button.setEnabled(True)
        self._reload(document)
        self._say("You are amending a finalised assessment: finalise it again when you are done.")

    def _restored(self, document: dict[str, Any]) -> None:
        self._reload(document)
        self._say(f"Revision {self.revision} restores an earlier version; the history keeps all.")

    def _reload(self, document: dict[str, Any]) -> None:
        self.edit.reload(document)
        self._show_clipped()
        self._drop_pages()
        self.undo_button.setEnabled(False)
        self._apply_status()
        self._fill_sidebar()
        if self.stack.currentWidget() is self.check_page:
            self.check_page.refresh(self.session, read_only=self.read_only, status=self.status,
                                 archive=self.archive)
        elif self.stack.currentWidget() is self.history:
            self.history.reload()
        else:
            self.show_section(self._current)
        emit(self.status_changed, self.status)
        self._set_save_label("saved", "✓ All changes saved")

    def _action_failed(self, error: BaseException, doing: str) -> None:
        self.check_page.set_busy(False)
        self.amend_button.setEnabled(True)
        sentence = user_sentence(error, doing, ON_SCREEN)
        self._say(sentence)
        self.check_page.say(sentence)
        emit(self.failed, sentence)

    # -- the family's copy -------------------------------------------------------------------------

    def _choose_pdf_path(self) -> None:
        suggested = str(Path.home() / f"{family_copy_title(self.session)}.pdf")
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the family's copy", suggested, "PDF files (*.pdf)")
        if path:
            self.export_pdf(Path(path))

    def export_pdf(self, path: Path) -> None:
        """Write the family's copy to ``path`` (off the GUI thread); ``pdf_exported`` when done."""
        html = family_copy_html(self.session, date.today())  # noqa: DTZ011 - the local date
        self.pdf_button.setEnabled(False)
        self._say("Making the PDF…")

        def done(written: Path) -> None:
            self.pdf_button.setEnabled(True)
            self.last_pdf = written
            self.open_pdf_button.setVisible(True)
            self._say(f"The family's copy was saved as {written.name}.")
            emit(self.pdf_exported, str(written))

        def failed(error: BaseException) -> None:
            self.pdf_button.setEnabled(True)
            sentence = ("The PDF could not be written: " + error.strerror + "."
                        if isinstance(error, OSError) and error.strerror else
                        user_sentence(error, "making the PDF", ON_SCREEN))
            self._say(sentence)
            emit(self.failed, sentence)

        self.tasks.run(lambda: write_pdf(html, path), done, failed, owner=self)

    def _open_pdf(self) -> None:
        if self.last_pdf is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_pdf)))
