"""What the editor asks of the task runner for one open assessment: no widget here.

- Autosave: a change starts a short debounce; then the edit session's document is written on
  the database thread as this editing session's working revision (desktop/assessments). One
  write at a time (`EditSession` keeps the state machine); a failed write is retried.
- Finalise and amend: written on the database thread, then the stored record comes back.
- The family's PDF: the page is made from the session here and written on a worker thread.

Each result is a signal the editor draws; a failure is one sentence for the user that says
nothing typed was lost.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.assessments import Assessments
from desktop.family_copy import family_copy_html, write_pdf
from desktop.vault import Vault
from ui.crash import user_sentence
from ui.form.edit_session import EditSession
from ui.tasks import TaskRunner, emit

# What a failed save, PDF or sign-off can promise: nothing typed is lost.
ON_SCREEN = "your answers are still on screen"
RETRY_MS = 5000


class RecordActions(QObject):
    """Autosave, finalise, amend and the PDF of the record an `EditSession` holds."""

    save_state_changed = Signal(str, str)  # "saving" | "saved" | "failed", the words shown
    saved = Signal(str, int)  # record id, revision
    finalised = Signal(object)  # the stored record (dict) after finalising
    amended = Signal(object)  # the stored record (dict) after starting an amendment
    pdf_written = Signal(object)  # the Path written
    failed = Signal(str, str)  # what was being done ("finalising", ...), the sentence

    def __init__(self, tasks: TaskRunner, edit: EditSession, *, autosave_ms: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.edit = edit
        # One editing session: its autosaves replace one working revision (desktop/assessments).
        self.save_session = uuid.uuid4().hex
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(autosave_ms)
        self.save_timer.timeout.connect(self.save_now)
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.setInterval(RETRY_MS)
        self.retry_timer.timeout.connect(self._retry)

    # -- autosave ------------------------------------------------------------------------------

    def changed(self) -> None:
        """Something was edited: write it after the debounce."""
        emit(self.save_state_changed, "saving", "Saving…")
        self.save_timer.start()

    def save_now(self) -> None:
        if self.tasks.closed:
            return  # the window is going away; flush() ran before the runner stopped
        document = self.edit.take_save()
        if document is None:
            return
        record_id, session = self.edit.record_id, self.save_session
        self.tasks.run_db(lambda vault: Assessments(vault).save(record_id, document,
                                                                session=session),
                          self._saved, self._save_failed, owner=self)

    def _saved(self, revision: int) -> None:
        again = self.edit.save_done(revision)
        emit(self.saved, self.edit.record_id, revision)
        if again:
            if not self.save_timer.isActive():
                self.save_now()
            return
        emit(self.save_state_changed, "saved", "✓ All changes saved")

    def _save_failed(self, error: BaseException) -> None:
        self.edit.save_failed()
        emit(self.save_state_changed, "failed",
             "Not saved yet: " + user_sentence(error, "saving", ON_SCREEN) + " Trying again.")
        self.retry_timer.start()

    def _retry(self) -> None:
        if self.edit.dirty:
            self.save_now()

    def flush(self, timeout: float = 30.0) -> bool:
        """Write any unsaved change now and wait until the database thread has written it."""
        self.save_timer.stop()
        if self.edit.dirty:
            self.save_now()
        return self.tasks.wait_for_writes(timeout)

    # -- finalise and amend --------------------------------------------------------------------

    def finalise(self) -> None:
        """Write what is unsaved, then sign the record off (the caller checked the gate)."""
        self.save_timer.stop()
        if self.edit.dirty:
            self.save_now()
        record_id = self.edit.record_id

        def work(vault: Vault) -> dict[str, Any]:
            store = Assessments(vault)
            store.finalise(record_id)
            return store.get(record_id)

        self.tasks.run_db(work, lambda document: emit(self.finalised, document),
                          lambda error: self._failed(error, "finalising"), owner=self)

    def amend(self) -> None:
        """A finalised record becomes editable again as a new revision."""
        document, record_id = self.edit.document(), self.edit.record_id

        def work(vault: Vault) -> dict[str, Any]:
            store = Assessments(vault)
            store.save(record_id, document, action="amend")
            return store.get(record_id)

        self.tasks.run_db(work, lambda stored: emit(self.amended, stored),
                          lambda error: self._failed(error, "starting an amendment"),
                          owner=self)

    # -- the family's copy -----------------------------------------------------------------------

    def export_pdf(self, path: Path, today: date) -> None:
        """The family's copy made from the answers now, written to ``path`` off the GUI thread."""
        html = family_copy_html(self.edit.session, today)
        self.tasks.run(lambda: write_pdf(html, path),
                       lambda written: emit(self.pdf_written, written),
                       lambda error: self._failed(error, "making the PDF"), owner=self)

    def _failed(self, error: BaseException, doing: str) -> None:
        if doing == "making the PDF" and isinstance(error, OSError) and error.strerror:
            sentence = "The PDF could not be written: " + error.strerror + "."
        else:
            sentence = user_sentence(error, doing, ON_SCREEN)
        emit(self.failed, doing, sentence)
