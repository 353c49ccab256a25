"""The editor tests' shared parts: example documents, and a filler that types answers into
the editor's real widgets (``qtbot.keyClicks``, ticks in lists, clicks on radio buttons), so the
tests drive the editor the way a person does. The fixtures are in conftest.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from forms.model import KEY_FIELD, OTHER_SUFFIX
from ui.form.editor import AssessmentEditor
from ui.form.widgets import (
    AgreementAdapter,
    ChoiceAdapter,
    DateAdapter,
    FieldAdapter,
    GroupAdapter,
    LongTextAdapter,
    MultiChoiceAdapter,
    NumberAdapter,
    PersonAdapter,
    TextAdapter,
    YesNoAdapter,
    show_date,
)

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

Opener = Callable[[dict[str, Any]], AssessmentEditor]


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def translate_keys(value: Any, keys: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: translate_keys(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [translate_keys(v, keys) for v in value]
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
        elif isinstance(adapter, MultiChoiceAdapter):
            for code in value:
                # A row of the list: made current, then ticked with Space, as by keyboard.
                row = adapter.rows()[self.keys.get(code, code)]
                adapter.list.setCurrentItem(row)
                bot.keyClick(adapter.list, Qt.Key.Key_Space)
                assert row.checkState() == Qt.CheckState.Checked
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


def wait_saved(qtbot: QtBot, editor: AssessmentEditor) -> None:
    qtbot.waitUntil(lambda: editor.save_state == "saved" and not editor.tasks.busy,
                    timeout=10_000)


MakeFiller = Callable[[AssessmentEditor, dict[str, Any]], Filler]
