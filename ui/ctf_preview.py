"""The CTF import's preview, Qt-free: what the preview table shows, which rows can be ticked,
what the ticks and choices will do (the counts and their sentence), the notes of the current
pupil, the import plan handed to the database thread, and the summary of what happened.

ui/ctf_import_dialog.py draws it (two Qt table models and the dialog); this module decides it,
so it is tested without Qt (tests/ctf/test_ctf_preview.py). The display text of every row is
made off the GUI thread (`prepare_rows`, called by `check_file` on the database thread).

Nothing here logs a child's data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop.assessments import Assessments
from desktop.ctf_import import (
    FORM_ID,
    UPDATABLE_STATUSES,
    CtfImport,
    ImportPreview,
    ImportProgress,
    ImportReport,
)
from desktop.ctf_mapping import OnExisting, PupilPreview
from desktop.ctf_reader import CtfFile
from desktop.record_status import OutboxState, RecordStatus
from desktop.vault import Vault
from forms.registry import Catalogue, load_definition
from ui.dates import MONTHS

SKIP = "Skip"
UPDATE = "Update the existing draft's details"
CHOICE_TEXT: dict[OnExisting, str] = {"skip": SKIP, "update": UPDATE}
COLUMNS = (
    "Import", "Name", "Date of birth", "Year", "UPN", "UPN valid?", "SEN provision",
    "Already in OneSEND?", "If already in OneSEND", "Notes",
)
(TICK, NAME, DATE_OF_BIRTH, YEAR, UPN, UPN_VALID, SEN, EXISTING, CHOICE,
 NOTES) = range(len(COLUMNS))
_FLAG_SUFFIX = " Imported as it is, marked for checking."
STATUS_WORDS: dict[str, str] = {
    RecordStatus.QUEUED: "waiting to be sent", RecordStatus.SYNCED: "sent",
    RecordStatus.CONFLICT: "in conflict", OutboxState.QUARANTINED: "refused by the server"}
PAGE_START, PAGE_BUSY, PAGE_PREVIEW, PAGE_SUMMARY = range(4)



# -- rows, made off the GUI thread ---------------------------------------------------------------


def uk_date(iso: str | None) -> str:
    """An ISO date as people in England read it (3 Mar 2015)."""
    if not iso:
        return ""
    year, month, day = iso.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


@dataclass(frozen=True)
class PreviewRow:
    """One pupil as the preview table shows it: display text only, made on a worker."""

    position: int
    cells: tuple[str, ...]  # one text per column; TICK and CHOICE are filled by the model
    importable: bool
    existing: bool  # already in OneSEND (one or more assessments hold the UPN)
    can_update: bool  # exactly one existing assessment, and it is still a draft
    fixed_choice: str  # what happens to an existing pupil who cannot be updated, and why
    flagged: str  # the values imported marked for checking, or ""
    tooltips: tuple[str, ...]
    label: str  # how the summary names this pupil
    known_as: str  # the preferred name, shown with the current pupil's details
    historic: str = ""  # the historic SEN codes kept as the file has them, or ""


@dataclass(frozen=True)
class LoadedFile:
    """What the workers hand back after reading and checking a file."""

    preview: ImportPreview
    rows: list[PreviewRow]


# The validators' sentences are long for a table cell: the cell says it short, Notes in full.
_UPN_SHORT = (
    ("check letter does not match", "wrong check letter"),
    ("13 characters", "not 13 characters"),
    ("starts with a check letter", "does not start with a check letter"),
    ("12 digits", "wrong mix of letters and digits"),
)
SEN_SHORT = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}


def _upn_short(problem: str) -> str:
    return next((short for words, short in _UPN_SHORT if words in problem), "not a UPN")


def _upn_problem(pupil: PupilPreview) -> str:
    for problem in pupil.problems:
        if problem.element == "UPN":
            return problem.message.removesuffix(_FLAG_SUFFIX)
    return ""


def _name(pupil: PupilPreview) -> str:
    name = " ".join(part for part in (pupil.first_name, pupil.last_name) if part)
    return name or "(no name in the file)"


def prepare_rows(preview: ImportPreview, catalogue: Catalogue | None = None) -> list[PreviewRow]:
    """The display text of every row (worker thread: no Qt here)."""
    definition = load_definition(FORM_ID, preview.form_version, catalogue)
    years = {item.code: item.label for item in definition.code_lists["nc_year"].items}
    rows = []
    for pupil in preview.pupils:
        if pupil.upn is None:
            upn_valid = "No UPN in the file"
        elif pupil.upn_valid:
            upn_valid = "Valid"
        else:
            upn_valid = f"No: {_upn_short(_upn_problem(pupil))}"
        sen = sen_full = ""
        if pupil.sen_provision:
            code = pupil.sen_provision
            label = pupil.sen_provision_label or code
            sen_full = f"{code}: {label}"
            if pupil.sen_provision_historic:
                # "historic" first, so a narrow column never cuts it off.
                sen = f"{code} (historic): {label.replace(' (historic)', '')}"
                if "historic" not in label:
                    sen_full += " (historic code)"
            else:
                sen = f"{code}: {SEN_SHORT.get(code, label)}"
        needs = "; ".join(f"{need.rank}. {need.code}: {need.label}"
                          + (" (historic)" if need.historic and "historic" not in need.label
                             else "") for need in pupil.needs)
        existing = bool(pupil.existing)
        can_update = (len(pupil.existing) == 1
                      and pupil.existing_status in UPDATABLE_STATUSES)
        if not existing:
            in_onesend = "No"
        elif len(pupil.existing) > 1:
            in_onesend = f"Already in OneSEND ({len(pupil.existing)} assessments)"
        elif pupil.existing_status in UPDATABLE_STATUSES or pupil.existing_status is None:
            in_onesend = "Already in OneSEND"
        else:
            words = STATUS_WORDS.get(pupil.existing_status, pupil.existing_status)
            in_onesend = f"Already in OneSEND ({words})"
        fixed = "" if can_update or not existing else f"{SKIP}: {pupil.reason}"
        if not pupil.importable:
            tick_text = "✕"
            notes = f"Cannot import: {pupil.reason}"
        else:
            tick_text = ""
            notes = " ".join(p.message for p in pupil.problems)
        flagged = " ".join(p.message.removesuffix(_FLAG_SUFFIX) for p in pupil.problems
                           if p.severity == "flag")
        historic_codes = ([f"SEN provision {pupil.sen_provision}"]
                          if pupil.sen_provision and pupil.sen_provision_historic else [])
        historic_codes += [f"type of need {need.code}" for need in pupil.needs if need.historic]
        historic = (f"Historic code{'s' if len(historic_codes) > 1 else ''} kept as the file "
                    f"has {'them' if len(historic_codes) > 1 else 'it'}: "
                    f"{', '.join(historic_codes)}. Choose a current code in the draft."
                    if historic_codes else "")
        name = _name(pupil)
        cells = (
            tick_text, name, uk_date(pupil.date_of_birth),
            years.get(pupil.nc_year, pupil.nc_year).split(" (")[0] if pupil.nc_year else "",
            pupil.upn or "", upn_valid, sen or "None in the file", in_onesend, fixed, notes,
        )
        tips = list(cells)
        if pupil.preferred_name:
            tips[NAME] = f"{name}, known as {pupil.preferred_name}"
        tips[TICK] = "Cannot import" if not pupil.importable else ""
        tips[SEN] = sen_full or "No SEN provision in the file"
        if needs:
            tips[SEN] += f". Types of need: {needs}"
        if pupil.upn and not pupil.upn_valid:
            tips[UPN_VALID] = f"Not valid: {_upn_problem(pupil)}"
        rows.append(PreviewRow(
            position=pupil.position, cells=cells, importable=pupil.importable,
            existing=existing, can_update=can_update, fixed_choice=fixed, flagged=flagged,
            tooltips=tuple(tips), label=f"{pupil.position}. {name}",
            known_as=pupil.preferred_name or "", historic=historic,
        ))
    return rows


# -- what the user chose: ticks and choices --------------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    """What the import is given: the pupils (by position in the file) and, for those already
    in OneSEND that can be updated, the choice; the rows by position for the summary."""

    positions: list[int]
    choices: dict[int, OnExisting]
    rows: dict[int, PreviewRow]

    @property
    def total(self) -> int:
        return len(self.positions)


class CtfPreview:
    """The pupils of one file, a tick each, and the choice for those already in OneSEND.

    Every pupil who can be imported starts ticked; those already in OneSEND are skipped unless
    the user chooses to update their draft. A pupil who cannot be imported cannot be ticked.
    """

    def __init__(self, rows: list[PreviewRow] | None = None) -> None:
        self.rows: list[PreviewRow] = []
        self.ticked: list[bool] = []
        self.choices: list[OnExisting] = []
        self.set_rows(rows or [])

    def set_rows(self, rows: list[PreviewRow]) -> None:
        self.rows = rows
        self.ticked = [row.importable for row in rows]
        self.choices = ["skip"] * len(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def tickable(self, row: int) -> bool:
        return 0 <= row < len(self.rows) and self.rows[row].importable

    def choosable(self, row: int) -> bool:
        """Whether the pupil's "already in OneSEND" choice can be changed (one draft holds
        the UPN)."""
        return 0 <= row < len(self.rows) and self.rows[row].can_update

    def toggle(self, row: int) -> bool:
        """Tick or untick a pupil; False (and nothing changed) when it cannot be ticked."""
        if not self.tickable(row):
            return False
        self.ticked[row] = not self.ticked[row]
        return True

    def set_ticked(self, row: int, ticked: bool) -> bool:
        if not self.tickable(row):
            return False
        self.ticked[row] = ticked
        return True

    def set_all(self, ticked: bool) -> None:
        self.ticked = [ticked and row.importable for row in self.rows]

    def set_choice(self, row: int, choice: OnExisting) -> bool:
        if not self.choosable(row):
            return False
        self.choices[row] = choice
        return True

    def set_all_choices(self, choice: OnExisting) -> None:
        self.choices = [choice] * len(self.rows)

    # -- what the table shows ------------------------------------------------------------------

    def text(self, row: int, column: int) -> str:
        item = self.rows[row]
        if column == CHOICE and item.can_update:
            return CHOICE_TEXT[self.choices[row]]
        return item.cells[column]

    def tick_words(self, row: int) -> str:
        """The tick cell as a screen reader says it."""
        if not self.rows[row].importable:
            return "Cannot import"
        return "Ticked for import" if self.ticked[row] else "Not ticked"

    def tooltip(self, row: int, column: int) -> str:
        if column == CHOICE and self.rows[row].can_update:
            return "Press F2 or double-click to choose: skip, or update the draft."
        return self.rows[row].tooltips[column]

    def details(self, row: int) -> str:
        """The current pupil's notes in full (a cell shows only their start)."""
        if not 0 <= row < len(self.rows):
            return ""
        item = self.rows[row]
        notes = item.cells[NOTES] or "Nothing to check: every value was read as it is."
        known = f" (known as {item.known_as})" if item.known_as else ""
        return f"Pupil {item.label}{known}: {notes}"

    # -- what the ticks and choices will do ----------------------------------------------------

    def ticked_count(self) -> int:
        return sum(self.ticked)

    def positions(self) -> list[int]:
        """The pupils to give to the import: the ticked ones and those that cannot be imported
        (so the summary lists them with their reason)."""
        return [row.position for row, ticked in zip(self.rows, self.ticked, strict=True)
                if ticked or not row.importable]

    def on_existing(self) -> dict[int, OnExisting]:
        return {row.position: choice for row, choice in zip(self.rows, self.choices, strict=True)
                if row.can_update}

    def counts(self) -> dict[str, int]:
        """What the ticks and choices will do: new drafts, updates and skips."""
        counts = {"create": 0, "update": 0, "skip": 0, "cannot": 0, "flagged": 0,
                  "existing": 0}
        for row, ticked, choice in zip(self.rows, self.ticked, self.choices, strict=True):
            counts["existing"] += row.existing
            if not row.importable:
                counts["cannot"] += 1
                continue
            if not ticked:
                continue
            counts["flagged"] += bool(row.flagged)
            if not row.existing:
                counts["create"] += 1
            elif row.can_update and choice == "update":
                counts["update"] += 1
            else:
                counts["skip"] += 1
        return counts

    def writing(self) -> int:
        """The pupils that will be written: the ticked ones less those to be skipped."""
        counts = self.counts()
        return counts["create"] + counts["update"]

    def import_label(self) -> str:
        writing = self.writing()
        return f"Import {writing:,} pupil{'' if writing == 1 else 's'}"

    def counts_sentence(self) -> str:
        ticked = self.ticked_count()
        counts = self.counts()
        parts = [f"{ticked:,} ticked: {counts['create']:,} new "
                 f"draft{'' if counts['create'] == 1 else 's'}"]
        if counts["update"]:
            parts.append(f"{counts['update']:,} to update")
        if counts["skip"]:
            parts.append(f"{counts['skip']:,} already in OneSEND to skip")
        sentence = ", ".join(parts) + "."
        if counts["flagged"]:
            sentence += (f" {counts['flagged']:,} ticked with values marked for checking "
                         "(imported as the file has them).")
        if counts["cannot"]:
            sentence += f" {counts['cannot']:,} cannot be imported (see Notes)."
        return sentence

    def plan(self) -> ImportPlan:
        return ImportPlan(self.positions(), self.on_existing(),
                          {row.position: row for row in self.rows})


