"""The window against issue 15: a draft on an unknown form, and weak passwords refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]
EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def test_a_draft_on_an_unknown_form_says_so_in_one_sentence_and_is_kept(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    document = example("primary")
    document["form"], document["form_version"] = "retired-local-form", "9.9.9"
    record_id = workspace.tasks.run_db(
        lambda vault: Assessments(vault).create(document)[0]).result(10)
    workspace.refresh()
    with qtbot.waitSignal(workspace.failed, timeout=10_000) as said:
        workspace.open_assessment(record_id)
    sentence = said.args[0] if said.args else ""
    assert "'retired-local-form' version '9.9.9'" in sentence
    assert "kept unchanged" in sentence
    assert workspace.editor is None
    assert workspace.stack.currentWidget() is workspace.list_page
    stored = workspace.tasks.run_db(lambda vault: Assessments(vault).get(record_id)).result(10)
    assert stored["answers"] == document["answers"]
    # A known one still opens afterwards.
    other = workspace.tasks.run_db(
        lambda vault: Assessments(vault).create(example("primary"))[0]).result(10)
    workspace.open_assessment(other)
    qtbot.waitUntil(lambda: workspace.editor is not None, timeout=10_000)


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "1234567890", "password12", " " * 10])
def test_the_create_page_refuses_a_weak_password_and_its_feedback_agrees(
    qtbot: QtBot, make_window: MakeWindow, weak: str,
) -> None:
    window = make_window()
    page = window.create_page
    qtbot.keyClicks(page.name_edit, "Sam Taylor")
    qtbot.keyClicks(page.password_edit, weak)
    assert page.strength.text().startswith("✗ That password is too easy to guess")
    assert "three random words" in page.strength.text()
    qtbot.keyClicks(page.confirm_edit, weak)
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    assert "three random words" in page.message.text()
    assert window.current_page is page
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, "orange piano lighthouse")
    assert page.strength.text() == "✓ Strong enough."
