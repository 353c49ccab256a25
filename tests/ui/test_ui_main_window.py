"""The main window: what it says, with and without profiles, and how it closes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QListWidget, QMenu
from pytestqt.qtbot import QtBot

from ui.app import app_icon, run_app, stylesheet
from ui.main_window import CREATE_PROFILE_COMMAND, MainWindow

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def shown(qtbot: QtBot, profile_names: list[str], data_dir: Path | None = None) -> MainWindow:
    window = MainWindow(profile_names, data_dir)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    return window


def test_lists_the_profiles_in_order(qtbot: QtBot, tmp_path: Path) -> None:
    names = ["alex", "Sam O'Neill", "<b>Zoë</b>"]
    window = shown(qtbot, names, tmp_path)
    page = window.welcome_page

    assert window.windowTitle() == "OneSEND"
    assert page.profile_list is not None
    assert [page.profile_list.item(row).text() for row in range(page.profile_list.count())] == names
    assert page.profile_list.isVisible()
    assert page.profile_list.accessibleName() == "Profiles on this computer"
    assert page.empty_state is None
    assert page.create_command is None


def test_says_there_are_no_profiles_and_how_to_create_one(qtbot: QtBot, tmp_path: Path) -> None:
    window = shown(qtbot, [], tmp_path)
    page = window.welcome_page

    assert page.profile_list is None
    assert page.empty_state is not None
    assert page.empty_state.isVisible()
    assert "no profiles on this computer yet" in page.empty_state.text()
    assert page.create_command is not None
    assert page.create_command.text() == CREATE_PROFILE_COMMAND
    assert CREATE_PROFILE_COMMAND == "onesend profile create NAME --password-stdin"
    # The command can be selected and copied from the keyboard as well as the mouse.
    flags = page.create_command.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
    assert page.create_command.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_says_what_the_app_is_for_and_where_profiles_are_kept(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window = shown(qtbot, [], tmp_path)
    page = window.welcome_page

    assert "SEND" in page.intro.text()
    assert "encrypted" in page.intro.text()
    assert page.data_folder is not None
    assert str(tmp_path) in page.data_folder.text()


def test_every_label_and_control_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    for names in ([], ["alex"]):
        window = shown(qtbot, names, tmp_path)
        assert window.accessibleName() == "OneSEND"
        for label in window.findChildren(QLabel):
            # A heading is read out by its own text; a paragraph by a short name.
            assert label.accessibleName() or label.text(), label.objectName()
        for control in window.findChildren(QListWidget):
            assert control.accessibleName(), control.objectName()


def test_quit_is_ctrl_q_in_the_file_menu_and_closes_the_window(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])

    action = window.quit_action
    assert action.shortcut() == QKeySequence("Ctrl+Q")
    assert action.menuRole() == action.MenuRole.QuitRole
    (file_menu,) = window.menuBar().findChildren(QMenu)
    assert file_menu.title() == "&File"
    assert action in file_menu.actions()

    action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_ctrl_q_from_the_keyboard_closes_the_window(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])
    with qtbot.waitActive(window):
        window.activateWindow()

    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    qtbot.waitUntil(lambda: not window.isVisible())


def test_headings_follow_the_system_font(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])
    heading = window.welcome_page.heading
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    original = app.font()
    assert heading.font().pointSizeF() > original.pointSizeF()
    assert heading.font().bold()
    try:
        larger = QFont(original)
        larger.setPointSizeF(original.pointSizeF() * 2)
        before = heading.font().pointSizeF()
        app.setFont(larger)
        qtbot.waitUntil(lambda: heading.font().pointSizeF() > before)
        assert window.welcome_page.intro.font().pointSizeF() == larger.pointSizeF()
    finally:
        app.setFont(original)


def test_the_stylesheet_and_the_icon_load_from_resources(qapp: QApplication) -> None:
    del qapp  # a QPixmap needs the application
    assert "#commandHint" in stylesheet()
    icon = app_icon()
    assert not icon.isNull()
    assert {size.width() for size in icon.availableSizes()} >= {16, 32, 256}


def test_run_app_shows_the_window_and_returns_the_exit_code(
    qapp: QApplication, tmp_path: Path
) -> None:
    seen: list[list[str]] = []

    def close_main_windows() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)
                   and w.isVisible()]
        page = windows[0].welcome_page
        assert page.profile_list is not None
        seen.append([page.profile_list.item(i).text() for i in range(page.profile_list.count())])
        for window in windows:
            window.quit_action.trigger()

    # If the window never closed, stop the loop anyway (and fail) rather than hang the suite.
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(lambda: qapp.exit(3))
    safety.start(10_000)
    QTimer.singleShot(0, close_main_windows)
    try:
        code = run_app(tmp_path, ["alex", "sam"])
    finally:
        safety.stop()
    assert code == 0
    assert seen == [["alex", "sam"]]
