"""The assessment editor, driven through its real widgets against a real vault: filling in,
errors, visibility and computed values, undo, the keyboard."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from forms.engine import document_session
from tests.ui_form.editor_filler import (
    PASSWORD,
    MakeFiller,
    Opener,
    empty_document,
    example,
    focused,
    strip_keys,
    translate_keys,
    wait_saved,
)
from ui.form.editor import AssessmentEditor
from ui.form.widgets import ChoiceAdapter, DateAdapter, MultiChoiceAdapter, TextAdapter
from ui.tasks import TaskRunner, emit, vault_opener

# The offscreen platform's known noise (it cannot raise windows or grab the keyboard).
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def test_fill_primary_through_widgets_autosave_and_reopen(
    qtbot: QtBot, open_editor: Opener, filler: MakeFiller, vault: Vault, tasks: TaskRunner,
    profiles: Profiles,
) -> None:
    source = example("primary")
    editor = open_editor(empty_document())
    fill = filler(editor, source)
    for _pass in range(2):  # some questions show only after a later section's answer
        for section in editor.session.definition.sections:
            if editor.session.is_visible(section.id):
                fill.fill_section(section.id)
    session = editor.session
    assert session.is_complete, session.problems[:5]
    expected = {k: v for k, v in document_session(source).exported_answers().items() if v != []}
    expected = translate_keys(expected, fill.keys)  # links between items use the editor's keys
    assert strip_keys(session.exported_answers()) == strip_keys(expected)
    assert editor.session.section_status("child").complete
    assert editor.sections.item(1).text().startswith("✓")

    wait_saved(qtbot, editor)
    record_id = editor.record_id
    assert editor.flush()
    saved = Assessments(vault).get(record_id)
    assert saved["revision"] > 1
    assert strip_keys(saved["answers"]) == strip_keys(session.answers)

    # Close everything, unlock again: every answer is there, in the widgets too.
    editor.close()
    tasks.shutdown()
    vault.close()
    again = profiles.unlock("alex", PASSWORD)
    runner = TaskRunner(vault_opener(again))
    try:
        document = Assessments(again).get(record_id)
        assert strip_keys(document_session(document).exported_answers()) == strip_keys(expected)
        reopened = AssessmentEditor(runner, document)
        qtbot.addWidget(reopened)
        page = reopened.show_section("child")
        assert page is not None
        first = page.adapters["child.first_name"]
        assert isinstance(first, TextAdapter)
        assert first.edit.text() == source["answers"]["child"]["first_name"]
        sex = page.adapters["child.sex"]
        assert isinstance(sex, ChoiceAdapter)
        assert sex.combo.currentText() == "Female"
        assert reopened.session.is_complete
    finally:
        runner.shutdown()
        again.close()


def test_wrong_upn_in_error_summary_and_link_focuses_field(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    upn = page.adapters["child.upn"]
    assert isinstance(upn, TextAdapter)
    upn.edit.clear()
    qtbot.keyClicks(upn.edit, "M204123416009")
    qtbot.waitUntil(lambda: page.summary.isVisible() and bool(page.summary.entries))
    entries = [e for e in page.summary.entries if e.property("path") == "child.upn"]
    assert len(entries) == 1
    assert "check letter" in entries[0].text()
    assert upn.error_label.isVisible()
    assert upn.error_label.text().startswith("Error:")
    assert "Error:" in upn.edit.accessibleDescription()
    # Activate the entry from the keyboard: the focus moves to the UPN field.
    entries[0].setFocus()
    qtbot.keyClick(entries[0], Qt.Key.Key_Space)
    assert focused() is upn.edit


def test_missing_answers_show_after_checking_the_section(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(empty_document())
    page = editor.page
    assert page is not None
    assert not page.summary.isVisible()  # a fresh section is not shouted at
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    assert page.summary.isVisible()
    paths = [e.property("path") for e in page.summary.entries]
    assert "assessment.kind" in paths
    assert focused() is page.summary.title


def test_visibility_and_computed_values_follow_typing(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("assessment")
    assert page is not None
    kind = page.adapters["assessment.kind"]
    assert isinstance(kind, ChoiceAdapter)
    request = page.adapters["assessment.request_date"]
    assert not request.widget.isVisible()
    kind.combo.lineEdit().clear()
    qtbot.keyClicks(kind.combo.lineEdit(), "education, health")  # type-to-search
    emit(kind.combo.lineEdit().editingFinished)
    assert editor.session.answers["assessment"]["kind"] == "ehc_request"
    assert request.widget.isVisible()
    date_adapter = page.adapters["assessment.request_date"]
    qtbot.keyClicks(date_adapter.primary(), "3 March 2025")
    due = page.adapters["assessment.decision_due"]
    assert "14 April 2025" in getattr(due, "value_label").text()  # noqa: B009


def test_undo_last_change(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("about_me")
    assert page is not None
    edit = page.adapters["about_me.interests"].primary()
    qtbot.keyClicks(edit, " And lego.")
    assert editor.session.answers["about_me"]["interests"].endswith("lego.")
    editor.undo()
    assert editor.session.answers["about_me"]["interests"] == "Trains, drawing maps, swimming."
    wait_saved(qtbot, editor)


def test_section_pages_are_kept_between_switches_and_rebuilt_when_answers_are_replaced(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("about_me")
    assert page is not None
    qtbot.keyClicks(page.adapters["about_me.interests"].primary(), " And lego.")
    editor.show_section("child")
    again = editor.show_section("about_me")
    # The same widgets, still showing what was typed: switching does not rebuild them.
    assert again is page
    assert page.adapters["about_me.interests"].get().endswith("lego.")

    editor.show_section("child")
    editor.undo()  # back on about_me, with the answers as they were
    rebuilt = editor.page
    assert rebuilt is not None
    assert rebuilt is not page
    assert rebuilt.adapters["about_me.interests"].get() == "Trains, drawing maps, swimming."
    wait_saved(qtbot, editor)


def test_keyboard_only_completes_the_first_section(qtbot: QtBot, open_editor: Opener) -> None:
    """Tab through the first section typing answers, never touching the mouse."""
    source = example("primary")["answers"]["assessment"]
    editor = open_editor(empty_document())
    page = editor.page
    assert page is not None
    page.heading.setFocus()
    typed: dict[object, str] = {}
    for _step in range(80):
        widget = focused()
        assert widget is not None
        page = editor.page
        assert page is not None
        for path, adapter in page.adapters.items():
            key = path.split(".")[1]
            value = source.get(key)
            if value is None or widget in typed:
                continue
            if isinstance(adapter, ChoiceAdapter) and widget in (adapter.combo,
                                                                 adapter.combo.lineEdit()):
                label = adapter.combo.itemText(adapter.combo.findData(value))
                qtbot.keyClicks(widget, label)
                typed[widget] = label
            elif widget is adapter.primary() and isinstance(widget, QLineEdit):
                text = value if isinstance(value, str) else value["name"]
                if key.endswith("date"):
                    text = "/".join(reversed(value.split("-")))
                qtbot.keyClicks(widget, text)
                typed[widget] = text
            elif isinstance(value, dict) and widget in getattr(adapter, "parts", {}).values():
                part = next(k for k, w in getattr(adapter, "parts").items() if w is widget)  # noqa: B009
                if value.get(part):
                    qtbot.keyClicks(widget, value[part])
                    typed[widget] = value[part]
        if editor.session.section_status("assessment").complete:
            break
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert editor.session.section_status("assessment").complete, editor.session.problems_at(
        "assessment")
    assert editor.session.answers["assessment"]["kind"] == source["kind"]
    wait_saved(qtbot, editor)


def test_a_code_list_choice_of_several_is_one_list_ticked_by_keyboard_with_its_other_box(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    adapter = page.adapters["child.communication"]
    assert isinstance(adapter, MultiChoiceAdapter)
    rows = adapter.rows()
    assert len(rows) == 10  # one list, a row per code (not a check box widget per code)
    assert adapter.list.accessibleName() == adapter.question.label
    assert adapter.search.isVisible()  # ten options: a search box narrows them
    qtbot.keyClicks(adapter.search, rows["other"].text())
    shown = [code for code, row in rows.items() if not row.isHidden()]
    assert "other" in shown
    assert len(shown) < len(rows)
    assert not adapter.other.isVisible()
    adapter.list.setCurrentItem(rows["other"])
    qtbot.keyClick(adapter.list, Qt.Key.Key_Space)
    assert editor.session.answer("child.communication") == ["spoken_english", "symbols", "other"]
    assert adapter.other.isVisible()  # the code asks to say more
    qtbot.keyClicks(adapter.other, "Makaton signs")
    assert editor.session.answer("child.communication_other") == "Makaton signs"
    wait_saved(qtbot, editor)


def test_a_keystroke_copies_no_answers_of_the_record(
    qtbot: QtBot, open_editor: Opener, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Typing stores one answer: neither the title nor the undo step copies the record."""
    editor = open_editor(example("primary"))
    page = editor.show_section("about_me")
    assert page is not None
    edit = page.adapters["about_me.interests"].primary()
    copied: list[type] = []
    deepcopy = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        if memo is None and isinstance(value, dict | list):
            copied.append(type(value))
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    qtbot.keyClicks(edit, " And lego.")  # each key: stored, judged, sidebar and title redrawn
    monkeypatch.setattr(copy, "deepcopy", deepcopy)
    assert editor.session.answer("about_me.interests").endswith("lego.")
    assert copied == []
    wait_saved(qtbot, editor)


