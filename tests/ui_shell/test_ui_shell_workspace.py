"""The workspace in the window: open an assessment, go back, lock and auto-lock, the lead's hook."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QToolButton
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from ui.form.editor import AssessmentEditor
from ui.main_window import IDLE_LOCKED_SENTENCE, MainWindow
from ui.workspace import Workspace

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def store(workspace: Workspace, document: dict[str, Any]) -> str:
    """A new assessment, written on the session's database thread."""
    doc = copy.deepcopy(document)
    return workspace.tasks.run_db(lambda vault: Assessments(vault).create(doc)[0]).result(10)


def opened(qtbot: QtBot, workspace: Workspace, record_id: str) -> AssessmentEditor:
    workspace.open_assessment(record_id)
    qtbot.waitUntil(lambda: workspace.editor is not None, timeout=10_000)
    editor = workspace.editor
    assert editor is not None
    assert editor.record_id == record_id
    return editor


def test_open_an_assessment_go_back_and_the_title_follows(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    record_id = store(workspace, example("primary"))
    editor = opened(qtbot, workspace, record_id)
    assert workspace.stack.currentWidget() is editor
    assert window.windowTitle() == "Maya Example"
    assert workspace.back_action.isVisible()
    with qtbot.waitSignal(workspace.list_page.loaded, timeout=10_000):
        workspace.back_action.trigger()  # the list reloads on the way back
    assert workspace.editor is None
    assert workspace.stack.currentWidget() is workspace.list_page
    assert window.windowTitle() == "OneSEND"
    assert not workspace.back_action.isVisible()


def test_the_lead_adds_actions_that_survive_a_lock(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    make_profile()
    window = make_window()
    sync = QAction("S&ync", window)
    window.add_workspace_action(sync)
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    assert sync in workspace.menu.actions()
    assert workspace.menu.actions().index(sync) < workspace.menu.actions().index(
        workspace.lock_action)
    button = workspace.toolbar.widgetForAction(sync)
    assert isinstance(button, QToolButton)
    assert button.isVisible()
    window.lock()
    unlock(window)
    assert window.workspace is not None
    assert window.workspace is not workspace
    assert sync in window.workspace.menu.actions()


def test_auto_lock_saves_what_was_typed_and_unlocking_reopens_it(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
    profiles: Profiles,
) -> None:
    make_profile()
    # Autosave far away: only the lock's own flush can have saved the last words typed.
    window = make_window(autosave_ms=600_000)
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    record_id = store(workspace, example("primary"))
    editor = opened(qtbot, workspace, record_id)
    page = editor.show_section("about_me")
    assert page is not None
    edit = page.adapters["about_me.interests"].primary()
    window.idle.set_timeout_ms(250)
    qtbot.keyClicks(edit, " And lego.")
    on_disk = workspace.tasks.run_db(lambda vault: Assessments(vault).get(record_id)).result(10)
    assert not on_disk["answers"]["about_me"]["interests"].endswith("And lego.")  # not yet
    with qtbot.waitSignal(window.locked, timeout=10_000):
        pass  # nobody touches anything: the idle watcher locks
    assert window.workspace is None
    assert window.vault is None
    assert window.current_page is window.unlock_page
    assert window.unlock_page.message.text() == IDLE_LOCKED_SENTENCE
    assert window.windowTitle() == "OneSEND"  # no child's name on a locked window

    unlock(window)
    again = window.workspace
    assert again is not None
    qtbot.waitUntil(lambda: again.editor is not None, timeout=10_000)  # back where it was
    assert again.editor is not None
    assert again.editor.record_id == record_id
    assert again.editor.current_section == "about_me"
    assert again.editor.session.answers["about_me"]["interests"].endswith("And lego.")
    window.close()

    vault = Profiles(profiles.data_dir, kdf=FAST_KDF).unlock("alex", PASSWORD)
    try:
        saved = Assessments(vault).get(record_id)
    finally:
        vault.close()
    assert saved["answers"]["about_me"]["interests"].endswith("And lego.")


def test_closing_the_window_saves_and_locks(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
    profiles: Profiles,
) -> None:
    make_profile()
    window = make_window(autosave_ms=600_000)
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    record_id = store(workspace, example("primary"))
    editor = opened(qtbot, workspace, record_id)
    page = editor.show_section("child")
    assert page is not None
    qtbot.keyClicks(page.adapters["child.preferred_name"].primary(), "May")
    vault = window.vault
    assert vault is not None
    window.close()
    assert window.vault is None
    assert workspace.tasks.closed
    with pytest.raises(Exception, match="locked"):
        _ = vault.cipher  # the keys are gone
    again = profiles.unlock("alex", PASSWORD)
    try:
        assert Assessments(again).get(record_id)["answers"]["child"]["preferred_name"] == "May"
    finally:
        again.close()


def test_a_missing_assessment_is_one_sentence(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    with qtbot.waitSignal(workspace.failed, timeout=10_000) as blocker:
        workspace.open_assessment("no-such-record")
    assert blocker.args == ["There is no assessment with id no-such-record."]
    assert workspace.editor is None


@pytest.mark.skipif(not os.environ.get("ONESEND_SCREENSHOTS"),
                    reason="set ONESEND_SCREENSHOTS=1 to refresh docs/screenshots")
def test_save_screenshots(qtbot: QtBot, make_window: MakeWindow) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window = make_window()
    window.resize(1100, 760)
    page = window.create_page
    qtbot.keyClicks(page.name_edit, "Sam Taylor")
    qtbot.keyClicks(page.password_edit, "short")
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    window.grab().save(str(SCREENSHOTS / "create-profile.png"))
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, PASSWORD)
    qtbot.keyClicks(page.confirm_edit, PASSWORD)
    with qtbot.waitSignal(page.created, timeout=10_000):
        qtbot.keyClick(page.confirm_edit, Qt.Key.Key_Return)
    window.recovery_page.key_label.setFocus()
    window.grab().save(str(SCREENSHOTS / "recovery-key.png"))
    window.recovery_page.confirm_box.setChecked(True)
    window.recovery_page.continue_button.click()
    qtbot.waitUntil(lambda: window.session_is_ready)
    window.lock()
    qtbot.keyClicks(window.unlock_page.password_edit, "not the password")
    qtbot.keyClick(window.unlock_page.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(window.unlock_page.message.isVisible, timeout=10_000)
    qtbot.waitUntil(lambda: window.unlock_page.message.text().startswith("Error"))
    window.grab().save(str(SCREENSHOTS / "unlock.png"))


def test_auto_lock_closes_an_open_dialog_first(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    dialog = QDialog(window)
    dialog.setModal(True)
    dialog.open()
    qtbot.waitUntil(dialog.isVisible)
    window.idle.set_timeout_ms(100)
    with qtbot.waitSignal(window.locked, timeout=10_000):
        pass
    assert not dialog.isVisible()
    assert window.current_page is window.unlock_page


def test_a_review_starts_from_the_open_assessment_with_its_outcomes_copied(
    qtbot: QtBot, make_window: MakeWindow, make_profile: Callable[[], None], unlock: Unlock,
) -> None:
    """Assessments → Start a review: a new draft, the previous outcomes copied (not retyped)."""
    make_profile()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    assert not workspace.review_action.isVisible()  # nothing open: nothing to review from
    previous = example("2.0.0/secondary")
    previous_id = store(workspace, previous)
    opened(qtbot, workspace, previous_id)
    assert workspace.review_action.isVisible()
    workspace.review_action.trigger()
    qtbot.waitUntil(lambda: workspace.editor is not None
                    and workspace.editor.record_id != previous_id, timeout=10_000)
    editor = workspace.editor
    assert editor is not None
    review = workspace.tasks.run_db(
        lambda vault: Assessments(vault).get(editor.record_id)).result(10)
    answers = review["answers"]
    assert review["form_version"] == "2.0.0"
    assert answers["assessment"]["kind"] == "annual_review"
    assert answers["child"] == previous["answers"]["child"]
    old_outcomes = [item["outcome"] for item in previous["answers"]["outcomes"]]
    assert old_outcomes  # the example has outcomes to carry forward
    assert [item["previous_outcome"] for item in answers["outcomes"]] == old_outcomes
    # The previous record is untouched.
    kept = workspace.tasks.run_db(lambda vault: Assessments(vault).get(previous_id)).result(10)
    assert kept["answers"] == previous["answers"]
