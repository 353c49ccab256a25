"""The window never holds more than an answer's bound (issue 15), through real widgets.

A record saved before the bounds existed may hold a 10 MB name: the editor shows what fits,
says so, and the process does not grow by more than a few tens of megabytes (it grew to
23.7 GB before). Typing and pasting stop at the bound.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt
from pytestqt.qtbot import QtBot

import desktop.assessments
from desktop.assessments import Assessments
from desktop.vault import Vault
from forms.bounds import CODE_CHARS, GENERIC_CHARS, SHORT_CHARS
from ui.form.editor import TITLE_CHARS, AssessmentEditor
from ui.form.widgets import LongTextAdapter, TextAdapter
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")
EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def rss_mib() -> float:
    with Path("/proc/self/statm").open(encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


def _open(qtbot: QtBot, tasks: TaskRunner, vault: Vault, record_id: str) -> AssessmentEditor:
    editor = AssessmentEditor(tasks, Assessments(vault).get(record_id), autosave_ms=40)
    qtbot.addWidget(editor)
    editor.resize(1280, 900)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_a_stored_name_far_past_its_bound_is_shown_cut_with_a_note_in_bounded_memory(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = example("primary")
    document["answers"]["child"]["first_name"] = "A" * 10_000_000
    document["answers"]["about_me"]["interests"] = "b" * (GENERIC_CHARS * 5)
    # Stored as an older OneSEND (with no bounds) would have stored it.
    monkeypatch.setattr(desktop.assessments, "check_document_bounds",
                        lambda *args, **kwargs: None)
    record_id, _ = Assessments(vault).create(copy.deepcopy(document))
    monkeypatch.undo()
    del document

    before = rss_mib()
    editor = _open(qtbot, tasks, vault, record_id)
    page = editor.show_section("child")
    assert page is not None
    name = page.adapters["child.first_name"]
    assert isinstance(name, TextAdapter)
    assert len(name.edit.text()) <= SHORT_CHARS
    about = editor.show_section("about_me")
    assert about is not None
    interests = about.adapters["about_me.interests"]
    assert isinstance(interests, LongTextAdapter)
    assert len(interests.edit.toPlainText()) == GENERIC_CHARS
    qtbot.wait(50)
    grown = rss_mib() - before
    # The record itself is ~10 MB as text; the window must not multiply it.
    assert grown < 150, f"opening the record grew the process by {grown:.0f} MiB"

    assert editor.bounds_note.isVisible()
    note = editor.bounds_note.text()
    assert "child.first_name" in note
    assert "about_me.interests" in note
    assert "History" in note
    assert len(editor.title_label.text()) <= TITLE_CHARS
    assert editor.width() <= 1280  # a long name never widens the window

    # History's viewer (a text layout) gets the revision cut to its bounds, with a note.
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    editor.history.table.selectRow(0)
    with qtbot.waitSignal(editor.history.viewed, timeout=10_000):
        qtbot.mouseClick(editor.history.view_button, Qt.MouseButton.LeftButton)
    shown = editor.history.viewer.toPlainText()
    note = shown.splitlines()[0]
    assert note.startswith("Shown shortened to OneSEND's bounds:")
    assert "child.first_name" in note
    assert len(shown) < 3 * GENERIC_CHARS
    grown = rss_mib() - before
    assert grown < 200, f"viewing the revision grew the process by {grown:.0f} MiB"

    # The stored revision is untouched: it still holds the whole name.
    stored = Assessments(vault).get(record_id)
    assert len(stored["answers"]["child"]["first_name"]) == 10_000_000


def test_a_name_at_its_bound_opens_whole_and_the_title_is_short(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner,
) -> None:
    document = example("primary")
    document["answers"]["child"]["first_name"] = "N" * SHORT_CHARS
    record_id, _ = Assessments(vault).create(document)
    editor = _open(qtbot, tasks, vault, record_id)
    assert not editor.bounds_note.isVisible()
    assert editor.session.answers["child"]["first_name"] == "N" * SHORT_CHARS
    assert len(editor.title_label.text()) == TITLE_CHARS
    assert editor.width() <= 1280


def test_pasting_and_typing_stop_at_the_bound(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner,
) -> None:
    record_id, _ = Assessments(vault).create(example("primary"))
    editor = _open(qtbot, tasks, vault, record_id)
    page = editor.show_section("about_me")
    assert page is not None
    adapter = page.adapters["about_me.interests"]
    assert isinstance(adapter, LongTextAdapter)
    adapter.edit.selectAll()
    pasted = QMimeData()
    pasted.setText("p" * (GENERIC_CHARS * 3))
    adapter.edit.insertFromMimeData(pasted)
    assert len(adapter.edit.toPlainText()) == GENERIC_CHARS
    qtbot.keyClicks(adapter.edit, "more")
    assert len(adapter.edit.toPlainText()) == GENERIC_CHARS
    assert editor.flush()
    saved = Assessments(vault).get(record_id)
    assert saved["answers"]["about_me"]["interests"] == "p" * GENERIC_CHARS

    child = editor.show_section("child")
    assert child is not None
    upn = child.adapters["child.upn"]
    assert isinstance(upn, TextAdapter)
    assert upn.edit.maxLength() == CODE_CHARS
    first = child.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    assert first.edit.maxLength() <= SHORT_CHARS
