"""The View menu (text size, high contrast, lock-after), the idle watcher and the start-up probe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.idle import IdleWatcher
from ui.main_window import MainWindow
from ui.theme import PREFERENCES_FILE, Preferences, next_text_scale, stylesheet

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MakeWindow = Callable[..., MainWindow]
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


def test_high_contrast_toggles_and_persists(
    qtbot: QtBot, make_window: MakeWindow, shell_dir: Path, qapp: QApplication,
) -> None:
    window = make_window()
    normal_window = qapp.palette().color(QPalette.ColorRole.Window)
    assert not window.high_contrast_action.isChecked()
    window.high_contrast_action.trigger()
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    assert qapp.palette().color(QPalette.ColorRole.WindowText).name() == "#ffffff"
    assert "High contrast" in qapp.styleSheet()
    saved = json.loads((shell_dir / PREFERENCES_FILE).read_text("utf-8"))
    assert saved["high_contrast"] is True
    window.close()

    again = make_window()
    assert again.high_contrast_action.isChecked()
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    again.high_contrast_action.trigger()
    assert qapp.palette().color(QPalette.ColorRole.Window) == normal_window
    assert "High contrast" not in qapp.styleSheet()


def test_text_size_grows_shrinks_resets_and_persists(
    qtbot: QtBot, make_window: MakeWindow, shell_dir: Path, qapp: QApplication,
) -> None:
    system = qapp.font().pointSizeF()
    window = make_window()
    page = window.create_page
    edit_height = page.name_edit.sizeHint().height()
    qtbot.keyClick(page.name_edit, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert qapp.font().pointSizeF() > system
    qtbot.waitUntil(lambda: page.name_edit.font().pointSizeF() > system)
    assert page.name_edit.sizeHint().height() > edit_height  # the page follows the font
    window.larger_text_action.trigger()
    bigger = qapp.font().pointSizeF()
    assert Preferences.load(shell_dir).text_scale > 1.1
    window.close()

    again = make_window()
    assert qapp.font().pointSizeF() == pytest.approx(bigger)
    qtbot.keyClick(again.create_page.name_edit, Qt.Key.Key_0,
                   Qt.KeyboardModifier.ControlModifier)
    assert qapp.font().pointSizeF() == pytest.approx(system)
    again.smaller_text_action.trigger()
    assert qapp.font().pointSizeF() < system
    assert Preferences.load(shell_dir).text_scale < 1


def test_text_scale_steps_stay_within_the_choices() -> None:
    assert next_text_scale(1.0, 1) == 1.1
    assert next_text_scale(2.0, 1) == 2.0
    assert next_text_scale(0.8, -1) == 0.8
    assert next_text_scale(1.02, -1) == 0.9


def test_no_fixed_font_sizes_in_the_stylesheets() -> None:
    for sheet in (stylesheet(), stylesheet(high_contrast=True)):
        assert "font-size" not in sheet
        assert ":focus" in sheet


def test_preferences_survive_damage_and_keep_no_surprises(shell_dir: Path) -> None:
    shell_dir.mkdir(parents=True)
    (shell_dir / PREFERENCES_FILE).write_text("{not json", "utf-8")
    assert Preferences.load(shell_dir) == Preferences()
    (shell_dir / PREFERENCES_FILE).write_text(
        json.dumps({"idle_minutes": -3, "text_scale": 99, "high_contrast": "yes"}), "utf-8")
    assert Preferences.load(shell_dir) == Preferences()


def test_lock_after_menu_sets_and_persists_the_idle_time(
    make_window: MakeWindow, shell_dir: Path,
) -> None:
    window = make_window()
    assert window.lock_after_actions[5].isChecked()  # the default
    assert window.idle.timeout_ms == 5 * 60_000
    window.lock_after_actions[15].trigger()
    assert window.idle.timeout_ms == 15 * 60_000
    assert Preferences.load(shell_dir).idle_minutes == 15
    window.close()
    again = make_window()
    assert again.lock_after_actions[15].isChecked()
    assert not again.lock_after_actions[5].isChecked()


def test_idle_watcher_fires_after_quiet_and_not_while_stopped(qtbot: QtBot) -> None:
    watcher = IdleWatcher(5)
    watcher.set_timeout_ms(30)
    with qtbot.assertNotEmitted(watcher.timed_out, wait=80):
        pass  # not started: never fires
    with qtbot.waitSignal(watcher.timed_out, timeout=5_000):
        watcher.start()
    watcher.stop()
    assert not watcher.running


def test_startup_probe_prints_and_quits(shell_dir: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ONESEND_STARTUP_PROBE": "1",
           "ONESEND_DATA_DIR": str(shell_dir)}
    code = ("import sys; from pathlib import Path; from ui.app import run_app; "
            f"sys.exit(run_app(Path({str(shell_dir)!r}), []))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "startup-probe: shown"


def test_window_refuses_nothing_without_a_data_folder(qtbot: QtBot) -> None:
    """The self-test opens the window with no data folder: it shows the unlock page."""
    window = MainWindow(["self-test"])
    qtbot.addWidget(window)
    assert window.current_page is window.unlock_page
    assert window.unlock_page.profile == "self-test"
    window.close()