def file_sentence(file_name: str, preview: ImportPreview, count: int) -> str:
    """What the preview page says of the file."""
    header = preview.file.header
    school = header.source_school.name or "a school"
    pupils = "pupil" if count == 1 else "pupils"
    return (f"{file_name}: a Common Transfer File (version {header.version}) from "
            f"{school}, with {count:,} {pupils}. Tick the pupils to import.")


def progress_words(phase: str, done: int, total: int) -> str:
    """The progress in words under the bar, for each phase of the work."""
    if phase == "reading":
        return f"{100 * done // total if total else 0}% read"
    if phase == "checking":
        return f"{done:,} of {total:,} pupils checked"
    return f"{done:,} of {total:,} pupils done"


# -- the work, on the database thread -------------------------------------------------------------


def check_file(vault: Vault, ctf: CtfFile, *, cancel: threading.Event,
               progress: Callable[[ImportProgress], None]) -> LoadedFile:
    """Database thread: judge each pupil and look each UPN up in the vault."""
    importer = CtfImport(Assessments(vault), progress=progress, cancel=cancel)
    preview = importer.preview_file(ctf)
    return LoadedFile(preview, prepare_rows(preview, vault.catalogue))


def import_pupils(vault: Vault, preview: ImportPreview, plan: ImportPlan, *,
                  cancel: threading.Event,
                  progress: Callable[[ImportProgress], None]) -> ImportReport:
    """Database thread: one transaction per pupil, stopping between pupils when cancelled."""
    importer = CtfImport(Assessments(vault), progress=progress, cancel=cancel)
    return importer.run(preview, positions=plan.positions, choices=plan.choices,
                        stop_on_error=True)


