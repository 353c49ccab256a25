"""Finding 14: a long answer's box grows with its text (to a limit), wrapped lines counted,
so what the family said can be read back without scrolling inside a small box."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.form.widgets import LongTextAdapter

from .conftest import OpenEditor, example

SAID = ("He likes the quiet corner of the library at lunchtime, where he can read about "
        "trains and draw maps of the lines he has been on with his grandad. ")


def test_a_long_answer_box_grows_with_its_wrapped_text(
    qtbot: QtBot, open_editor: OpenEditor,
) -> None:
    document = example("primary")
    document["answers"]["about_me"]["interests"] = "Trains."
    editor = open_editor(document)
    page = editor.show_section("about_me")
    assert page is not None
    adapter = page.adapters["about_me.interests"]
    assert isinstance(adapter, LongTextAdapter)
    box = adapter.edit
    line = box.fontMetrics().lineSpacing()
    short = box.height()
    assert short < line * 5
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.End)
    box.insertPlainText(SAID * 8)  # pasted: one paragraph, wrapped lines, no line breaks
    qtbot.waitUntil(lambda: box.height() > line * 6, timeout=3_000)
    # Every line of it is on show: nothing to scroll inside the box.
    qtbot.waitUntil(lambda: box.verticalScrollBar().maximum() == 0, timeout=3_000)
    # Wider, it needs fewer lines, and it shrinks again.
    tall = box.height()
    editor.resize(1900, 900)
    qtbot.waitUntil(lambda: box.height() < tall, timeout=3_000)
    # To a limit: a very long answer scrolls inside a box of at most about 14 lines.
    box.insertPlainText(SAID * 30)
    qtbot.waitUntil(lambda: box.verticalScrollBar().maximum() > 0, timeout=3_000)
    assert box.height() <= line * 16
