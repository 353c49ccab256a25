"""The "Import from school file…" dialog: preview, ticks, duplicates, progress, cancel, summary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ctf_generator import GeneratedPupil
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

import ui.ctf_import_dialog as dialog_module
from desktop.assessments import Assessments
from desktop.ctf_import import ImportProgress
from ui.ctf_import_dialog import MONTHS, PAGE_PREVIEW, PAGE_START, PAGE_SUMMARY, CtfImportDialog
from ui.ctf_preview import (
    CHOICE,
    DATE_OF_BIRTH,
    EXISTING,
    NAME,
    NOTES,
    SEN,
    TICK,
    UPDATE,
    UPN_VALID,
    CtfWork,
    check_file,
    import_pupils,
)
from ui.tasks import TaskRunner

WriteCtf = Callable[..., tuple[Path, list[GeneratedPupil]]]
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def make_dialog(qtbot: QtBot, tasks: TaskRunner, work: CtfWork | None = None) -> CtfImportDialog:
    dialog = CtfImportDialog(tasks, work=work)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def load(qtbot: QtBot, dialog: CtfImportDialog, path: Path) -> None:
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.state in ("previewing", "idle"), timeout=20_000)


def run_import(qtbot: QtBot, dialog: CtfImportDialog) -> None:
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=30_000)


def cell(dialog: CtfImportDialog, row: int, column: int, role: int = 0) -> Any:
    return dialog.model.data(dialog.model.index(row, column), role)


def upn_with_wrong_check_letter(upn: str) -> str:
    return ("B" if upn[0] != "B" else "C") + upn[1:]


def test_300_pupils_preview_untick_some_and_import_exactly_those(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    path, pupils = write_ctf(300, seed=3)
    dialog = make_dialog(qtbot, tasks)
    load(qtbot, dialog, path)
    assert dialog.pages.currentIndex() == PAGE_PREVIEW
    assert dialog.model.rowCount() == 300
    assert dialog.import_button.text() == "Import 300 pupils"
    first = pupils[0]
    assert cell(dialog, 0, NAME).startswith(f"{first.forename} {first.surname}")
    year, month, day = first.dob.split("-")
    assert cell(dialog, 0, DATE_OF_BIRTH) == f"{int(day)} {MONTHS[int(month) - 1]} {year}"
    assert cell(dialog, 0, UPN_VALID) == "Valid"
    assert cell(dialog, 0, EXISTING) == "No"

    # Untick 30 pupils: with the model, with Space on the current row (any column) and
    # with the table's own checkbox handling.
    unticked = set(range(10, 40))
    for row in range(10, 38):
        dialog.model.toggle(row)
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.model.index(38, NAME))
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)
    dialog.model.setData(dialog.model.index(39, TICK), Qt.CheckState.Unchecked.value,
                         Qt.ItemDataRole.CheckStateRole)
    assert cell(dialog, 39, TICK, Qt.ItemDataRole.AccessibleTextRole) == "Not ticked"
    assert dialog.import_button.text() == "Import 270 pupils"
    assert "270 ticked: 270 new drafts." in dialog.counts_label.text()

    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=10_000)
    assert dialog.pages.currentIndex() == PAGE_SUMMARY
    summary = dialog.summary
    assert summary is not None
    assert (summary.created, summary.updated, summary.skipped, summary.not_imported) == (
        270, 0, 0, 0)
    assert not summary.cancelled
    assert "Created: 270 new drafts" in dialog.counts_grid.accessibleName()

    assert store.count() == 270
    for index, pupil in enumerate(pupils):
        found = store.find_by_upn(pupil.upn)
        if index in unticked:
            assert found == []
            continue
        assert len(found) == 1
        document = store.get(found[0])
        assert document["status"] == "draft"
        child = document["answers"]["child"]
        assert (child["first_name"], child["last_name"]) == (pupil.forename, pupil.surname)
        assert (child["date_of_birth"], child["sex"]) == (pupil.dob, pupil.sex)
        assert (child["upn"], child["nc_year"], child.get("uln")) == (
            pupil.upn, pupil.nc_year, pupil.uln)
        assert document["answers"].get("placement", {}).get("sen_provision") == (
            pupil.current_provision)
        assert document["answers"].get("needs", {}).get("primary_need") == pupil.need(1)


def test_a_pupil_already_in_onesend_is_updated_or_skipped_never_a_second_child(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    path, pupils = write_ctf(6, seed=5)
    existing = {}
    for index in (1, 3):
        answers = {"child": {"first_name": "Old", "last_name": "Name",
                             "date_of_birth": "2015-01-01", "upn": pupils[index].upn}}
        record_id, _ = store.create({"form": "national-send-assessment",
                                     "form_version": "1.0.0", "answers": answers})
        existing[index] = record_id
    dialog = make_dialog(qtbot, tasks)
    load(qtbot, dialog, path)
    assert cell(dialog, 1, EXISTING) == "Already in OneSEND"
    assert cell(dialog, 3, EXISTING) == "Already in OneSEND"
    assert cell(dialog, 0, EXISTING) == "No"
    assert cell(dialog, 1, CHOICE) == "Skip"  # the default
    assert "2 already in OneSEND to skip" in dialog.counts_label.text()

    # Choose "update" for pupil 2 through the drop-down the table opens (Enter on the cell).
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.model.index(1, CHOICE))
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    [editor] = dialog.table.viewport().findChildren(QComboBox)
    assert editor.accessibleName() == "What to do with this pupil already in OneSEND"
    editor.setCurrentIndex(1)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits and closes it
    qtbot.waitUntil(lambda: cell(dialog, 1, CHOICE) == UPDATE, timeout=2_000)
    assert "1 to update, 1 already in OneSEND to skip" in dialog.counts_label.text()

    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=10_000)
    summary = dialog.summary
    assert summary is not None
    assert (summary.created, summary.updated, summary.skipped) == (4, 1, 1)
    assert store.count() == 6  # four new, two that were there: no second child
    updated = store.get(existing[1])["answers"]["child"]
    assert (updated["first_name"], updated["last_name"]) == (
        pupils[1].forename, pupils[1].surname)
    assert updated["date_of_birth"] == pupils[1].dob
    kept = store.get(existing[3])["answers"]["child"]
    assert (kept["first_name"], kept["last_name"]) == ("Old", "Name")
    for pupil in pupils:
        assert len(store.find_by_upn(pupil.upn)) == 1
    skipped = [line for line in summary.lines if line[1] == "Skipped"]
    assert len(skipped) == 1
    assert skipped[0][0].startswith("4. ")


@pytest.mark.parametrize("content", [
    b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [\n <!ENTITY lol "lol">\n'
    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
    b"<CTfile><Header><CTFversion>25.0</CTFversion></Header>"
    b"<CTFpupilData><Pupil><Surname>&lol3;</Surname></Pupil></CTFpupilData></CTfile>\n",
    "truncated",
], ids=["billion laughs", "truncated"])
def test_a_hostile_file_gives_one_sentence_naming_it_and_creates_nothing(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
    tmp_path: Path, content: bytes | str,
) -> None:
    if content == "truncated":
        path, _ = write_ctf(40, name="cut short.xml", seed=8)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
    else:
        assert isinstance(content, bytes)
        path = tmp_path / "laughs.xml"
        path.write_bytes(content)
    dialog = make_dialog(qtbot, tasks)
    load(qtbot, dialog, path)
    assert dialog.state == "idle"
    assert dialog.pages.currentIndex() == PAGE_START
    message = dialog.message.text()
    assert dialog.message.isVisible()
    assert message.startswith(f"The file {path.name} cannot be imported: ")
    assert "\n" not in message
    assert dialog.preview is None
    assert store.count() == 0


def test_cancel_half_way_leaves_only_whole_drafts_and_says_how_many(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    path, pupils = write_ctf(300, seed=9)
    # Hold the worker after pupil 150 until the user's Cancel has been pressed, so the test
    # does not race the database thread.
    gate = threading.Event()

    def held(*args: Any, progress: Any, **kwargs: Any) -> Any:
        def hooked(step: ImportProgress) -> None:
            progress(step)
            if step.phase == "importing" and step.done == 150:
                gate.wait(10)

        return import_pupils(*args, progress=hooked, **kwargs)

    dialog = make_dialog(qtbot, tasks, CtfWork(run=held))
    load(qtbot, dialog, path)

    def on_progress(done: int) -> None:  # the bar the user sees
        if dialog.state == "importing" and done >= 150 and not gate.is_set():
            dialog.cancel_button.click()
            assert not dialog.cancel_button.isEnabled()
            gate.set()

    dialog.progress_bar.valueChanged.connect(on_progress)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=10_000)
    summary = dialog.summary
    assert summary is not None
    assert summary.cancelled
    assert summary.created == 150 == store.count()
    assert "Cancelled after 150 of 300 pupils" in dialog.summary_label.text()
    for pupil in pupils[:150]:
        [record_id] = store.find_by_upn(pupil.upn)
        child = store.get(record_id)["answers"]["child"]
        assert (child["first_name"], child["upn"], child["date_of_birth"]) == (
            pupil.forename, pupil.upn, pupil.dob)
    assert all(store.find_by_upn(pupil.upn) == [] for pupil in pupils[150:])


def test_closing_while_importing_cancels_and_stays_for_the_summary(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    path, _ = write_ctf(20, seed=2)
    gate = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(10)
        return import_pupils(*args, **kwargs)

    dialog = make_dialog(qtbot, tasks, CtfWork(run=held))
    load(qtbot, dialog, path)
    dialog.import_button.click()
    dialog.reject()  # Escape or the window's close button
    assert dialog.isVisible()
    gate.set()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=10_000)
    assert dialog.summary is not None
    assert dialog.summary.cancelled
    assert store.count() == 0 == dialog.summary.created


def test_a_bad_upn_check_letter_is_shown_and_imported_flagged(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    def spoil(pupils: list[GeneratedPupil]) -> None:
        pupils[2].upn = upn_with_wrong_check_letter(pupils[2].upn)
        pupils[4].dob = "2099-01-01"  # in the future: cannot be imported

    path, pupils = write_ctf(6, seed=4, edit=spoil)
    dialog = make_dialog(qtbot, tasks)
    load(qtbot, dialog, path)
    assert cell(dialog, 2, UPN_VALID) == "No: wrong check letter"
    assert cell(dialog, 2, UPN_VALID, Qt.ItemDataRole.ToolTipRole).startswith(
        "Not valid: This UPN's check letter does not match")
    assert "check letter" in cell(dialog, 2, NOTES)
    assert cell(dialog, 4, TICK, Qt.ItemDataRole.AccessibleTextRole) == "Cannot import"
    assert cell(dialog, 4, NOTES).startswith("Cannot import: DOB is in the future")
    assert cell(dialog, 4, TICK, Qt.ItemDataRole.CheckStateRole) is None
    assert dialog.import_button.text() == "Import 5 pupils"
    assert "1 ticked with values marked for checking" in dialog.counts_label.text()
    assert "1 cannot be imported" in dialog.counts_label.text()
    run_import(qtbot, dialog)
    summary = dialog.summary
    assert summary is not None
    assert (summary.created, summary.not_imported, summary.flagged) == (5, 1, 1)
    flagged = [line for line in summary.lines if line[1] == "Imported, marked for checking"]
    assert flagged[0][0].startswith("3. ")
    assert "check letter" in flagged[0][2]
    problem = next(line for line in summary.lines if line[1] == "Not imported")
    assert problem[0].startswith("5. ")
    assert "DOB is in the future" in problem[2]
    [record_id] = store.find_by_upn(pupils[2].upn)
    assert store.get(record_id)["answers"]["child"]["upn"] == pupils[2].upn  # never corrected
    assert store.count() == 5


def test_historic_codes_are_shown_as_such(
    qtbot: QtBot, tasks: TaskRunner, write_ctf: WriteCtf,
) -> None:
    def historic(pupils: list[GeneratedPupil]) -> None:
        pupils[0].sen = [("2012-09-01", "P")]
        pupils[0].needs = [(1, "BESD")]

    path, _ = write_ctf(2, version="12.0", seed=1, edit=historic)
    dialog = make_dialog(qtbot, tasks)
    load(qtbot, dialog, path)
    assert cell(dialog, 0, SEN) == "P (historic): School Action Plus"
    assert "BESD" in cell(dialog, 0, SEN, Qt.ItemDataRole.ToolTipRole)


def test_choose_file_keyboard_select_all_none_and_accessible_names(
    qtbot: QtBot, tasks: TaskRunner, write_ctf: WriteCtf, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, _ = write_ctf(5, seed=6)
    asked: list[str] = []

    def fake_open(*args: Any) -> tuple[str, str]:
        asked.append(args[3])
        return str(path), args[3]

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_open))
    dialog = make_dialog(qtbot, tasks)
    assert dialog.focusWidget() is dialog.choose_button
    dialog.choose_button.click()
    qtbot.waitUntil(lambda: dialog.state == "previewing", timeout=10_000)
    assert "*.xml" in asked[0]
    assert "Common Transfer File" in asked[0]
    assert dialog.focusWidget() is dialog.table

    dialog.select_none.click()
    assert dialog.import_button.text() == "Import 0 pupils"
    assert not dialog.import_button.isEnabled()
    dialog.table.setFocus()
    dialog.table.setCurrentIndex(dialog.model.index(2, NAME))
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)
    assert dialog.import_button.text() == "Import 1 pupil"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)
    assert dialog.import_button.text() == "Import 0 pupils"
    dialog.select_all.click()
    assert dialog.import_button.text() == "Import 5 pupils"

    # Tab leaves the table for the buttons below it, in reading order.
    dialog.table.setFocus()
    order = []
    widget: QWidget = dialog.table
    for _ in range(6):
        widget = widget.nextInFocusChain()
        while not (widget.isVisible() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
            widget = widget.nextInFocusChain()
        order.append(widget)
    assert order == [dialog.select_all, dialog.select_none, dialog.existing_choice,
                     dialog.another_button, dialog.preview_cancel, dialog.import_button]

    # Everything a screen reader lands on has a name (a button's or label's text is one).
    controls = [*dialog.findChildren(QAbstractButton), *dialog.findChildren(QComboBox),
                *dialog.findChildren(QTableView), *dialog.findChildren(QProgressBar),
                *dialog.findChildren(QLabel)]
    unnamed = [c.objectName() or type(c).__name__ for c in controls
               if not c.accessibleName() and c.objectName() != "qt_tableview_cornerbutton"
               and not (isinstance(c, (QAbstractButton, QLabel)) and c.text())]
    assert unnamed == []
    # Nothing of a child's reaches a log: the dialog's errors are the reader's own sentences.
    assert not hasattr(dialog_module, "logger")


def test_cancel_while_reading_creates_nothing_and_can_read_again(
    qtbot: QtBot, tasks: TaskRunner, store: Assessments, write_ctf: WriteCtf,
) -> None:
    path, _ = write_ctf(30, seed=7)
    gate = threading.Event()
    holding = [True]

    def held(*args: Any, **kwargs: Any) -> Any:
        if holding[0]:
            gate.wait(10)
        return check_file(*args, **kwargs)

    dialog = make_dialog(qtbot, tasks, CtfWork(check=held))
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.state == "checking", timeout=10_000)
    dialog.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: dialog.state == "idle", timeout=10_000)
    assert "was stopped; nothing was imported" in dialog.message.text()
    assert store.count() == 0
    holding[0] = False
    load(qtbot, dialog, path)
    assert dialog.model.rowCount() == 30


def test_the_summary_sentence_keeps_its_own_height_when_nothing_is_listed(
    qtbot: QtBot, tasks: TaskRunner, write_ctf: WriteCtf,
) -> None:
    # Found under Xvfb: with no pupil to look at, the one-line summary sentence was stretched
    # over the page's empty half, the sentence floating in the middle of a tall box.
    path, _pupils = write_ctf(3, seed=5)
    dialog = make_dialog(qtbot, tasks)
    dialog.resize(1100, 700)
    load(qtbot, dialog, path)
    run_import(qtbot, dialog)
    assert not dialog.summary_table.isVisible()
    label = dialog.summary_label
    qtbot.waitUntil(label.isVisible)
    natural = label.heightForWidth(label.width())
    assert label.height() <= natural + 4, (label.height(), natural)
    assert dialog.close_button.isVisible()
