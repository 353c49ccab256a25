"""One open assessment's editing state, without Qt: answers, undo, autosave, sign-off gate.

`AssessmentEditor` (the widget) draws this and turns its decisions into timers and tasks;
everything here can be driven by a plain test. It holds:

- the record as the editor knows it (id, revision, status, the form `Session` with the answers,
  the archive an older form version's migration kept);
- the undo history. A change of one answer remembers only that answer's previous value (typing
  in a field never copies the whole record); adding, removing or moving an item remembers the
  answers as they were;
- the autosave state machine: ``dirty`` (something not yet written), ``in_flight`` (a write is
  running) and ``again`` (something changed while it ran, so write once more when it ends);
- which sections the user has checked (missing answers are shown there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.assessments import summarise
from desktop.record_status import FINALISED, RecordStatus
from forms.bounds import clip_answers, definition_for
from forms.engine import MISSING_KIND, Problem, Session, document_session
from forms.paths import parse_answer_path
from forms.registry import Catalogue
from ui.form.navigation import as_shown

# Statuses in which the record is signed off (or on its way out) and cannot be edited here.
READ_ONLY_STATUSES = FINALISED
UNDO_LIMIT = 200
COALESCE_SECONDS = 2.0  # typing in one field within this counts as one change to undo
ITEM_ACTIONS = ("add", "remove", "move")


def section_of(path: str) -> str:
    """The section id an answer path starts with (``provision[3].what`` → ``provision``)."""
    parsed = parse_answer_path(path, whole=False)
    return parsed.section if parsed is not None else path.split(".", maxsplit=1)[0]


@dataclass
class UndoStep:
    """What to put back: one answer's previous value, or (items changed) all the answers."""

    path: str
    section_id: str
    at: float
    previous: Any = None  # the answer at `path` before the change (None: there was none)
    had_section: bool = True  # whether the section had answers at all before the change
    answers: dict[str, Any] | None = None  # a snapshot, for an item removed
    # An item added or moved is undone by its inverse (remove the added item, move it back):
    # (action, index, to), with `path` the list's. No copy of the record for those.
    inverse: tuple[str, int, int] | None = None


