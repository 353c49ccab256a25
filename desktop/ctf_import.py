"""Drafts from a school's Common Transfer File: preview, duplicates, then create or update.

`CtfImport` is a plain object so the command line and a Qt worker drive it the same way:
`preview(path)` reads the file (`desktop.ctf_reader`), judges each pupil's values with the
`forms/` validators, maps them into the national form's answers and looks each UPN up through
the vault's blind index; `run(preview)` then creates or updates drafts. Both report progress
through a callback, and `cancel()` (from any thread) stops them between pupils.

Judging and mapping one pupil (and the three kinds of problem a pupil can have) is
`desktop.ctf_mapping`'s; this module matches pupils against the vault and writes the drafts.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from desktop.assessments import Assessments
from desktop.ctf_mapping import (
    OnExisting,
    PupilMapper,
    PupilPreview,
    PupilProblem,
    check_targets,
    setting_answers,
)
from desktop.ctf_reader import DEFAULT_LIMITS, CtfFile, Limits, read_ctf
from desktop.errors import (
    CorruptVault,
    DiskFull,
    ImportCancelled,
    InvalidInput,
    OneSendError,
    TamperedData,
    VaultBusy,
    VaultLocked,
)
from desktop.record_status import EDITABLE_DRAFTS
from forms.model import FormDefinition
from forms.registry import load_definition
from forms.validators import (
    normalise_identifier,
)

__all__ = [
    "FORM_ID",
    "IMPORT_ACTION",
    "UPDATABLE_STATUSES",
    "VAULT_FAILURES",
    "CtfImport",
    "ImportPreview",
    "ImportProgress",
    "ImportReport",
]

FORM_ID = "national-send-assessment"
IMPORT_ACTION = "import-ctf"
UPDATABLE_STATUSES = EDITABLE_DRAFTS
# Errors after which no further pupil can be written (with stop_on_error, `run` stops).
VAULT_FAILURES = (VaultLocked, DiskFull, VaultBusy, CorruptVault)


@dataclass
class ImportPreview:
    """The whole file, judged and matched against the vault; nothing has been written yet."""

    file: CtfFile
    form_id: str
    form_version: str
    on_existing: OnExisting
    pupils: list[PupilPreview]

    def counts(self) -> dict[str, int]:
        counts = {"pupils": len(self.pupils), "create": 0, "update": 0, "skip": 0,
                  "not-importable": 0, "not-selected": 0, "flagged": 0}
        for pupil in self.pupils:
            counts[pupil.action] += 1
            counts["flagged"] += any(p.severity == "flag" for p in pupil.problems)
        return counts

    def to_json(self) -> dict[str, Any]:
        header = self.file.header
        return {
            "file": self.file.name,
            "ctf_version": header.version,
            "document_qualifier": header.document_qualifier,
            "source_school": header.source_school.to_json(),
            "form": self.form_id,
            "form_version": self.form_version,
            "on_existing": self.on_existing,
            "counts": self.counts(),
            "pupils": [pupil.to_json() for pupil in self.pupils],
        }


@dataclass
class ImportReport:
    """What `run` did, pupil by pupil (by position); the same shape for the CLI and the app."""

    file: str
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    # With `run(stop_on_error=True)`: the sentence of the vault error that stopped the run.
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "problems": self.problems,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class ImportProgress:
    """Reported as work goes: `phase` is reading (bytes), checking or importing (pupils)."""

    phase: Literal["reading", "checking", "importing", "done"]
    done: int
    total: int



class CtfImport:
    """Imports a CTF into one open vault; drive it from the CLI or from a worker thread."""

    def __init__(
        self,
        store: Assessments,
        *,
        definition: FormDefinition | None = None,
        limits: Limits = DEFAULT_LIMITS,
        progress: Callable[[ImportProgress], None] | None = None,
        today: date | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.store = store
        # The latest national form: shipped, or fetched into the open session's catalogue.
        self.definition = definition or load_definition(FORM_ID,
                                                        catalogue=store.vault.catalogue)
        check_targets(self.definition)
        self.limits = limits
        self.progress = progress
        self.today = today or date.today()  # noqa: DTZ011 - a date of birth is a local date
        # A caller's own event lets it cancel before this object exists (a queued worker).
        self._cancel = cancel if cancel is not None else threading.Event()

    def cancel(self) -> None:
        """Stop at the next pupil (safe to call from another thread)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, phase: Literal["reading", "checking", "importing", "done"], done: int,
                total: int) -> None:
        if self.progress is not None:
            self.progress(ImportProgress(phase, done, total))

    # -- preview -----------------------------------------------------------------------------

    def preview(
        self,
        path: str | os.PathLike[str],
        *,
        upns: Sequence[str] | None = None,
        on_existing: OnExisting = "skip",
    ) -> ImportPreview:
        """Read, judge and match every pupil; `upns` limits the import to those pupils."""
        ctf = read_ctf(path, limits=self.limits, cancelled=self._cancel.is_set,
                       progress=lambda done, total: self._report("reading", done, total))
        return self.preview_file(ctf, upns=upns, on_existing=on_existing)

    def preview_file(
        self, ctf: CtfFile, *, upns: Sequence[str] | None = None,
        on_existing: OnExisting = "skip",
    ) -> ImportPreview:
        wanted = None if upns is None else [normalise_identifier(upn) for upn in upns]
        if wanted is not None:
            in_file = {pupil_upn for p in ctf.pupils
                       if p.upn and (pupil_upn := normalise_identifier(p.upn))}
            missing = [str(i) for i, upn in enumerate(wanted, start=1) if upn not in in_file]
            if missing:
                raise InvalidInput(
                    f"{len(missing)} of the UPNs given with --upn (number "
                    f"{', '.join(missing)}) are not in {ctf.name}; nothing was imported.")
        mapper = PupilMapper(self.definition, self.today)
        setting = setting_answers(self.definition, ctf.header.source_school)
        pupils: list[PupilPreview] = []
        first_with: dict[str, int] = {}
        total = len(ctf.pupils)
        for done, pupil in enumerate(ctf.pupils, start=1):
            if self._cancel.is_set():
                raise ImportCancelled(f"Checking {ctf.name} was stopped; nothing was imported.")
            row = mapper.map(pupil)
            if setting:  # the school that made the file is where the pupil learns
                row.answers.setdefault("assessment", {}).update(setting)
            if row.upn:
                if row.upn in first_with:
                    row.problems.append(PupilProblem(
                        "UPN", f"The same UPN as pupil {first_with[row.upn]} in this file; "
                        "import one of them by hand.", "error"))
                else:
                    first_with[row.upn] = row.position
            if wanted is not None and row.upn not in wanted:
                row.action, row.reason = "not-selected", "Not among the UPNs chosen."
            elif not row.importable:
                row.action = "not-importable"
                row.reason = next(p.message for p in row.problems if p.severity == "error")
            else:
                self._match(row, on_existing)
            pupils.append(row)
            if done % 50 == 0 or done == total:
                self._report("checking", done, total)
        return ImportPreview(ctf, self.definition.id, self.definition.version, on_existing,
                             pupils)

    def _existing(self, row: PupilPreview) -> tuple[str, ...]:
        """Assessments of this child: by UPN, else by a UPN the file says the child had."""
        for upn in (row.upn, *row.former_upns):
            if upn:
                found = self.store.find_by_upn(upn)
                if found:
                    return tuple(found)
        return ()

    def _match(self, row: PupilPreview, on_existing: OnExisting) -> None:
        try:
            row.existing = self._existing(row)
        except TamperedData as exc:
            # A record holding this UPN was altered outside OneSEND: never guess which child.
            row.existing, row.existing_status = (), None
            row.action, row.reason = "skip", str(exc)
            return
        if not row.existing:
            row.action, row.reason, row.existing_status = "create", "", None
            return
        if len(row.existing) > 1:
            row.action = "skip"
            row.reason = (f"{len(row.existing)} assessments already hold this UPN; update them "
                          "in OneSEND.")
            return
        status = self.store.status_of(row.existing[0])
        row.existing_status = None if status is None else str(status)
        if on_existing == "skip":
            row.action = "skip"
            row.reason = "Already in OneSEND; skipped (choose update to refresh its details)."
        elif row.existing_status not in UPDATABLE_STATUSES:
            row.action = "skip"
            row.reason = (f"Already in OneSEND and {row.existing_status}; change it in "
                          "OneSEND, not from a school file.")
        else:
            row.action, row.reason = "update", ""

    # -- import ------------------------------------------------------------------------------

    def run(self, preview: ImportPreview, *,
            positions: Iterable[int] | None = None,
            choices: Mapping[int, OnExisting] | None = None,
            stop_on_error: bool = False) -> ImportReport:
        """Create or update the drafts the preview proposes (or only those at `positions`).

        Each pupil is its own transaction. The UPN is looked up again just before writing,
        so a child added since the preview is never created a second time. `choices` says,
        by position, whether a pupil already in OneSEND is updated or skipped (others follow
        the preview's `on_existing`). With `stop_on_error`, an error writing one pupil is
        that pupil's problem and the run goes on, unless the vault itself failed (locked,
        full, busy or damaged): then the run stops there with `report.failure` set.
        """
        chosen = None if positions is None else set(positions)
        report = ImportReport(file=preview.file.name)
        rows = [row for row in preview.pupils if chosen is None or row.position in chosen]
        total = len(rows)
        for done, row in enumerate(rows, start=1):
            if self._cancel.is_set():
                report.cancelled = True
                break
            on_existing = (choices or {}).get(row.position, preview.on_existing)
            if not stop_on_error:
                self._run_one(preview, row, report, on_existing)
            else:
                try:
                    self._run_one(preview, row, report, on_existing)
                except OneSendError as error:
                    report.problems.append({"pupil": row.position, "reason": str(error)})
                    if isinstance(error, VAULT_FAILURES):
                        report.failure = str(error)
                        break
            self._report("importing", done, total)
        self._report("done", total, total)
        return report

    def _run_one(self, preview: ImportPreview, row: PupilPreview, report: ImportReport,
                 on_existing: OnExisting) -> None:
        pupil = {"pupil": row.position}
        if row.action == "not-selected":
            return
        if not row.importable:
            report.problems.append({**pupil, "reason": row.reason})
            return
        self._match(row, on_existing)
        if row.action == "skip":
            report.skipped.append({**pupil, "id": row.existing[0] if row.existing else None,
                                   "reason": row.reason})
            return
        if row.action == "create":
            document = {"form": preview.form_id, "form_version": preview.form_version,
                        "answers": copy.deepcopy(row.answers)}
            record_id, revision = self.store.create(document, action=IMPORT_ACTION)
            report.created.append({**pupil, "id": record_id, "revision": revision})
            return
        record_id = row.existing[0]
        current = self.store.get(record_id)
        answers = copy.deepcopy(current["answers"])
        for section, values in row.answers.items():
            target = answers.setdefault(section, {})
            if isinstance(target, dict):
                target.update(values)
        if answers == current["answers"]:
            report.unchanged.append({**pupil, "id": record_id, "revision": current["revision"]})
            return
        document = {"form": current["form"], "form_version": current["form_version"],
                    "answers": answers}
        revision = self.store.save(record_id, document, action=IMPORT_ACTION)
        report.updated.append({**pupil, "id": record_id, "revision": revision})