@dataclass(frozen=True)
class CtfWork:
    """The two pieces of database work the dialog starts (a test may wrap them, e.g. to hold
    the worker at a chosen pupil)."""

    check: Callable[..., LoadedFile] = check_file
    run: Callable[..., ImportReport] = import_pupils


# -- the summary -----------------------------------------------------------------------------------


SUMMARY_COLUMNS = ("Pupil", "What happened", "Reason")


@dataclass
class Summary:
    """The report, in the words the summary page shows (made on the GUI thread; it is small)."""

    created: int
    updated: int
    unchanged: int
    skipped: int
    not_imported: int
    flagged: int
    cancelled: bool
    done: int
    total: int
    failure: str | None
    lines: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def summarise(report: ImportReport, rows: Mapping[int, PreviewRow], total: int) -> Summary:
    lines: list[tuple[str, str, str]] = []

    def label(entry: Mapping[str, Any]) -> str:
        row = rows.get(int(entry["pupil"]))
        return row.label if row else f"pupil {entry['pupil']}"

    for entry in report.problems:
        lines.append((label(entry), "Not imported", str(entry["reason"])))
    flagged = 0
    for entry in [*report.created, *report.updated, *report.unchanged]:
        row = rows.get(int(entry["pupil"]))
        if row is not None and row.flagged:
            flagged += 1
            lines.append((label(entry), "Imported, marked for checking", row.flagged))
        if row is not None and row.historic:
            lines.append((label(entry), "Imported with a historic SEN code", row.historic))
    for entry in report.skipped:
        reason = str(entry["reason"])
        if reason.startswith("Already in OneSEND; skipped"):
            reason = "Already in OneSEND; skipped as chosen, so its draft is unchanged."
        lines.append((label(entry), "Skipped", reason))
    lines.sort(key=lambda line: int(line[0].split(".", 1)[0]) if line[0][0].isdigit() else 0)
    done = (len(report.created) + len(report.updated) + len(report.unchanged)
            + len(report.skipped) + len(report.problems))
    return Summary(
        created=len(report.created), updated=len(report.updated),
        unchanged=len(report.unchanged), skipped=len(report.skipped),
        not_imported=len(report.problems), flagged=flagged, cancelled=report.cancelled,
        done=done, total=total, failure=report.failure, lines=lines,
    )


