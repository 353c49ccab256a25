"""The main window: its first page, its menus, how it closes, and run_app."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
)
from pytestqt.qtbot import QtBot

from desktop.crypto import FAST_KDF
from ui.app import app_icon, run_app, stylesheet
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def shown(qtbot: QtBot, profile_names: list[str], data_dir: Path | None = None) -> MainWindow:
    window = MainWindow(profile_names, data_dir, kdf=FAST_KDF)
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    return window


def test_first_run_shows_create_profile_later_runs_the_unlock_page(
    qtbot: QtBot, tmp_path: Path,
) -> None:
    first = shown(qtbot, [], tmp_path)
    assert first.windowTitle() == "OneSEND"
    assert first.current_page is first.create_page
    later = shown(qtbot, ["alex", "Sam O'Neill", "<b>Zoë</b>"], tmp_path)
    assert later.current_page is later.unlock_page
    combo = later.unlock_page.profile_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "alex", "Sam O'Neill", "<b>Zoë</b>"]
    assert combo.currentText() == "alex"


def test_every_input_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    for names in ([], ["alex"]):
        window = shown(qtbot, names, tmp_path)
        assert window.accessibleName() == "OneSEND"
        for kind in (QLineEdit, QComboBox, QCheckBox, QAbstractButton):
            for control in window.findChildren(kind):
                if control.objectName().startswith("qt_") or isinstance(
                        control.parent(), QComboBox):
                    continue  # Qt's own parts (the menu bar's overflow, a combo's line edit)
                assert control.accessibleName(), control.objectName()
        for label in window.findChildren(QLabel):
            assert label.accessibleName() or label.text(), label.objectName()


def test_quit_is_ctrl_q_in_the_file_menu_and_closes_the_window(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])
    action = window.quit_action
    assert action.shortcut() == QKeySequence("Ctrl+Q")
    assert action.menuRole() == action.MenuRole.QuitRole
    menus = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File"]
    assert len(menus) == 1
    assert action in menus[0].actions()
    action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_ctrl_q_from_the_keyboard_closes_the_window(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_pages_follow_the_system_font(qtbot: QtBot) -> None:
    window = shown(qtbot, ["alex"])
    page = window.unlock_page
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    original = app.font()
    try:
        larger = QFont(original)
        larger.setPointSizeF(original.pointSizeF() * 2)
        before = page.heading.sizeHint().height()
        app.setFont(larger)
        qtbot.waitUntil(lambda: page.heading.sizeHint().height() > before)
        assert page.password_edit.font().pointSizeF() == larger.pointSizeF()
    finally:
        app.setFont(original)


def test_the_stylesheet_and_the_icon_load_from_resources(qapp: QApplication) -> None:
    del qapp  # a QPixmap needs the application
    assert "#commandHint" in stylesheet()
    assert ":focus" in stylesheet()
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
        combo = windows[0].unlock_page.profile_combo
        seen.append([combo.itemText(i) for i in range(combo.count())])
        for window in windows:
            window.quit_action.trigger()

    # If the window never closed, stop the loop anyway (and fail) rather than hang the suite.
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(lambda: qapp.exit(3))
    safety.start(10_000)
    QTimer.singleShot(0, close_main_windows)
    try:
        code = run_app(tmp_path, ["alex", "sam"], install_crash_hooks=False)
    finally:
        safety.stop()
    assert code == 0
    assert seen == [["alex", "sam"]]
