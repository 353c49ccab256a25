"""Findings 3 and 4: Enter activates focused buttons and links in the main window, and the
error summary's links come straight after its heading in the Tab order (GOV.UK's pattern)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from ui.form.widgets import TextAdapter

from .conftest import PASSWORD, MakeWindow, OpenEditor, example, open_in_window, unlock_window


def press_enter(qtbot: QtBot, button: QPushButton) -> None:
    button.window().activateWindow()
    qtbot.waitUntil(button.window().isActiveWindow)
    button.setFocus(Qt.FocusReason.TabFocusReason)
    assert button.hasFocus()
    qtbot.keyClick(button, Qt.Key.Key_Return)


def test_enter_activates_focused_buttons_and_links_in_the_window(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    vault, _key = profiles.create("sam", PASSWORD)
    document = example("primary")
    document["answers"]["child"].pop("preferred_name", None)
    record_id, _ = Assessments(vault).create(document)
    vault.close()
    window = make_window()
    workspace = unlock_window(qtbot, window)

    # "New assessment" on the list opens its dialog.
    list_page = workspace.list_page
    press_enter(qtbot, list_page.new_button)
    qtbot.waitUntil(lambda: getattr(list_page, "dialog", None) is not None
                    and list_page.dialog.isVisible(), timeout=5_000)
    list_page.dialog.reject()
    qtbot.waitUntil(lambda: not list_page.dialog.isVisible())

    editor = open_in_window(qtbot, window, record_id)
    editor.show_section("child")
    page = editor.page
    assert page is not None
    # "Next: …" goes to the next section.
    press_enter(qtbot, page.next_button)
    assert editor.current_section != "child"

    # "Undo last change" undoes.
    editor.show_section("child")
    page = editor.page
    assert page is not None
    preferred = page.adapters["child.preferred_name"]
    assert isinstance(preferred, TextAdapter)
    qtbot.keyClicks(preferred.edit, "Mo")
    assert editor.undo_button.isEnabled()
    press_enter(qtbot, editor.undo_button)
    assert not editor.session.answers["child"].get("preferred_name")

    # An error-summary link moves the focus to its field.
    page = editor.page  # undo rebuilt the section's page
    assert page is not None
    first = page.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    first.edit.setFocus()
    first.edit.selectAll()
    qtbot.keyClick(first.edit, Qt.Key.Key_Backspace)
    assert not editor.session.answers["child"].get("first_name")
    editor.check_section()
    assert page.summary.entries
    entry = next(e for e in page.summary.entries if e.property("path") == "child.first_name")
    press_enter(qtbot, entry)
    assert QApplication.focusWidget() is first.edit

    # A "Change" link on Check your answers goes back to the answer.
    editor.show_check_answers()
    link = next(link for link in editor.check_page.change_links
                if link.property("path") == "child.last_name")
    press_enter(qtbot, link)
    assert editor.current_section == "child"
    last = editor.page.adapters["child.last_name"] if editor.page else None
    assert isinstance(last, TextAdapter)
    assert QApplication.focusWidget() is last.edit


def test_the_error_summary_links_follow_its_heading(
    qtbot: QtBot, vault: Vault, open_editor: OpenEditor,
) -> None:
    primary = example("primary")
    editor = open_editor({"form": primary["form"], "form_version": primary["form_version"],
                          "answers": {}})
    page = editor.show_section("child")
    assert page is not None
    editor.check_section()
    assert len(page.summary.entries) >= 2
    assert page.summary.title.hasFocus()
    for entry in page.summary.entries:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is entry
