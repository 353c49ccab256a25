"""Finding 8: arrow keys in a radio group choose; no invisible Tab stop between the sidebar
and the section's heading; the list's Tab order follows the reading order."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.profiles import Profiles
from ui.form.widgets import YesNoAdapter

from .conftest import PASSWORD, MakeWindow, OpenEditor, example, unlock_window


def test_arrow_keys_choose_the_radio_they_move_to(qtbot: QtBot, open_editor: OpenEditor) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    looked_after = page.adapters["child.looked_after"]
    assert isinstance(looked_after, YesNoAdapter)
    yes, no = (button for _value, button in looked_after.radios.buttons)
    assert no.isChecked()  # the example says No
    no.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(no, Qt.Key.Key_Left)
    assert yes.hasFocus()
    assert yes.isChecked()
    assert editor.session.answers["child"]["looked_after"] is True
    qtbot.keyClick(yes, Qt.Key.Key_Right)
    assert no.hasFocus()
    assert editor.session.answers["child"]["looked_after"] is False
    qtbot.keyClick(no, Qt.Key.Key_Down)  # wraps round, as a browser does
    assert yes.isChecked()


def test_tab_goes_from_the_sidebar_straight_to_the_heading(
    qtbot: QtBot, open_editor: OpenEditor,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("about_me")
    assert page is not None
    editor.sections.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(editor.sections, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is page.heading


def test_the_list_tab_order_follows_the_reading_order(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    profiles.create("sam", PASSWORD)[0].close()
    window = make_window()
    workspace = unlock_window(qtbot, window)
    page = workspace.list_page
    qtbot.waitUntil(lambda: page.view.isVisible() or page.empty.isVisible(), timeout=10_000)
    page.stack.setCurrentWidget(page.view)
    page.new_button.setFocus(Qt.FocusReason.TabFocusReason)
    order = [QApplication.focusWidget()]
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [page.new_button, page.search, page.status_filter, page.view]
