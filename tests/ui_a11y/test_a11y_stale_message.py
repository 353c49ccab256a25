"""Finding 5: "This section is complete." goes when it stops being true, and is never carried
to another section."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.form.widgets import TextAdapter

from .conftest import OpenEditor, example


def test_the_complete_message_goes_after_an_error_and_stays_with_its_section(
    qtbot: QtBot, open_editor: OpenEditor,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    editor.check_section()
    assert editor.message.isVisible()
    assert editor.message.text() == "This section is complete."

    first = page.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    first.edit.setFocus()
    first.edit.selectAll()
    qtbot.keyClick(first.edit, Qt.Key.Key_Backspace)
    qtbot.waitUntil(page.summary.isVisible, timeout=5_000)
    assert not editor.message.isVisible()

    qtbot.keyClicks(first.edit, "Maya")
    qtbot.waitUntil(lambda: not page.summary.isVisible(), timeout=5_000)
    editor.check_section()
    assert editor.message.text() == "This section is complete."
    editor.show_section("about_me")
    assert not editor.message.isVisible()
    editor.show_section("child")
    editor.check_section()
    assert editor.message.isVisible()
    editor.show_check_answers()
    assert not editor.message.isVisible()