def test_a_date_that_is_not_real_is_explained_in_the_date_box_own_format(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    # Found under Xvfb: typing 31/02/2026 into a date box (whose hint says "For example
    # 27/03/2016") was answered "Enter a real date as year-month-day, such as 2025-09-01.": the
    # engine's words for a JSON file, not for the box the user typed in.
    editor = open_editor(example("primary"))
    page = editor.show_section("assessment")
    assert page is not None
    when = page.adapters["assessment.assessment_date"]
    assert isinstance(when, DateAdapter)
    when.date.edit.clear()
    qtbot.keyClicks(when.date.edit, "31/02/2026")
    emit(when.date.edited)
    qtbot.waitUntil(lambda: page.summary.isVisible() and bool(page.summary.entries))
    entries = [e.text() for e in page.summary.entries
               if e.property("path") == "assessment.assessment_date"]
    assert entries == ["Date of the assessment: Enter a real date, for example 27/03/2016."]
    assert when.error_label.text() == "Error: Enter a real date, for example 27/03/2016."
    editor.show_check_answers()
    qtbot.waitUntil(lambda: bool(editor.check_page.findChildren(QPushButton, "errorLink")))
    links = [link.text() for link in editor.check_page.findChildren(QPushButton, "errorLink")]
    assert "Enter a real date, for example 27/03/2016." in links
    assert not [text for text in links if "year-month-day" in text]
