"""The assessment editor: one section at a time, saved as the user types.

``AssessmentEditor`` is the widget a main window hosts for one open assessment. It lists the
form's visible sections at the side with a completeness mark each (`ui.form.sidebar`), shows
one section at a time (`ui.form.section_page`) with widgets chosen by question type, keeps
visibility and computed values current as the user types, shows errors inline and in a
GOV.UK-style error summary whose entries move the focus to the field, and autosaves every
change (debounced) through the task runner's database thread. It also hosts "Check your
answers" (with finalise), the family's PDF and the history of revisions.

The widget draws; the decisions are elsewhere: the editing state, undo and the sign-off gate
in `ui.form.edit_session`, the side list's words and the order of sections in
`ui.form.navigation` (both without Qt), and the autosave, finalise, amend and PDF work in
`ui.form.record_actions`. Nothing here knows a question by name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from desktop.family_copy import family_copy_title
from forms.engine import Session
from forms.model import Question
from ui.form.check_answers import CheckAnswersPage
from ui.form.edit_session import EditSession, section_of
from ui.form.editor_header import EditorHeader
from ui.form.history import HistoryView
from ui.form.navigation import (
    CHECK_PAGE,
    HISTORY_PAGE,
    TITLE_CHARS,
    following,
    sidebar_rows,
    status_text,
    title_text,
)
from ui.form.record_actions import RecordActions
from ui.form.section_page import SectionPage
from ui.form.sidebar import SectionSidebar
from ui.form.style import editor_style
from ui.form.widgets import FieldAdapter, FieldContext, adapter_for, describe
from ui.tasks import TaskRunner, emit

__all__ = ["TITLE_CHARS", "AssessmentEditor", "editor_style", "title_text"]

SECTION_COMPLETE = "This section is complete."


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
        self.edit = EditSession(document, today, catalogue=tasks.catalogue)
        self.today = today
        self.record_id = self.edit.record_id
        # Autosave, finalise, amend and the PDF: the work and its results, no drawing.
        self.record_actions = RecordActions(tasks, self.edit, autosave_ms=autosave_ms, parent=self)
        self.record_actions.save_state_changed.connect(self._set_save_label)
        self.record_actions.saved.connect(self.saved)
        self.record_actions.finalised.connect(self._finalised)
        self.record_actions.amended.connect(self._amended)
        self.record_actions.pdf_written.connect(self._pdf_written)
        self.record_actions.failed.connect(self._action_failed)
        self._page: SectionPage | None = None
        self._pages: dict[str, SectionPage] = {}  # built section pages, by section id
        self._scrollers: dict[str, QScrollArea] = {}  # each built page's own scroll area
        self._no_section: QScrollArea | None = None
        self._current: str = ""
        self.last_pdf: Path | None = None
        self.ctx = FieldContext(session=lambda: self.session, build=self._build_adapter,
                                read_only=lambda: self.read_only)

        self._errors_timer = QTimer(self)
        self._errors_timer.setSingleShot(True)
        self._errors_timer.setInterval(max(150, autosave_ms // 2))
        self._errors_timer.timeout.connect(self._show_problems)

        self._build_ui()
        self._show_clipped()
        self._update_sidebar()
        self._apply_status()
        first = self.session.visible_sections[0].id if self.session.visible_sections else ""
        self.show_section(first)

    # -- layout --------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.header = EditorHeader(self)
        self.title_label = self.header.title_label
        self.status_label = self.header.status_label
        self.save_label = self.header.save_label
        describe(self.save_label, "Save state")
        self.undo_button = self.header.undo_button
        self.undo_button.clicked.connect(self.undo)
        self.pdf_button = self.header.pdf_button
        self.pdf_button.clicked.connect(self._choose_pdf_path)
        self.open_pdf_button = self.header.open_pdf_button
        self.open_pdf_button.clicked.connect(self._open_pdf)
        outer.addWidget(self.header)

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
        self.sections = SectionSidebar(splitter)
        self.sections.picked.connect(self._section_picked)
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
        self.bounds_note.setText(self.edit.clipped_note())
        self.bounds_note.setVisible(bool(self.clipped))

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
        self.status_label.setText(status_text(self.status))
        self.banner.setVisible(self.read_only)
        self.banner_label.setText(
            "This assessment has been finalised, so it is read-only. To change it, start an "
            "amendment: that makes a new revision and the signed-off one is kept.")
        self.undo_button.setVisible(not self.read_only)
        name = self.child_name() or "New assessment"
        self.header.set_name(name)
        emit(self.title_changed, name)

    # -- sections ------------------------------------------------------------------------------

    def _update_sidebar(self) -> None:
        self.sections.show_rows(sidebar_rows(self.session), self._current)

    def _section_picked(self, key: str) -> None:
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
            scroller = page.in_scroll_area(self.section_stack)
            self.section_stack.addWidget(scroller)
            self._pages[section_id] = page
            self._scrollers[section_id] = scroller
        if section_id != self._current or self.stack.currentWidget() is not self.section_stack:
            self._say("")  # a message is about the page it was said on: not carried along
        # Visibility and computed values may depend on answers given in other sections.
        page.refresh(self.session)
        after = following(self.session, section_id)
        page.next_button.setText(f"Next: {after[1]}" if after else "Next: check your answers")
        self._page = page
        self._current = section_id
        self.section_stack.setCurrentWidget(self._scrollers[section_id])
        self.stack.setCurrentWidget(self.section_stack)
        self.sections.select(section_id)
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

    def next_section(self) -> None:
        self.edit.checked.add(self._current)
        after = following(self.session, self._current)
        if after is None:
            self.show_check_answers()
            return
        page = self.show_section(after[0])
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
        problems = self.edit.problems_to_show(page.section.id)
        page.show_problems(problems)
        if problems and self.message.text() == SECTION_COMPLETE:
            self._say("")  # no longer true

    def focus_path(self, path: str) -> QWidget | None:
        """Go to the section holding a field and put the focus in it (error links, Change)."""
        section_id = section_of(path)
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
        self.edit.check_all()
        self._refresh_check_page()
        self.stack.setCurrentWidget(self.check_page)
        self.sections.select(CHECK_PAGE)
        self.check_page.heading.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_history(self) -> None:
        self._say("")
        self.history.reload()
        self.stack.setCurrentWidget(self.history)
        self.sections.select(HISTORY_PAGE)

    # -- editing ---------------------------------------------------------------------------------

    def _on_changed(self, path: str, value: object) -> None:
        if self.edit.set_answer(path, value):
            self._after_edit()

    def _on_items(self, path: str, action: str, index: int, to: int) -> None:
        if self.edit.change_items(path, action, index, to) is None:
            return
        page = self._page
        # Only the item added, removed or moved is built, deleted or renumbered.
        target = page.change_items(path, action, index, to) if page is not None else None
        if target is None:
            self.show_section(self._current, rebuild=True)
        else:
            self.scroller.ensureWidgetVisible(target)
        if action == "remove":
            self._say(f"{self.edit.item_label(path)} {index + 1} removed. "
                      "Use Undo to bring it back.")
        self._after_edit()

    def _after_edit(self) -> None:
        if self._page is not None:
            self._page.refresh(self.session)
        self._update_sidebar()
        self.undo_button.setEnabled(self.edit.can_undo)
        self.record_actions.changed()
        self._errors_timer.start()
        name = self.child_name() or "New assessment"
        if self.header.set_name(name):
            emit(self.title_changed, name)

    def undo(self) -> None:
        """Put back the answers as they were before the last change."""
        step = self.edit.undo()
        if step is None:
            return
        self._drop_pages()
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
        self.header.set_save_state(state, text)
        emit(self.save_state_changed, state)

    @property
    def save_state(self) -> str:
        return str(self.save_label.property("state"))

    def forget(self) -> None:
        """After the last flush (on close or lock): drop the undo history's copies of answers."""
        self.edit.forget()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write any unsaved change now and wait until the database thread has written it."""
        return self.record_actions.flush(timeout)

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

    # -- finalise, amend, restore, the family's copy (the work is in RecordActions) -------------

    def finalise(self) -> None:
        """Sign off: only when the engine says complete and valid; then read-only."""
        if self.read_only:
            return
        if not self.edit.can_finalise():
            self._refresh_check_page()
            self.check_page.say("The assessment cannot be finalised yet: answer or fix "
                                "everything listed first.")
            return
        self.check_page.set_busy(True)
        self.record_actions.finalise()

    def _finalised(self, document: dict[str, Any]) -> None:
        self.check_page.set_busy(False)
        self._reload(document)
        self.check_page.say("Finalised. It is read-only now and will be sent when there is "
                            "a connection.")
        emit(self.finalised, self.record_id, self.revision)

    def start_amendment(self) -> None:
        """A finalised assessment becomes editable again as a new revision."""
        if self.read_only:
            self.amend_button.setEnabled(False)
            self.record_actions.amend()

    def _amended(self, document: dict[str, Any]) -> None:
        self.amend_button.setEnabled(True)
        self._reload(document)
        self._say("You are amending a finalised assessment: finalise it again when you are done.")

    def _restored(self, document: dict[str, Any]) -> None:
        self._reload(document)
        self._say(f"Revision {self.revision} restores an earlier version; the history keeps all.")

    def _refresh_check_page(self) -> None:
        self.check_page.refresh(self.session, read_only=self.read_only, status=self.status,
                                archive=self.archive)

    def _reload(self, document: dict[str, Any]) -> None:
        self.edit.reload(document)
        self._show_clipped()
        self._drop_pages()
        self.undo_button.setEnabled(False)
        self._apply_status()
        self._update_sidebar()
        if self.stack.currentWidget() is self.check_page:
            self._refresh_check_page()
        elif self.stack.currentWidget() is self.history:
            self.history.reload()
        else:
            self.show_section(self._current)
        emit(self.status_changed, self.status)
        self._set_save_label("saved", "✓ All changes saved")

    def _action_failed(self, doing: str, sentence: str) -> None:
        if doing == "making the PDF":
            self.pdf_button.setEnabled(True)
        else:
            self.check_page.set_busy(False)
            self.amend_button.setEnabled(True)
            self.check_page.say(sentence)
        self._say(sentence)
        emit(self.failed, sentence)

    def _choose_pdf_path(self) -> None:
        suggested = str(Path.home() / f"{family_copy_title(self.session)}.pdf")
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the family's copy", suggested, "PDF files (*.pdf)")
        if path:
            self.export_pdf(Path(path))

    def export_pdf(self, path: Path) -> None:
        """Write the family's copy to ``path`` (off the GUI thread); ``pdf_exported`` when done."""
        self.pdf_button.setEnabled(False)
        self._say("Making the PDF…")
        self.record_actions.export_pdf(path, date.today())  # noqa: DTZ011 - the local date

    def _pdf_written(self, written: Path) -> None:
        self.pdf_button.setEnabled(True)
        self.last_pdf = written
        self.open_pdf_button.setVisible(True)
        self._say(f"The family's copy was saved as {written.name}.")
        emit(self.pdf_exported, str(written))

    def _open_pdf(self) -> None:
        if self.last_pdf is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_pdf)))
