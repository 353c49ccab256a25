"""The sync area: where this profile is enrolled, what is waiting, and each record's state.

Everything that touches the network or the vault runs off the GUI thread: a sync and an
enrolment on the background pool, each with its own connection to the vault (opened from the
database thread's vault with `vault_opener`, and only its connection closed afterwards);
reading the status on the database thread. Progress comes back through queued signals, so
the GUI thread only draws.

Automatic sync: a health check (GET /v1/health, no retries) runs when `ui.sync_schedule` says
it is due; when it finds the server reachable and something is queued, a sync starts. The
table (`ui.sync_rows`) is updated by what changed, compared on the database thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import (
    AuthExpired,
    Cancelled,
    DeadlinePassed,
    NotEnrolled,
    Offline,
    OneSendError,
    UntrustedServer,
    UpdateRequired,
)
from desktop.outbox import OutboxItem
from desktop.record_status import OutboxState
from desktop.vault import Vault
from sync.device import enrol
from sync.engine import (
    DEFAULT_RUN_DEADLINE,
    SyncEngine,
    SyncProgress,
    SyncReport,
    check_reachable,
)
from sync.form_updates import FormsUpdate
from sync.http import ApiSettings
from sync.usecase import run_sync
from ui.scaling import relative_font
from ui.sync_rows import (
    COUNT_WORDS,
    RecordsModel,
    Row,
    Snapshot,
    records_table,
    snapshot,
    when_text,
)
from ui.sync_schedule import SyncSchedule
from ui.tasks import TaskRunner, emit, vault_opener

log = logging.getLogger("onesend.ui.sync")

UNREACHABLE = ("The national service cannot be reached at the moment; what is waiting stays "
               "waiting and is sent automatically when it can be reached.")


class _Bridge(QObject):
    """Signals a worker emits (through ui.tasks.emit); they arrive queued on the GUI thread."""

    item = Signal(str, int, str)
    progress = Signal(object)


@contextlib.contextmanager
def _own_vault(opener: Callable[[], Vault]) -> Iterator[Vault]:
    """A worker's own connection; only the connection is closed (the keys are the session's)."""
    vault = opener()
    try:
        yield vault
    finally:
        if vault.is_open:
            vault.conn.close()


class SyncPanel(QWidget):
    """The sync area. `changed` is emitted whenever the records' sync states change."""

    changed = Signal()
    refreshed = Signal()  # a refresh was read and shown
    open_conflict = Signal(str, int)  # record id, local revision (after the view was opened)

    def __init__(
        self, tasks: TaskRunner, parent: QWidget | None = None, *,
        settings: ApiSettings | None = None, check_interval_ms: int = 60_000,
        retry_base_ms: int = 5_000, retry_cap_ms: int = 300_000,
        use_network_information: bool = True, run_deadline: float = DEFAULT_RUN_DEADLINE,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("syncPanel")
        self.tasks = tasks
        self.settings = settings
        self.run_deadline = run_deadline  # the same as `onesend sync --deadline`'s default
        # Whether drafts may be moved to a newly published form version after a sync: the
        # window says no while an assessment is open in the editor (its next autosave would
        # write the old version back). Asked on the GUI thread when a sync starts.
        self.may_migrate_drafts: Callable[[], bool] = lambda: True
        self.last_forms_update: FormsUpdate | None = None
        self.schedule = SyncSchedule(self, check_interval_ms=check_interval_ms,
                                     retry_base_ms=retry_base_ms, retry_cap_ms=retry_cap_ms)
        self.schedule.due.connect(self._check)
        self._opener: Callable[[], Vault] | None = None
        self._snapshot: Snapshot | None = None
        self._cancel: threading.Event | None = None
        self._syncing = False
        self._forms_outcome: list[FormsUpdate | str] = []
        self._checking = False
        self._enrolling = False
        self._reachable: bool | None = None
        self._auto_blocked = False
        self._closed = False
        self._counts: dict[str, int] | None = None  # as last shown
        self._moved = False  # a row's state moved during a sync since then
        self._reading = False  # a refresh is being read; another is asked for after it
        self._again = False  # a refresh was asked for while one was being read
        self._then: list[Callable[[], None]] = []
        self._bridge = _Bridge(self)
        self._bridge.item.connect(self._on_item)
        self._bridge.progress.connect(self._on_progress)
        self._build()
        if use_network_information:  # in the next turn: loading the backend takes a while
            QTimer.singleShot(0, self.schedule, self.schedule.watch_network)
        self.tasks.run_db(vault_opener, self._got_opener,
                          self._failed_quietly, owner=self)

    # -- public ---------------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._snapshot.status.counts) if self._snapshot else {}

    @property
    def syncing(self) -> bool:
        return self._syncing

    @property
    def reachable(self) -> bool | None:
        return self._reachable

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        """Read the status again (on the database thread) and redraw what changed."""
        if self._closed:
            return
        if then is not None:
            self._then.append(then)
        if self._reading:
            self._again = True  # `_read_back` reads again when the one running comes back
            return
        self._read()

    def _read(self) -> None:
        self._again = False
        settings = self.settings
        base, shown = self.model.shown()
        self._reading = True
        self.tasks.run_db(lambda db: snapshot(db, settings, shown, base), self._read_back,
                          self._read_failed, owner=self)

    def _read_back(self, read: Snapshot) -> None:
        self._reading = False
        # Rows moved on meanwhile, or a refresh was asked for after this read began: again.
        if not self.model.apply(read.rows) or self._again:
            self._read()
            return
        self._show(read)
        then, self._then = self._then, []
        emit(self.refreshed)
        for step in then:
            step()

    def _read_failed(self, error: BaseException) -> None:
        self._reading = False
        self._then = []
        self._failed_quietly(error)

    def sync_now(self) -> None:
        """Send what is queued now (the button; also the automatic sync)."""
        self._auto_blocked = False
        self._start_sync()

    def check_now(self) -> None:
        """Check the server's reachability now (and sync if something is waiting)."""
        if not self._closed:
            self.schedule.now()

    @property
    def closed(self) -> bool:
        """Shut down (on lock): tasks it started no longer call back (see `ui.tasks.owner_gone`)."""
        return self._closed

    def shutdown(self) -> None:
        """Stop the timers and ask a running sync to stop at its next safe point (on lock)."""
        self._closed = True
        self.schedule.stop()
        if self._cancel is not None:
            self._cancel.set()

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        heading = QLabel("Sync with the national service")
        heading.setObjectName("pageHeading")
        heading.setWordWrap(True)
        relative_font(heading, 1.5)
        heading.setAccessibleName("Sync with the national service")
        layout.addWidget(heading)

        self.enrol_box = QGroupBox("Enrol this computer")
        form = QFormLayout(self.enrol_box)
        explain = QLabel("Your trust or local authority gives you the server address and a "
                         "one-time enrolment code.")
        explain.setWordWrap(True)
        form.addRow(explain)
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText("https://api.example.org")
        self.server_edit.setAccessibleName("Server address")
        form.addRow("Server address", self.server_edit)
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.code_edit.setAccessibleName("One-time enrolment code")
        form.addRow("One-time code", self.code_edit)
        self.enrol_button = QPushButton("Enrol this computer")
        self.enrol_button.setObjectName("primaryButton")
        self.enrol_button.clicked.connect(self._enrol)
        self.code_edit.returnPressed.connect(self._enrol)
        form.addRow(self.enrol_button)
        self.enrol_box.setVisible(False)
        layout.addWidget(self.enrol_box)

        self.status_box = QWidget()
        status = QVBoxLayout(self.status_box)
        status.setContentsMargins(0, 0, 0, 0)
        self.server_label = QLabel()
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_sync_label = QLabel()
        status.addWidget(self.server_label)
        status.addWidget(self.last_sync_label)
        grid = QGridLayout()
        grid.setHorizontalSpacing(28)
        self.count_labels: dict[str, QLabel] = {}
        for column, (state, words) in enumerate(COUNT_WORDS):
            value = QLabel("0")
            relative_font(value, 1.6)
            value.setAccessibleName(words)
            caption = QLabel(words)
            grid.addWidget(value, 0, column)
            grid.addWidget(caption, 1, column)
            self.count_labels[state] = value
        grid.setColumnStretch(len(COUNT_WORDS), 1)
        status.addLayout(grid)
        buttons = QHBoxLayout()
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setObjectName("primaryButton")
        self.sync_button.clicked.connect(self.sync_now)
        self.resolve_button = QPushButton("Resolve conflict…")
        self.resolve_button.setEnabled(False)
        self.resolve_button.clicked.connect(self._resolve_selected)
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.resolve_button)
        buttons.addStretch(1)
        status.addLayout(buttons)
        self.status_box.setVisible(False)
        layout.addWidget(self.status_box)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.message = QLabel()
        self.message.setObjectName("pageMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()  # an empty message would still draw its bar
        layout.addWidget(self.message)

        self.model = RecordsModel(self)
        self.table = records_table(self.model)
        self.table.doubleClicked.connect(self._row_activated)
        self.table.activated.connect(self._row_activated)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 1)
        self.hint = QLabel("Double-click a record in conflict (or select it and press "
                           "“Resolve conflict…”) to choose which answers to keep.")
        self.hint.setWordWrap(True)
        self.hint.setVisible(False)
        layout.addWidget(self.hint)

    # -- status ---------------------------------------------------------------------------------

    def _got_opener(self, opener: Callable[[], Vault]) -> None:
        self._opener = opener
        self.refresh(then=self._after_first_refresh)

    def _after_first_refresh(self) -> None:
        if self._snapshot is not None and self._snapshot.endpoint is not None:
            self.check_now()

    def _show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        status = snapshot.status
        self.enrol_box.setVisible(not status.enrolled)
        self.status_box.setVisible(status.enrolled)
        self.server_label.setText(f"Enrolled with {status.server_url}" if status.enrolled
                                  else "")
        self.last_sync_label.setText(
            f"Last successful sync: {when_text(status.last_acknowledged_at)}")
        for state, label in self.count_labels.items():
            label.setText(str(status.counts.get(state, 0)))
        conflicts = status.counts.get(OutboxState.CONFLICT, 0) > 0
        self.hint.setVisible(conflicts)
        if conflicts and not self.table.selectionModel().hasSelection():
            first = self.model.first_with(OutboxState.CONFLICT)
            if first >= 0:
                self.table.selectRow(first)
        self.sync_button.setEnabled(not self._syncing)
        self._selection_changed()
        counts = dict(status.counts)
        moved = not snapshot.rows.empty or self._moved or counts != self._counts
        if self._counts is not None and moved:
            emit(self.changed)
        self._counts, self._moved = counts, False

    def _say(self, text: str, *, problem: bool = False) -> None:
        """One sentence under the counts: news in the plain style, a problem marked as such."""
        self.message.setText(text)
        self.message.setAccessibleName("Problem" if problem else "Sync news")
        self.message.setAccessibleDescription(text)
        self.message.setProperty("kind", "" if problem else "info")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setVisible(bool(text))

    # -- enrolment ------------------------------------------------------------------------------

    def _enrol(self) -> None:
        url, code = self.server_edit.text().strip(), self.code_edit.text().strip()
        if not url or not code:
            self._say("Give the server address and the one-time code from your trust or "
                      "local authority.", problem=True)
            return
        if self._opener is None or self._enrolling or self._closed:
            return
        opener, settings = self._opener, self.settings
        self._enrolling = True
        self.enrol_button.setEnabled(False)
        self._say("Enrolling this computer…")

        def work() -> str:
            with _own_vault(opener) as vault:
                return enrol(vault, url, code, settings).server_url

        self.tasks.run(work, self._enrolled, self._enrol_failed, owner=self)

    def _enrolled(self, server_url: str) -> None:
        self._enrolling = False
        self.enrol_button.setEnabled(True)
        self.code_edit.clear()
        self._say(f"This computer is enrolled with {server_url}.")
        self._reachable = None
        self.refresh(then=self.check_now)

    def _enrol_failed(self, error: BaseException) -> None:
        self._enrolling = False
        self.enrol_button.setEnabled(True)
        self._say(self._sentence(error), problem=True)
        # Back to the code to correct it (the disabled button had passed the focus on).
        self.code_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.code_edit.selectAll()

    # -- sync -----------------------------------------------------------------------------------

    def _start_sync(self) -> None:
        if self._closed or self._syncing or self._opener is None:
            return
        if self._snapshot is None or not self._snapshot.status.enrolled:
            return
        opener, settings, bridge = self._opener, self.settings, self._bridge
        deadline = self.run_deadline
        cancel = threading.Event()
        self._cancel = cancel
        self._syncing = True
        self.sync_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self._say("Syncing…")

        def on_item(item: OutboxItem, state: str) -> None:
            emit(bridge.item, item.assessment_id, item.revision, state)

        def on_progress(progress: SyncProgress) -> None:
            emit(bridge.progress, progress)

        migrate = self.may_migrate_drafts()
        forms: list[FormsUpdate | str] = []

        def work() -> SyncReport:
            with _own_vault(opener) as vault:
                engine = SyncEngine(vault, settings=settings, progress=on_progress,
                                    on_item=on_item, cancel=cancel, deadline=deadline)
                # The same use case as `onesend sync`: send, then new form versions
                # (signature-checked) and drafts carried to them.
                outcome = run_sync(engine, settings=settings, migrate=migrate, cancel=cancel)
                if outcome.forms_problem is not None:
                    forms.append(outcome.forms_problem)
                elif outcome.forms is not None:
                    forms.append(outcome.forms)
                return outcome.report

        self._forms_outcome = forms

        self.tasks.run(work, self._synced, self._sync_failed, owner=self)

    def _on_item(self, record_id: str, revision: int, state: str) -> None:
        self.model.set_state(record_id, revision, state)
        self._moved = True

    def _on_progress(self, progress: SyncProgress) -> None:
        if progress.total > 0:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(min(progress.done, progress.total))
            self.progress.setFormat("%v of %m sent or set aside")

    def _sync_ended(self) -> None:
        self._syncing = False
        self._cancel = None
        self.progress.setVisible(False)
        self.sync_button.setEnabled(True)

    def _synced(self, report: SyncReport) -> None:
        self._sync_ended()
        self._reachable = True
        parts = [f"Sent {report.acknowledged}"]
        if report.conflicts:
            parts.append(f"{report.conflicts} in conflict")
        if report.quarantined:
            parts.append(f"{report.quarantined} set aside")
        tail = ("nothing is left to send." if report.still_queued == 0
                else f"{report.still_queued} still queued.")
        outcome = self._forms_outcome[0] if self._forms_outcome else None
        if isinstance(outcome, str):  # e.g. a definition whose signature failed: nothing kept
            self._say(", ".join(parts) + "; " + tail + " " + outcome, problem=True)
        else:
            self.last_forms_update = outcome
            moved = len(outcome.migrated) if outcome is not None else 0
            if moved:
                tail += (f" {moved} draft{'s' if moved != 1 else ''} moved to the newest "
                         "version of the form.")
            self._say(", ".join(parts) + "; " + tail)
        self.refresh()
        if outcome is not None and not isinstance(outcome, str) and outcome.migrated:
            emit(self.changed)  # the list shows the drafts' new revisions

    def _sync_failed(self, error: BaseException) -> None:
        self._sync_ended()
        if isinstance(error, Offline):
            self._reachable = False
            # A run that reached its deadline says so (the engine's default, as on the
            # command line); it is retried later like an unreachable server.
            self._say(str(error) if isinstance(error, DeadlinePassed) else UNREACHABLE,
                      problem=True)
            self.schedule.not_answered()
        else:
            if isinstance(error, AuthExpired | UpdateRequired | UntrustedServer | NotEnrolled):
                self._auto_blocked = True  # until someone acts: no retry loop
            self._say(self._sentence(error), problem=True)
        self.refresh()

    @staticmethod
    def _sentence(error: BaseException) -> str:
        if isinstance(error, Offline):
            return UNREACHABLE
        if isinstance(error, Cancelled):
            return "Sync stopped; what was sent is kept and the rest stays queued."
        if isinstance(error, OneSendError):
            return str(error)
        log.error("sync panel task failed: %s", type(error).__name__)
        return ("Something went wrong while syncing; nothing is lost: what is queued stays "
                "queued.")

    # -- reachability ---------------------------------------------------------------------------

    def _check(self) -> None:
        if self._closed or self._checking or self._snapshot is None:
            return
        endpoint = self._snapshot.endpoint
        if endpoint is None:
            return
        if self._syncing:
            self.schedule.later()
            return
        url, settings = endpoint
        self._checking = True
        self.tasks.run(lambda: check_reachable(url, settings), self._answered,
                       self._not_answered, owner=self)

    def _answered(self, _result: object) -> None:
        self._checking = False
        was = self._reachable
        self._reachable = True
        if was is False:
            self._say("The national service can be reached again.")
        self.schedule.answered()
        self.refresh(then=self._maybe_auto_sync)

    def _maybe_auto_sync(self) -> None:
        if self._snapshot is None or self._auto_blocked or self._syncing:
            return
        counts = self._snapshot.status.counts
        if counts.get(OutboxState.QUEUED, 0) + counts.get(OutboxState.IN_FLIGHT, 0) > 0:
            self._start_sync()

    def _not_answered(self, error: BaseException) -> None:
        self._checking = False
        self._reachable = False
        self._say(self._sentence(error) if not isinstance(error, Offline) else UNREACHABLE,
                  problem=True)
        self.schedule.not_answered()




    # -- conflicts ------------------------------------------------------------------------------

    def _selected_row(self) -> Row | None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return None
        return self.model.rows[indexes[0].row()]

    def _selection_changed(self, *_args: object) -> None:
        row = self._selected_row()
        self.resolve_button.setEnabled(row is not None and row.state == OutboxState.CONFLICT)

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid() and self.model.rows[index.row()].state == OutboxState.CONFLICT:
            self.resolve(self.model.rows[index.row()].id, self.model.rows[index.row()].revision)

    def _resolve_selected(self) -> None:
        row = self._selected_row()
        if row is not None and row.state == OutboxState.CONFLICT:
            self.resolve(row.id, row.revision)

    def resolve(self, record_id: str, revision: int) -> Any:
        """Open the conflict view for one record; returns the (non-modal) dialog."""
        from ui.conflict_view import ConflictView  # noqa: PLC0415 - the view needs the panel

        if self._opener is None:
            return None
        view = ConflictView(self.tasks, self._opener, record_id, revision, parent=self,
                            settings=self.settings)
        view.resolved.connect(self._resolution_saved)
        view.open()
        emit(self.open_conflict, record_id, revision)
        return view

    def _resolution_saved(self, _record_id: str, queued: bool) -> None:
        if queued:
            self._say("The resolution is saved and queued; sending it now.")
        else:
            self._say("The resolution is saved; open the assessment to complete it, then "
                      "finalise it to send it.")
        self.refresh(then=self.sync_now if queued else None)

    def _failed_quietly(self, error: BaseException) -> None:
        self._say(self._sentence(error), problem=True)