class EditSession:
    """The editing state of one assessment document (as ``Assessments.get`` returns it)."""

    def __init__(self, document: dict[str, Any], today: date | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 catalogue: Catalogue | None = None) -> None:
        self.today = today
        self.catalogue = catalogue  # the session's fetched forms
        self._clock = clock
        self.record_id = str(document["id"])
        self.revision = int(document.get("revision", 1))
        self.status = str(document.get("status", RecordStatus.DRAFT))
        self.clipped: list[str] = []
        self.session: Session = self._open(document)
        self.form_id = self.session.definition.id
        self.form_version = self.session.definition.version
        self.archive: list[dict[str, Any]] = list(document.get("archive") or [])
        self.checked: set[str] = set()
        self._undo: list[UndoStep] = []
        self.dirty = False
        self.in_flight = False
        self.again = False

    def _open(self, document: dict[str, Any]) -> Session:
        """The engine's session on the answers cut to their bounds (forms/bounds.py).

        A record saved before the bounds existed may hold more; no widget is ever given it.
        The stored revision is not changed: History keeps it whole.
        """
        answers, self.clipped = clip_answers(document.get("answers"),
                                             definition_for(document, self.catalogue))
        return document_session({**document, "answers": answers}, self.today,
                                catalogue=self.catalogue)

    # -- reading -------------------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.status in READ_ONLY_STATUSES

    def document(self) -> dict[str, Any]:
        """What is saved: every answer typed, hidden ones included, so nothing is lost."""
        document: dict[str, Any] = {"form": self.form_id, "form_version": self.form_version,
                                    "answers": self.session.answers}
        if self.archive:
            # Answers an earlier form version asked, kept by its migration; never dropped.
            document["archive"] = self.archive
        return document

    def clipped_note(self) -> str:
        """What the editor says about answers shown shortened to their bounds ("" if none)."""
        if not self.clipped:
            return ""
        paths = ", ".join(self.clipped[:5]) + (", …" if len(self.clipped) > 5 else "")
        return (f"{len(self.clipped)} answer(s) in revision {self.revision} are longer than "
                f"OneSEND accepts and are shown shortened ({paths}). Revision {self.revision} "
                "keeps them whole in History; a change saved here stores the shortened text as "
                "a new revision.")

    def child_name(self) -> str:
        """The child's name for the title (read without copying the record)."""
        child = self.session.first_answers("child", ("first_name", "last_name"))
        names = summarise({"child": child})
        return " ".join(p for p in (names["first_name"], names["last_name"]) if p)

    # -- editing -------------------------------------------------------------------------------

    def set_answer(self, path: str, value: object) -> bool:
        """Store one answer; False (nothing changed) when the record is read-only."""
        if self.read_only:
            return False
        step = self._step(path)
        self.session.set_answer(path, value)  # a path the form rejects raises: nothing kept
        self._keep(step)
        self.dirty = True
        return True

    def change_items(self, path: str, action: str, index: int, to: int) -> str | None:
        """Add, remove or move an item; the path to focus afterwards (None if read-only)."""
        if self.read_only:
            return None
        if action not in ITEM_ACTIONS:
            raise ValueError(f"Not an item action: {action}")
        section_id = section_of(path)
        focus = path
        if action == "add" and self.session.item_count(path) > 0:
            added = self.session.add_item(path)
            focus = f"{path}[{added}]"
            step: UndoStep | None = UndoStep(path, section_id, self._clock(),
                                             inverse=("remove", added, added))
        elif action in ("add", "remove"):  # a first item, or one removed: a snapshot
            step = self._step(path, snapshot=True)
            if action == "add":
                focus = f"{path}[{self.session.add_item(path)}]"
            else:
                self.session.remove_item(path, index)
        else:
            self.session.move_item(path, index, to)
            focus = f"{path}[{to}]"
            step = UndoStep(path, section_id, self._clock(), inverse=("move", to, index))
        self._keep(step)
        self.dirty = True
        return focus

    def item_label(self, path: str) -> str:
        """What one item of a repeating section or group is called ("Outcome")."""
        parsed = parse_answer_path(path, whole=False)
        section = self.session.definition.sections_by_id.get(parsed.section if parsed else "")
        if section is None or parsed is None:
            return "Item"
        if parsed.question is not None and parsed.question in section.by_id:
            return section.by_id[parsed.question].item_label or "Item"
        return section.item_label or "Item"

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and not self.read_only

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    def undo(self) -> UndoStep | None:
        """Put back the answers as they were before the last change; the step undone."""
        if not self.can_undo:
            return None
        step = self._undo.pop()
        if step.inverse is not None:
            action, index, to = step.inverse
            if action == "remove":
                self.session.remove_item(step.path, index)
            else:
                self.session.move_item(step.path, index, to)
        elif step.answers is not None:
            self.session = Session(self.session.definition, step.answers, self.today)
        else:
            self.session.set_answer(step.path, step.previous)
            if not step.had_section:
                self.session.drop_empty_section(step.section_id)
        self.dirty = True
        return step

    def forget(self) -> None:
        """After the last flush (on close or lock): drop the undo history's copies of answers."""
        self._undo.clear()

    def _step(self, path: str, *, snapshot: bool = False) -> UndoStep | None:
        """The undo step for a change about to be made; None when it joins the last one."""
        now = self._clock()
        last = self._undo[-1] if self._undo else None
        recent = last is not None and now - last.at < COALESCE_SECONDS
        if not snapshot and last is not None and last.answers is None and last.inverse is None \
                and last.path == path and recent:
            last.at = now
            return None
        section_id = section_of(path)
        if snapshot:
            return UndoStep(path, section_id, now, answers=self.session.answers)
        return UndoStep(path, section_id, now, previous=self.session.answer(path),
                        had_section=self.session.has_section_answers(section_id))

    def _keep(self, step: UndoStep | None) -> None:
        if step is not None:
            self._undo.append(step)
            del self._undo[:-UNDO_LIMIT]

    # -- autosave ------------------------------------------------------------------------------

    def take_save(self) -> dict[str, Any] | None:
        """The document to write now, or None: nothing to write, or a write is running (then
        ``again`` is set and the document is written when that one ends)."""
        if self.in_flight:
            self.again = True
            return None
        if not self.dirty:
            return None
        self.dirty = False
        self.in_flight = True
        return self.document()

    def save_done(self, revision: int) -> bool:
        """A write ended; True if another must follow (something changed meanwhile)."""
        self.in_flight = False
        self.revision = revision
        if self.again or self.dirty:
            self.again = False
            return True
        return False

    def save_failed(self) -> None:
        """A write failed: the answers are still here and still to be written."""
        self.in_flight = False
        self.again = False
        self.dirty = True

    # -- sign-off --------------------------------------------------------------------------------

    def check_all(self) -> None:
        """Every visible section counts as checked: its missing answers are shown."""
        self.checked.update(s.id for s in self.session.visible_sections)

    def problems_to_show(self, section_id: str) -> list[Problem]:
        """A section's problems; its missing answers only once the user has checked it."""
        problems = as_shown(self.session.problems_at(section_id))
        if section_id in self.checked:
            return problems
        return [p for p in problems if p.kind != MISSING_KIND]

    def can_finalise(self) -> bool:
        """Only a complete and valid record may be signed off (the engine decides)."""
        if self.read_only:
            return False
        if not self.session.is_complete:
            self.check_all()
            return False
        return True

    def reload(self, document: dict[str, Any]) -> None:
        """The record as stored after finalising, amending or restoring: start again from it."""
        self.revision = int(document["revision"])
        self.status = str(document["status"])
        self.session = self._open(document)
        self.form_version = self.session.definition.version
        self.archive = list(document.get("archive") or [])
        self._undo.clear()
        self.dirty = False