def summary_headline(summary: Summary, file_name: str) -> tuple[str, str]:
    """The summary page's heading and first sentence."""
    if summary.failure:
        return ("The import stopped",
                f"The import stopped after {summary.done:,} of {summary.total:,} pupils: "
                f"{summary.failure} Every draft made before it is whole.")
    if summary.cancelled:
        return ("Import cancelled",
                f"Cancelled after {summary.done:,} of {summary.total:,} pupils: the rest "
                "were not imported. Every draft made before it is whole.")
    if not summary.lines:
        return ("Import finished",
                f"Finished: every pupil you chose from {file_name} was imported, and none needs "
                "looking at.")
    return ("Import finished",
            f"Finished: every pupil you chose from {file_name} was imported, "
            "skipped or listed below with the reason.")


def summary_counts(summary: Summary) -> list[tuple[str, str]]:
    """The counts the summary page lists, as (name, value)."""
    counts = [
        ("Created", f"{summary.created:,} new draft{'' if summary.created == 1 else 's'}"),
        ("Updated", f"{summary.updated:,} existing draft"
                    f"{'' if summary.updated == 1 else 's'}"),
        ("Skipped", f"{summary.skipped:,}"),
        ("Not imported", f"{summary.not_imported:,}"),
        ("Imported but marked for checking", f"{summary.flagged:,}"),
    ]
    if summary.unchanged:
        counts.insert(2, ("Already up to date", f"{summary.unchanged:,}"))
    return counts
