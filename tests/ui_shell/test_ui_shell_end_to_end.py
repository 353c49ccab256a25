"""The issue's path through the real window: create a profile, fill, quit, unlock, finalise, PDF."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.profiles import Profiles
from ui.form.editor import AssessmentEditor
from ui.form.widgets import TextAdapter
from ui.main_window import MainWindow
from ui.tasks import emit
from ui.workspace import Workspace

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples" / "2.0.0"  # the version a new assessment uses
WRONG_UPN = "M204123416009"  # the check letter does not match


def editor_tests() -> ModuleType:
    """The form editor tests' Filler (it types answers into the real widgets)."""
    path = ROOT / "tests" / "ui_form" / "editor_filler.py"
    spec = importlib.util.spec_from_file_location("ui_form_editor_tests", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def create_profile_through_the_widgets(qtbot: QtBot, window: MainWindow) -> Workspace:
    page = window.create_page
    qtbot.keyClicks(page.name_edit, "Sam Taylor")
    qtbot.keyClicks(page.password_edit, PASSWORD)
    qtbot.keyClicks(page.confirm_edit, PASSWORD)
    with qtbot.waitSignal(page.created, timeout=10_000):
        qtbot.keyClick(page.confirm_edit, Qt.Key.Key_Return)
    recovery = window.recovery_page
    qtbot.mouseClick(recovery.confirm_box, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(recovery.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)  # built in steps
    workspace = window.workspace
    assert workspace is not None
    return workspace


def new_assessment(qtbot: QtBot, workspace: Workspace, child: dict[str, Any]) -> AssessmentEditor:
    """New assessment: type who it is for into the list page's dialog, create, get the editor."""
    workspace.new_action.trigger()
    qtbot.waitUntil(lambda: workspace.list_page.dialog is not None
                    and workspace.list_page.dialog.isVisible(), timeout=10_000)
    dialog = workspace.list_page.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.first_name, child["first_name"])
    qtbot.keyClicks(dialog.last_name, child["last_name"])
    year, month, day = child["date_of_birth"].split("-")
    qtbot.keyClicks(dialog.date_of_birth, f"{day}/{month}/{year}")
    qtbot.keyClicks(dialog.upn, child["upn"])
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: workspace.editor is not None, timeout=10_000)
    editor = workspace.editor
    assert editor is not None
    return editor


def test_create_fill_quit_unlock_check_finalise_and_pdf(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, profiles: Profiles, tmp_path: Path,
    pdf_text: Callable[[Path], str],
) -> None:
    window = make_window()
    workspace = create_profile_through_the_widgets(qtbot, window)
    # Fill a primary-phase child's answers through the widgets.
    source = example("primary")
    editor = new_assessment(qtbot, workspace, source["answers"]["child"])
    assert editor.document()["answers"]["child"]["first_name"] == source["answers"]["child"][
        "first_name"]
    fill = editor_tests().Filler(qtbot, editor, source)
    for _pass in range(2):  # some questions show only after a later section's answer
        for section in editor.session.definition.sections:
            if editor.session.is_visible(section.id):
                fill.fill_section(section.id)
    assert editor.session.is_complete, editor.session.problems[:5]

    # A wrong UPN shows in the error summary; its entry moves the focus to the field.
    window.activateWindow()  # the choice lists' pop-ups may have taken the activation
    qtbot.waitUntil(window.isActiveWindow)
    page = editor.show_section("child")
    assert page is not None
    upn = page.adapters["child.upn"]
    assert isinstance(upn, TextAdapter)
    right_upn = upn.edit.text()
    upn.edit.clear()
    qtbot.keyClicks(upn.edit, WRONG_UPN)
    qtbot.waitUntil(lambda: any(e.property("path") == "child.upn"
                                for e in page.summary.entries), timeout=10_000)
    (entry,) = [e for e in page.summary.entries if e.property("path") == "child.upn"]
    entry.setFocus()
    qtbot.keyClick(entry, Qt.Key.Key_Space)
    assert focused() is upn.edit
    upn.edit.clear()
    qtbot.keyClicks(upn.edit, right_upn)
    assert editor.session.is_complete

    # Autosave, then quit.
    qtbot.waitUntil(lambda: editor.save_state == "saved" and not workspace.tasks.busy,
                    timeout=10_000)
    record_id = editor.record_id
    answers = copy.deepcopy(editor.session.answers)
    window.close()
    assert window.vault is None

    # Start again, unlock: everything is there.
    again = make_window()
    assert again.current_page is again.unlock_page
    unlock(again)
    workspace = again.workspace
    assert workspace is not None
    emit(workspace.list_page.open_requested, record_id)
    qtbot.waitUntil(lambda: workspace.editor is not None, timeout=10_000)
    editor = workspace.editor
    assert editor is not None
    assert editor.session.answers == answers
    page = editor.show_section("child")
    assert page is not None
    first = page.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    assert first.edit.text() == source["answers"]["child"]["first_name"]

    # Check answers, finalise.
    editor.show_check_answers()
    confirm = editor.check_page.confirm
    button = editor.check_page.finalise_button
    assert confirm is not None
    assert button is not None
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.finalised, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert editor.read_only

    # The family's PDF: the child's name, never the UPN.
    target = tmp_path / "family copy.pdf"
    with qtbot.waitSignal(editor.pdf_exported, timeout=20_000):
        editor.export_pdf(target)
    assert target.read_bytes().startswith(b"%PDF")
    text = pdf_text(target)
    assert "Maya Example" in text
    assert right_upn not in text.replace(" ", "")
