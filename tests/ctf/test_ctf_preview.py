"""The CTF preview presenter (ui/ctf_preview.py), without Qt: rows, ticks, choices, counts,
notes, the import plan and the summary, on a real vault and a generated file."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from ctf_generator import GeneratedPupil, make_pupils, render

from desktop.assessments import Assessments
from desktop.ctf_import import ImportProgress
from desktop.ctf_reader import read_ctf
from desktop.vault import Vault
from ui.ctf_preview import (
    CHOICE,
    NOTES,
    SKIP,
    TICK,
    UPDATE,
    UPN_VALID,
    CtfPreview,
    LoadedFile,
    check_file,
    file_sentence,
    import_pupils,
    progress_words,
    summarise,
    summary_counts,
    summary_headline,
)

WriteCtf = Callable[..., tuple[Path, list[GeneratedPupil]]]


@pytest.fixture
def write_ctf(tmp_path: Path) -> WriteCtf:
    """A generated CTF; `edit` may change the invented pupils before they are written."""

    def write(count: int, *, seed: int,
              edit: Callable[[list[GeneratedPupil]], None] | None = None,
              ) -> tuple[Path, list[GeneratedPupil]]:
        pupils = make_pupils(count, seed=seed)
        if edit is not None:
            edit(pupils)
        path = tmp_path / "school.xml"
        path.write_bytes(render(pupils))
        return path, pupils

    return write


def no_progress(_step: ImportProgress) -> None:
    return None


def checked(vault: Vault, path: Path) -> LoadedFile:
    return check_file(vault, read_ctf(path), cancel=threading.Event(), progress=no_progress)


def spoiled(pupils: list[GeneratedPupil]) -> None:
    pupils[1].upn = ("B" if pupils[1].upn[0] != "B" else "C") + pupils[1].upn[1:]  # flagged
    pupils[3].dob = "2099-01-01"  # in the future: cannot be imported


def test_the_presenter_module_loads_no_qt() -> None:
    probe = ("import sys, ui.ctf_preview; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('PySide6', 'shiboken6')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_rows_ticks_counts_and_notes(vault: Vault, write_ctf: WriteCtf) -> None:
    path, pupils = write_ctf(5, seed=4, edit=spoiled)
    loaded = checked(vault, path)
    preview = CtfPreview(loaded.rows)
    assert len(preview) == 5
    # Every pupil who can be imported starts ticked; the one who cannot is never tickable.
    assert preview.ticked == [True, True, True, False, True]
    assert not preview.tickable(3)
    assert preview.toggle(3) is False
    assert preview.ticked[3] is False
    assert preview.tick_words(3) == "Cannot import"
    assert preview.text(3, NOTES).startswith("Cannot import: ")
    assert preview.text(1, UPN_VALID) == "No: wrong check letter"
    assert preview.counts() == {"create": 4, "update": 0, "skip": 0, "cannot": 1,
                                "flagged": 1, "existing": 0}
    assert preview.import_label() == "Import 4 pupils"
    assert preview.counts_sentence() == (
        "4 ticked: 4 new drafts. 1 ticked with values marked for checking (imported as the "
        "file has them). 1 cannot be imported (see Notes).")
    # The pupil who cannot be imported still goes to the import, so the summary names them.
    assert preview.positions() == [1, 2, 3, 4, 5]
    assert preview.toggle(0) is True
    assert preview.tick_words(0) == "Not ticked"
    assert preview.positions() == [2, 3, 4, 5]
    preview.set_all(False)
    assert preview.import_label() == "Import 0 pupils"
    assert preview.writing() == 0
    assert preview.positions() == [4]
    preview.set_all(True)
    assert preview.ticked == [True, True, True, False, True]
    name = f"{pupils[0].forename} {pupils[0].surname}"
    assert preview.details(0) == (
        f"Pupil 1. {name}: Nothing to check: every value was read as it is.")
    assert preview.details(99) == ""
    assert "with 5 pupils" in file_sentence("school.xml", loaded.preview, 5)
    assert file_sentence("school.xml", loaded.preview, 1).endswith(
        "with 1 pupil. Tick the pupils to import.")


def test_choices_only_for_a_pupil_whose_one_draft_can_be_updated(
    vault: Vault, write_ctf: WriteCtf,
) -> None:
    path, _pupils = write_ctf(3, seed=6)
    first = checked(vault, path)
    import_pupils(vault, first.preview, CtfPreview(first.rows).plan(),
                  cancel=threading.Event(), progress=no_progress)
    again = CtfPreview(checked(vault, path).rows)
    assert [row.existing for row in again.rows] == [True, True, True]
    assert again.text(0, CHOICE) == SKIP
    assert again.counts()["skip"] == 3
    assert again.import_label() == "Import 0 pupils"
    assert again.set_choice(1, "update") is True
    assert again.text(1, CHOICE) == UPDATE
    assert again.import_label() == "Import 1 pupil"
    assert again.counts_sentence() == (
        "3 ticked: 0 new drafts, 1 to update, 2 already in OneSEND to skip.")
    plan = again.plan()
    assert plan.positions == [1, 2, 3]
    assert plan.choices == {1: "skip", 2: "update", 3: "skip"}
    assert plan.total == 3
    again.set_all_choices("update")
    assert again.counts()["update"] == 3
    assert again.tooltip(0, CHOICE).startswith("Press F2")
    assert again.tooltip(0, TICK) == ""


def test_the_plan_runs_and_the_summary_says_what_happened(
    vault: Vault, write_ctf: WriteCtf,
) -> None:
    path, _pupils = write_ctf(5, seed=4, edit=spoiled)
    loaded = checked(vault, path)
    preview = CtfPreview(loaded.rows)
    preview.toggle(4)  # pupil 5 is left out
    plan = preview.plan()
    report = import_pupils(vault, loaded.preview, plan, cancel=threading.Event(),
                           progress=no_progress)
    assert len(Assessments(vault).find_by_upn(loaded.preview.pupils[0].upn or "")) == 1
    summary = summarise(report, plan.rows, plan.total)
    assert (summary.created, summary.not_imported, summary.flagged) == (3, 1, 1)
    assert summary.changed
    assert not summary.cancelled
    assert [what for _pupil, what, _reason in summary.lines] == [
        "Imported, marked for checking", "Not imported"]
    assert [pupil.split(".")[0] for pupil, _what, _reason in summary.lines] == ["2", "4"]
    title, first = summary_headline(summary, "school.xml")
    assert title == "Import finished"
    assert "every pupil you chose from school.xml" in first
    assert ("Created", "3 new drafts") in summary_counts(summary)
    assert ("Not imported", "1") in summary_counts(summary)


def test_an_import_with_nothing_to_look_at_does_not_point_below(
    vault: Vault, write_ctf: WriteCtf,
) -> None:
    # Found under Xvfb: twelve clean pupils imported, and the page said each was "imported,
    # skipped or listed below with the reason" above an empty space.
    path, _pupils = write_ctf(3, seed=5)
    loaded = checked(vault, path)
    plan = CtfPreview(loaded.rows).plan()
    report = import_pupils(vault, loaded.preview, plan, cancel=threading.Event(),
                           progress=no_progress)
    summary = summarise(report, plan.rows, plan.total)
    assert summary.lines == []
    assert summary_headline(summary, "school.xml") == (
        "Import finished",
        "Finished: every pupil you chose from school.xml was imported, and none needs looking"
        " at.")


def test_a_cancelled_import_is_said_so(vault: Vault, write_ctf: WriteCtf) -> None:
    path, _pupils = write_ctf(4, seed=2)
    loaded = checked(vault, path)
    cancel = threading.Event()
    cancel.set()
    plan = CtfPreview(loaded.rows).plan()
    report = import_pupils(vault, loaded.preview, plan, cancel=cancel, progress=no_progress)
    summary = summarise(report, plan.rows, plan.total)
    assert summary_headline(summary, "school.xml") == (
        "Import cancelled",
        "Cancelled after 0 of 4 pupils: the rest were not imported. Every draft made before "
        "it is whole.")
    assert not summary.changed
    assert Assessments(vault).count() == 0


def test_progress_in_words() -> None:
    assert progress_words("reading", 512, 1024) == "50% read"
    assert progress_words("reading", 0, 0) == "0% read"
    assert progress_words("checking", 1200, 3000) == "1,200 of 3,000 pupils checked"
    assert progress_words("importing", 3, 7) == "3 of 7 pupils done"
