"""The assessment editor, driven through its real widgets against a real vault.

A filler types an example assessment's answers into the real widgets (``qtbot.keyClicks``,
clicks on boxes and radio buttons), so the tests drive the editor the way a person does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from forms.definition import KEY_FIELD, OTHER_SUFFIX
from forms.engine import document_session
from ui.form.editor import AssessmentEditor
from ui.form.widgets import (
    AgreementAdapter,
    ChoiceAdapter,
    DateAdapter,
    FieldAdapter,
    GroupAdapter,
    ItemChoiceAdapter,
    LongTextAdapter,
    MultiChoiceAdapter,
    NumberAdapter,
    PersonAdapter,
    TextAdapter,
    YesNoAdapter,
    show_date,
)
from ui.tasks import TaskRunner, emit, vault_opener

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
PASSWORD = "correct horse battery staple"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def empty_document() -> dict[str, Any]:
    primary = example("primary")
    return {"form": primary["form"], "form_version": primary["form_version"], "answers": {}}


def strip_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_keys(v) for k, v in value.items() if k != KEY_FIELD}
    if isinstance(value, list):
        return [strip_keys(v) for v in value]
    return value


@pytest.fixture
def open_editor(qtbot: QtBot, vault: Vault, tasks: TaskRunner
                ) -> Callable[[dict[str, Any]], AssessmentEditor]:
    """Store a document as a new assessment and open it in a shown, active editor."""

    def opener(document: dict[str, Any]) -> AssessmentEditor:
        record_id, _revision = Assessments(vault).create(copy.deepcopy(document))
        editor = AssessmentEditor(tasks, Assessments(vault).get(record_id), autosave_ms=40)
        qtbot.addWidget(editor)
        editor.resize(1280, 900)
        editor.show()
        qtbot.waitExposed(editor)
        editor.activateWindow()
        qtbot.waitUntil(editor.isActiveWindow)
        return editor

    return opener


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def _translate(value: Any, keys: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _translate(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_translate(v, keys) for v in value]
    return keys.get(value, value) if isinstance(value, str) else value


def _at(answers: dict[str, Any], path: str) -> Any:
    section, _, question = path.partition(".")
    if "[" in section:
        name, index = section.rstrip("]").split("[")
        return answers.get(name, [])[int(index)].get(question)
    return (answers.get(section) or {}).get(question)


class Filler:
    """Types an example's answers into the editor's widgets, section by section."""

    def __init__(self, qtbot: QtBot, editor: AssessmentEditor, source: dict[str, Any]) -> None:
        self.qtbot = qtbot
        self.editor = editor
        self.answers = source["answers"]
        self.keys: dict[str, str] = {}  # the example's item keys → the editor's

    def adapter(self, path: str) -> FieldAdapter:
        page = self.editor.page
        assert page is not None
        return page.adapters[path]

    def fill_section(self, section_id: str) -> None:
        editor = self.editor
        editor.show_section(section_id)
        section = editor.session.definition.sections_by_id[section_id]
        raw = self.answers.get(section_id)
        if section.repeat:
            if len(self.editor.session.answers.get(section_id) or []) == len(raw or []):
                return
            for index, item in enumerate(raw or []):
                page = editor.page
                assert page is not None
                assert page.item_list is not None
                self.qtbot.mouseClick(page.item_list.add_button, Qt.MouseButton.LeftButton)
                key = editor.session.answers[section_id][index][KEY_FIELD]
                self.keys[item[KEY_FIELD]] = key
                self.fill_fields(section.questions, item, f"{section_id}[{index}]")
            return
        self.fill_fields(section.questions, raw or {}, section_id)

    def fill_fields(self, questions: Any, raw: dict[str, Any], prefix: str) -> None:
        for question in questions:
            path = f"{prefix}.{question.id}"
            value = raw.get(question.id)
            if value is None or question.is_computed:
                continue
            if not self.editor.session.is_visible(path):
                continue  # depends on a later answer: the second pass fills it
            current = self.editor.session.answers
            if not question.is_group and _at(current, path) == value:
                continue
            adapter = self.adapter(path)
            if isinstance(adapter, GroupAdapter):
                if _at(self.editor.session.answers, path):
                    continue
                for index, item in enumerate(value):
                    group = self.adapter(path)
                    assert isinstance(group, GroupAdapter)
                    self.qtbot.mouseClick(group.items.add_button, Qt.MouseButton.LeftButton)
                    self.fill_fields(question.questions, item, f"{path}[{index}]")
                continue
            self.type_value(adapter, value, raw.get(question.id + OTHER_SUFFIX))

    def type_value(self, adapter: FieldAdapter, value: Any, other: Any = None) -> None:
        bot = self.qtbot
        if isinstance(adapter, TextAdapter | NumberAdapter | LongTextAdapter):
            adapter.edit.clear()
            bot.keyClicks(adapter.edit, str(value))
        elif isinstance(adapter, DateAdapter):
            adapter.date.edit.clear()
            bot.keyClicks(adapter.date.edit, show_date(value))
        elif isinstance(adapter, ChoiceAdapter):
            label = adapter.combo.itemText(adapter.combo.findData(value))
            assert label, value
            bot.keyClicks(adapter.combo.lineEdit(), label)
        elif isinstance(adapter, ItemChoiceAdapter):
            for code in value:
                # A row of the list: made current, then ticked with Space, as by keyboard.
                row = adapter.rows()[self.keys.get(code, code)]
                adapter.list.setCurrentItem(row)
                bot.keyClick(adapter.list, Qt.Key.Key_Space)
                assert row.checkState() == Qt.CheckState.Checked
        elif isinstance(adapter, MultiChoiceAdapter):
            for code in value:
                box = adapter.boxes[self.keys.get(code, code)]
                # On the box's label, where a person clicks (the row is wider than its text).
                bot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
        elif isinstance(adapter, YesNoAdapter):
            button = adapter.radios.buttons[0 if value else 1][1]
            bot.mouseClick(button, Qt.MouseButton.LeftButton)
        elif isinstance(adapter, AgreementAdapter):
            for key, part in value.items():
                widget = adapter.parts[key]
                if key == "decision":
                    buttons = dict(getattr(widget, "buttons"))  # noqa: B009 - RadioRow
                    bot.mouseClick(buttons[part], Qt.MouseButton.LeftButton)
                elif key == "date":
                    bot.keyClicks(getattr(widget, "edit"), show_date(part))  # noqa: B009
                else:
                    bot.keyClicks(widget, str(part))
        elif isinstance(adapter, PersonAdapter):
            for key, part in value.items():
                bot.keyClicks(adapter.parts[key], str(part))
        else:
            raise AssertionError(f"no filler for {type(adapter).__name__}")
        if other is not None:
            other_edit = getattr(adapter, "other")  # noqa: B009
            bot.keyClicks(other_edit, str(other))


@pytest.fixture
def filler(qtbot: QtBot) -> Callable[[AssessmentEditor, dict[str, Any]], Filler]:
    return lambda editor, source: Filler(qtbot, editor, source)





# The offscreen platform's known noise (it cannot raise windows or grab the keyboard).
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)

Opener = Callable[[dict[str, Any]], AssessmentEditor]
MakeFiller = Callable[[AssessmentEditor, dict[str, Any]], Filler]


def wait_saved(qtbot: QtBot, editor: AssessmentEditor) -> None:
    qtbot.waitUntil(lambda: editor.save_state == "saved" and not editor.tasks.busy,
                    timeout=10_000)


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
    expected = _translate(expected, fill.keys)  # links between items use the editor's keys
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


def test_group_add_remove_undo_and_reorder(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("family_views")
    assert page is not None
    before = editor.session.answers["family_views"]["contributors"]
    group = page.adapters["family_views.contributors"]
    items = getattr(group, "items")  # noqa: B009
    qtbot.mouseClick(items.item_buttons[0]["down"], Qt.MouseButton.LeftButton)
    moved = editor.session.answers["family_views"]["contributors"]
    assert [c["name"] for c in moved] == [before[1]["name"], before[0]["name"]]
    page = editor.page
    assert page is not None
    items = getattr(page.adapters["family_views.contributors"], "items")  # noqa: B009
    qtbot.mouseClick(items.item_buttons[0]["remove"], Qt.MouseButton.LeftButton)
    assert len(editor.session.answers["family_views"]["contributors"]) == 1
    assert "Undo" in editor.message.text()
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert editor.session.answers["family_views"]["contributors"] == moved
    wait_saved(qtbot, editor)


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


def test_check_answers_lists_visible_answers_with_change_links(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    editor.show_check_answers()
    links = {link.property("path"): link for link in editor.check_page.change_links}
    assert "child.first_name" in links
    assert "outcomes[1].outcome" in links
    assert "child.uln" not in links  # hidden for a nine-year-old
    assert "assessment.request_date" not in links  # hidden for an annual review
    assert links["child.first_name"].accessibleName() == "Change First name"
    qtbot.mouseClick(links["child.first_name"], Qt.MouseButton.LeftButton)
    assert editor.current_section == "child"
    page = editor.page
    assert page is not None
    assert focused() is page.adapters["child.first_name"].primary()


def test_finalise_only_when_complete_then_read_only_and_amend(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    draft = open_editor(example("draft"))
    draft.show_check_answers()
    assert draft.check_page.finalise_button is None
    draft.finalise()
    assert draft.status == "draft"
    assert not draft.read_only

    editor = open_editor(example("primary"))
    editor.show_check_answers()
    button = editor.check_page.finalise_button
    confirm = editor.check_page.confirm
    assert button is not None
    assert confirm is not None
    assert not button.isEnabled()
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert button.isEnabled()
    with qtbot.waitSignal(editor.finalised, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert editor.read_only
    assert editor.banner.isVisible()
    history = Assessments(vault).history(editor.record_id)
    assert history[-1].action == "finalise"
    page = editor.show_section("child")
    assert page is not None
    first = page.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    assert first.edit.isReadOnly()
    qtbot.keyClicks(first.edit, "zzz")
    assert editor.session.answers["child"]["first_name"] == "Maya"

    with qtbot.waitSignal(editor.status_changed, timeout=10_000):
        qtbot.mouseClick(editor.amend_button, Qt.MouseButton.LeftButton)
    assert not editor.read_only
    assert editor.status == "amended"
    assert Assessments(vault).history(editor.record_id)[-1].action == "amend"


def test_history_lists_revisions_and_restore_adds_one(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    qtbot.keyClicks(page.adapters["child.preferred_name"].primary(), "May")
    wait_saved(qtbot, editor)
    revisions = Assessments(vault).history(editor.record_id)
    assert len(revisions) >= 2
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    table = editor.history.table
    assert table.rowCount() == len(revisions)
    assert table.item(table.rowCount() - 1, 3).text() == "Started"
    table.selectRow(table.rowCount() - 1)  # revision 1, the oldest
    with qtbot.waitSignal(editor.history.viewed, timeout=10_000):
        qtbot.mouseClick(editor.history.view_button, Qt.MouseButton.LeftButton)
    assert "Maya" in editor.history.viewer.toPlainText()
    assert "M204123416001" in editor.history.viewer.toPlainText()  # the SENCO's own view
    with qtbot.waitSignal(editor.history.restored, timeout=10_000):
        qtbot.mouseClick(editor.history.restore_button, Qt.MouseButton.LeftButton)
    after = Assessments(vault).history(editor.record_id)
    assert len(after) == len(revisions) + 1
    assert after[-1].action == "restore-from-1"
    assert "preferred_name" not in editor.session.answers["child"]
    qtbot.waitUntil(lambda: table.rowCount() == len(after), timeout=10_000)


def test_family_pdf_has_the_name_and_not_the_upn(
    qtbot: QtBot, open_editor: Opener, tmp_path: Path, pdf_text: Callable[[Path], str],
) -> None:
    editor = open_editor(example("primary"))
    target = tmp_path / "family copy.pdf"
    with qtbot.waitSignal(editor.pdf_exported, timeout=20_000) as blocker:
        editor.export_pdf(target)
    assert blocker.args == [str(target)]
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert target.stat().st_mode & 0o077 == 0
    assert editor.open_pdf_button.isVisible()
    text = pdf_text(target)
    assert "Maya Example" in text
    assert "M204123416001" not in text.replace(" ", "")
    assert "Page 1 of" in text
    assert "form version 1.0.0" in text
    # The child's own words come before the administrative sections.
    assert text.index("About me") < text.index("About the assessment")
    assert text.index("My family's views") < text.index("Needs (section B)")


def test_an_edit_keeps_the_answers_a_form_migration_archived(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    document = example("primary")
    archived = [{"path": "about_me.old_question", "value": "Kept from version 0.9",
                 "from_version": "0.9.0"}]
    document["archive"] = archived
    editor = open_editor(document)
    page = editor.show_section("about_me")
    assert page is not None
    qtbot.keyClicks(page.adapters["about_me.interests"].primary(), " And lego.")
    wait_saved(qtbot, editor)
    saved = Assessments(vault).get(editor.record_id)
    assert saved["answers"]["about_me"]["interests"].endswith("lego.")
    assert saved["archive"] == archived
    # Shown read-only on "Check your answers", never as an editable field.
    editor.show_check_answers()
    shown = [label.text() for label in editor.check_page.findChildren(QLabel)
             if label.objectName() == "archivedAnswer"]
    assert shown == ["Kept from version 0.9"]


def test_history_marks_a_revision_altered_outside_onesend(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    qtbot.keyClicks(page.adapters["child.preferred_name"].primary(), "May")
    wait_saved(qtbot, editor)
    # Someone with the file forges who saved the first revision.
    import sqlite3  # noqa: PLC0415

    raw = sqlite3.connect(vault.path, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    raw.execute("UPDATE revisions SET author = 'mallory' WHERE revision = 1")
    raw.close()
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    table = editor.history.table
    oldest = table.rowCount() - 1
    assert table.item(oldest, 3).text() == "Damaged: altered outside OneSEND (Started)"
    assert table.item(0, 3).text() != table.item(oldest, 3).text()
    assert "1 of them altered outside OneSEND: not trusted." in editor.history.status.text()


def test_a_provision_item_links_its_outcomes_in_one_list_ticked_by_keyboard(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("provision")
    assert page is not None
    adapter = page.adapters["provision[0].outcomes"]
    assert isinstance(adapter, ItemChoiceAdapter)
    outcomes = editor.session.answers["outcomes"]
    rows = adapter.rows()
    # One row per outcome, named by number and text, in one list (not a widget per outcome).
    assert list(rows) == [o[KEY_FIELD] for o in outcomes]
    assert next(iter(rows.values())).text().startswith("Outcome 1: ")
    linked = editor.session.answers["provision"][0]["outcomes"]
    target = next(code for code in rows if code not in linked)
    adapter.list.setCurrentItem(rows[target])
    qtbot.keyClick(adapter.list, Qt.Key.Key_Space)
    assert target in editor.session.answers["provision"][0]["outcomes"]
    qtbot.keyClick(adapter.list, Qt.Key.Key_Space)
    assert editor.session.answers["provision"][0]["outcomes"] == linked
    wait_saved(qtbot, editor)


def test_adding_an_item_builds_only_its_card_and_matches_a_rebuilt_page(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("outcomes")
    assert page is not None
    assert page.item_list is not None
    before = dict(page.adapters)
    count = len(page.item_list.cards)
    qtbot.mouseClick(page.item_list.add_button, Qt.MouseButton.LeftButton)
    assert editor.page is page  # not rebuilt
    assert all(page.adapters[path] is adapter for path, adapter in before.items())
    new = f"outcomes[{count}].outcome"
    assert new in page.adapters
    focused = QApplication.focusWidget()
    assert focused is not None
    assert page.item_list.cards[-1].isAncestorOf(focused)  # the focus is in the new item
    qtbot.keyClicks(page.adapters[new].primary(), "Will read a page aloud")
    assert editor.session.answers["outcomes"][count]["outcome"] == "Will read a page aloud"
    # The same fields, in the same order and state, as a page built from scratch.
    rebuilt = editor.show_section("outcomes", rebuild=True)
    assert rebuilt is not None
    assert rebuilt is not page
    assert list(rebuilt.adapters) == list(page.adapters)
    assert [a.get() for a in rebuilt.adapters.values()] == [
        a.get() for a in page.adapters.values()]
    wait_saved(qtbot, editor)
