"""The workspace of an unlocked profile: the assessment list, and the editor of the one open.

One workspace lives for one unlocked session. It owns the session's task runner (whose
database thread has the session's only vault connection) and hands it to the list page and
the editor. ``shutdown()`` writes what is not yet saved and stops the runner; the window then
closes the vault.

Actions the lead adds later (import, sync) go in with ``add_action``: they appear in the
toolbar and in the Assessments menu, before Lock.

Built in stages a frame apart (`after_frame`), so unlocking never holds the GUI thread for
long: the frame (the Lock action and its shortcut, the menu, "Opening…") when made; then the
list page, built hidden while its first page is read on the database thread (`list_made`),
then shown; then the toolbar's buttons (`ready`). The list's other pages are read once the
window has built the rest of the session too (`session_built`), not beside the steps. What
needs a later stage is absent or disabled until it is there (New assessment waits for the
list), and a lock between stages stops the rest.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QStackedWidget, QToolBar, QVBoxLayout, QWidget

from desktop.assessments import Assessments
from desktop.vault import Vault
from forms.errors import FormError
from forms.reviews import start_review as review_from
from sync.form_updates import register_stored_definitions
from ui.assessment_list import AssessmentListPage
from ui.crash import user_sentence
from ui.form.editor import AssessmentEditor
from ui.tasks import TaskRunner, emit

LOCK_SHORTCUT = "Ctrl+L"
OPENING_TEXT = "Opening your assessments…"
STEP_GAP_MS = 16  # between the steps of building a session: a frame, for paints and results


def after_frame(context: QObject, step: Callable[[], None]) -> None:
    """Run `step` a frame from now (dropped if `context` is deleted).

    What the step before changed on screen is painted meanwhile (a paint is queued like a
    zero timer and handled in the same turn as whatever else is queued), and so is a task's
    result that came back meanwhile: a step, a paint and a delivery do not add up to one
    long stall, and a key press between them is handled at once."""
    QTimer.singleShot(STEP_GAP_MS, context, step)


def unknown_form_sentence(document: dict[str, Any]) -> str:
    """Why an assessment cannot be opened when its form is not known here (never its answers)."""
    form = str(document.get("form", ""))[:100]
    version = str(document.get("form_version", ""))[:100]
    return (f"This assessment uses the form '{form}' version '{version}', which this copy of "
            "OneSEND does not have: sync to fetch it, or update OneSEND. The assessment is kept "
            "unchanged.")


class Workspace(QWidget):
    """The list of assessments and, when one is open, its editor; a toolbar and a menu."""

    lock_requested = Signal()
    title_changed = Signal(str)  # what the window title should say (a child's name, or "")
    failed = Signal(str)  # one sentence for the user
    editor_opened = Signal(object)  # the AssessmentEditor
    list_made = Signal(object)  # the AssessmentListPage, built in the second stage
    ready = Signal()  # every stage built: the list, the toolbar and the menu
    changed_elsewhere = Signal()  # the vault changed under another connection (the command line)

    def __init__(self, tasks: TaskRunner, profile: str, parent: QWidget | None = None, *,
                 today: datetime.date | None = None, autosave_ms: int = 600) -> None:
        super().__init__(parent)
        self.setObjectName("workspace")
        self.setAccessibleName(f"Assessments of {profile}")
        self.tasks = tasks
        tasks.setParent(self)  # deleted with the workspace: late deliveries are dropped
        self.profile = profile
        self.today = today
        self.autosave_ms = autosave_ms
        self.editor: AssessmentEditor | None = None
        self._list_page: AssessmentListPage | None = None
        self._list_shown = False
        self._opening: str | None = None
        self._closed = False
        self._toolbar_actions: list[QAction] | None = []  # put on the toolbar in its stage
        self._data_version: int | None = None  # SQLite's, as last read (see session_built)
        self._stages: list[Callable[[], None]] = [self._build_list, self._show_list_page,
                                                  self._build_toolbar]

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.toolbar = QToolBar("Assessments", self)
        self.toolbar.setObjectName("workspaceToolbar")
        self.toolbar.setAccessibleName("Assessment actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setMovable(False)
        layout.addWidget(self.toolbar)
        self.menu = QMenu("&Assessments", self)

        self.back_action = QAction("← &Back to all assessments", self)
        self.back_action.setObjectName("backAction")
        self.back_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Back))
        self.back_action.setStatusTip("Close this assessment (it is saved) and show the list")
        self.back_action.triggered.connect(self.show_list)
        self.back_action.setVisible(False)
        self.new_action = QAction("&New assessment…", self)
        self.new_action.setObjectName("newAssessmentAction")
        self.new_action.setShortcut(QKeySequence(QKeySequence.StandardKey.New))
        self.new_action.setStatusTip("Start a new assessment")
        self.new_action.triggered.connect(self.new_assessment)
        self.new_action.setEnabled(False)  # until the list is there
        # A review (annual or phase transfer) starts from the open record: the child, the plan
        # and each outcome copied, not retyped (CFA 2014 s44; SEND Regulations 2014 reg 20).
        self.review_action = QAction("Start a &review from this assessment", self)
        self.review_action.setObjectName("startReviewAction")
        self.review_action.setStatusTip("A new annual review draft with this assessment's "
                                        "outcomes copied into it, to record progress against")
        self.review_action.triggered.connect(self.start_review)
        self.review_action.setVisible(False)
        self.lock_action = QAction("&Lock", self)
        self.lock_action.setObjectName("lockAction")
        self.lock_action.setShortcut(QKeySequence(LOCK_SHORTCUT))
        self.lock_action.setStatusTip("Lock OneSEND: your work is saved and your password is "
                                      "needed to open it again")
        self.lock_action.triggered.connect(lambda: emit(self.lock_requested))

        # Short words on the toolbar (the menu keeps the full ones), so every button, Lock
        # included, stays on it at 200% text in a 1280-pixel window.
        self.back_action.setIconText("← All assessments")
        self.new_action.setIconText("New…")
        for action in (self.back_action, self.new_action):
            self.menu.addAction(action)
        self.menu.addAction(self.review_action)
        self._menu_tail = self.menu.addSeparator()
        self.menu.addAction(self.lock_action)
        for action in (self.back_action, self.new_action, self.review_action, self.lock_action):
            self.addAction(action)  # shortcuts work wherever the focus is in the workspace
        # On the toolbar at once: the profile's name and Lock; the other buttons in their stage.
        spacer = QWidget(self.toolbar)
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding,
                             spacer.sizePolicy().Policy.Preferred)
        self._spacer = self.toolbar.addWidget(spacer)
        self.profile_label = QLabel(f"Profile: {profile}", self.toolbar)
        self.profile_label.setObjectName("profileLabel")
        self.profile_label.setTextFormat(Qt.TextFormat.PlainText)
        self.toolbar.addWidget(self.profile_label)
        self.toolbar.addAction(self.lock_action)

        self.stack = QStackedWidget(self)
        self.stack.setObjectName("workspaceStack")
        layout.addWidget(self.stack, 1)
        self.opening_label = QLabel(OPENING_TEXT, self.stack)
        self.opening_label.setObjectName("workspaceOpening")
        self.opening_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.opening_label)
        # Form versions fetched from the server become usable before anything is opened (the
        # database thread runs its tasks in order).
        tasks.run_db(register_stored_definitions)
        after_frame(self, self._next_stage)

    # -- stages ----------------------------------------------------------------------------------

    @property
    def built(self) -> bool:
        """Whether every stage is built (`ready` was emitted)."""
        return not self._stages

    @property
    def list_page(self) -> AssessmentListPage:
        """The list page (built in the workspace's second stage: see `list_made`)."""
        if self._list_page is None:
            raise RuntimeError("The list page is built in the workspace's next stage.")
        return self._list_page

    def _next_stage(self) -> None:
        """Build one stage; the next one a frame later."""
        if self._closed or not self._stages:
            return
        self._stages.pop(0)()
        if self._stages:
            after_frame(self, self._next_stage)
        else:
            emit(self.ready)

    def _build_list(self) -> None:
        page = AssessmentListPage(self.tasks, self.stack, today=self.today)
        page.open_requested.connect(self.open_assessment)
        self._list_page = page
        self.stack.addWidget(page)  # hidden: shown (and its style worked out) in the next step
        page.hold_pages()  # the rest once the whole session is built: `session_built`
        page.refresh()  # the first page is read meanwhile
        emit(self.list_made, page)

    def _show_list_page(self) -> None:
        page = self.list_page
        if self.editor is None:
            self.stack.setCurrentWidget(page)
        self.stack.removeWidget(self.opening_label)
        self.opening_label.deleteLater()
        self._list_shown = True
        self.new_action.setEnabled(True)

    def _build_toolbar(self) -> None:
        waiting, self._toolbar_actions = self._toolbar_actions or [], None
        self.toolbar.insertActions(self._spacer, [self.back_action, self.new_action, *waiting])

    # -- public --------------------------------------------------------------------------------

    def session_built(self) -> None:
        """Every part of the session is built (the window's too, after `ready`): the list now
        reads its other pages, which it held back so as not to slow the building, and coming
        back to the window shows what another connection wrote meanwhile."""
        if not self._closed and self._list_page is not None:
            self._list_page.release_pages()
        self._read_data_version(compare=False)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.connect(self._application_state)

    def _application_state(self, state: Qt.ApplicationState) -> None:
        """Back in the window (from a terminal, say): what another process wrote is shown."""
        if state == Qt.ApplicationState.ApplicationActive:
            self._read_data_version(compare=True)

    def _read_data_version(self, *, compare: bool) -> None:
        """SQLite's `data_version` as the database thread sees it after the tasks before it;
        with `compare`, the list and the sync area are read again when it moved."""
        if not self._closed and not self.tasks.closed:
            self.tasks.run_db(lambda vault: vault.data_version(),
                              lambda version: self._data_version_read(version, compare),
                              owner=self)

    def _data_version_read(self, version: int, compare: bool) -> None:
        seen, self._data_version = self._data_version, version
        if compare and seen is not None and seen != version:
            self.refresh()
            emit(self.changed_elsewhere)

    def add_action(self, action: QAction) -> None:
        """Put an action in the toolbar and the Assessments menu (before Lock); lead's hook.

        Before the toolbar's stage it is in the menu (and its shortcut works) at once, and on
        the toolbar when that is built."""
        if self._toolbar_actions is not None:
            self._toolbar_actions.append(action)
        else:
            self.toolbar.insertAction(self._spacer, action)
        self.menu.insertAction(self._menu_tail, action)
        self.addAction(action)

    @property
    def current_record_id(self) -> str | None:
        return self.editor.record_id if self.editor is not None else None

    @property
    def current_section(self) -> str:
        return self.editor.current_section if self.editor is not None else ""

    def refresh(self) -> None:
        """Reload the list (after an import or a sync, for example); before the list is
        built there is nothing to reload (it reads the rows when it is)."""
        if not self.tasks.closed and self._list_page is not None:
            self._list_page.refresh()
            # What is read now includes every write so far: coming back need not read it again.
            self._read_data_version(compare=False)

    def new_assessment(self) -> None:
        if self._closed or self._list_page is None or not self._list_shown:
            return
        if self.editor is not None:
            self.show_list()
        self._list_page.new_assessment()

    def start_review(self) -> None:
        """A new review draft from the open assessment (written off the GUI thread), opened."""
        if self._closed or self.tasks.closed or self.editor is None:
            return
        previous_id = self.editor.record_id
        self.editor.flush()

        def work(vault: Vault) -> str:
            store = Assessments(vault)
            return store.create(review_from(store.get(previous_id),
                                            catalogue=vault.catalogue))[0]

        def failed(error: BaseException) -> None:
            emit(self.failed, user_sentence(error, "starting the review"))

        self.tasks.run_db(work, self.open_assessment, failed, owner=self)

    def open_assessment(self, record_id: str, section: str = "") -> None:
        """Load the assessment off the GUI thread, then show it in the editor."""
        if self._closed or self.tasks.closed or self._opening == record_id:
            return
        if self.editor is not None:
            if self.editor.record_id == record_id:
                return
            self._close_editor()
        self._opening = record_id

        def opened(document: Any) -> None:
            self._opening = None
            if self._closed:
                return
            self._show_editor(document, section)

        def failed(error: BaseException) -> None:
            self._opening = None
            emit(self.failed, user_sentence(error, "opening the assessment"))

        self.tasks.run_db(lambda vault: Assessments(vault).get(record_id), opened, failed)

    def _show_editor(self, document: dict[str, Any], section: str) -> None:
        try:
            editor = AssessmentEditor(self.tasks, document, today=self.today,
                                      autosave_ms=self.autosave_ms, parent=self.stack)
        except FormError:
            # A draft on a form (or version) this build does not know: say so, keep it as is.
            emit(self.failed, unknown_form_sentence(document))
            return
        editor.title_changed.connect(self.title_changed)
        editor.failed.connect(self.failed)
        self.editor = editor
        self.stack.addWidget(editor)
        self.stack.setCurrentWidget(editor)
        self.back_action.setVisible(True)
        self.review_action.setVisible(True)
        if section and section in editor.session.definition.sections_by_id:
            editor.show_section(section)
        emit(self.title_changed, editor.child_name() or "New assessment")
        page = editor.page
        if page is not None:
            page.heading.setFocus(Qt.FocusReason.OtherFocusReason)
        emit(self.editor_opened, editor)

    def show_list(self) -> None:
        """Back to all assessments: the editor's work is written first, then the list reloads."""
        if self.editor is not None:
            self._close_editor()
        page = self._list_page
        self.back_action.setVisible(False)
        self.review_action.setVisible(False)
        emit(self.title_changed, "")
        if page is None or not self._list_shown:  # still opening: the list comes in its step
            self.stack.setCurrentWidget(self.opening_label)
            return
        self.stack.setCurrentWidget(page)
        self.refresh()
        page.setFocus(Qt.FocusReason.OtherFocusReason)

    def _close_editor(self) -> None:
        editor, self.editor = self.editor, None
        if editor is None:
            return
        editor.flush()
        editor.forget()
        self.stack.removeWidget(editor)
        editor.close()
        editor.deleteLater()

    def flush(self) -> bool:
        """Write whatever the editor has not saved yet; True when every write finished."""
        if self.editor is not None:
            return self.editor.flush()
        return self.tasks.wait_for_writes()

    def shutdown(self) -> None:
        """Save, then stop the session's threads (closing the database thread's connection)."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        if self.editor is not None:
            self._close_editor()
        self.tasks.shutdown()
        # Nothing of the records stays in the object graph of a locked window.
        if self._list_page is not None:
            self._list_page.forget()
