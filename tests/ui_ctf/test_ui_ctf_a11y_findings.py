"""Issue 11, finding 13: the import's button counts only the pupils it will write, a year
group that does not fit the age is flagged, historic SEN codes are listed under the pupils to
look at, and the setting in the file's header fills in the drafts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ctf_generator import GeneratedPupil
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from ui.ctf_import_dialog import CtfImportDialog
from ui.ctf_preview import NOTES
from ui.tasks import TaskRunner

WriteCtf = Callable[..., tuple[Path, list[GeneratedPupil]]]
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def test_the_import_counts_flags_lists_and_fills_in_what_it_should(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    def shape(pupils: list[GeneratedPupil]) -> None:
        pupils[1].nc_year = "N1" if pupils[1].nc_year != "N1" else "11"  # not their age
        pupils[2].sen = [("2019-09-01", "S")]  # a historic SEN provision code
        pupils[2].needs = []

    path, pupils = write_ctf(4, seed=7, edit=shape)
    answers = {"child": {"first_name": "Old", "last_name": "Name",
                         "date_of_birth": "2015-01-01", "upn": pupils[3].upn}}
    store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                  "answers": answers})
    dialog = CtfImportDialog(tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.state in ("previewing", "idle"), timeout=20_000)
    assert dialog.state == "previewing"

    # Four ticked, one of them already in OneSEND and to be skipped: three are written.
    assert dialog.model.ticked_count() == 4
    assert dialog.import_button.text() == "Import 3 pupils"
    notes = str(dialog.model.data(dialog.model.index(1, NOTES)))
    assert "year group does not match" in notes
    assert "1 ticked with values marked for checking" in dialog.counts_label.text()

    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=30_000)
    summary = dialog.summary
    assert summary is not None
    assert (summary.created, summary.skipped) == (3, 1)
    look_at = {line[0].split(".")[0]: line[1:] for line in summary.lines}
    assert look_at["2"][0] == "Imported, marked for checking"
    assert "year group" in look_at["2"][1]
    historic = [line for line in summary.lines if line[1] == "Imported with a historic SEN code"]
    assert [line[0].split(".")[0] for line in historic] == ["3"]
    assert "SEN provision S" in historic[0][2]

    [record_id] = store.find_by_upn(pupils[0].upn)
    about = store.get(record_id)["answers"]["assessment"]
    assert about["setting_name"] == "Brook Lane Academy"
    assert about["setting_kind"] == "urn"
    assert about["setting_urn"] == "199999"
    assert len(about["setting_la"]) == 3
