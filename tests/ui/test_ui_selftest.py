"""open_and_close_window(): the window half of `onesend self-test`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow
from ui.selftest import check_text_services, open_and_close_window

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def visible_main_windows(app: QApplication) -> list[MainWindow]:
    return [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_opens_and_closes_the_window_in_the_running_application(qapp: QApplication) -> None:
    open_and_close_window()

    assert not visible_main_windows(qapp)
    # Closing its window did not quit the application it borrowed.
    assert QApplication.instance() is qapp


def test_a_window_that_never_shows_is_an_error(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MainWindow, "show", lambda self: None)

    with pytest.raises(RuntimeError, match=r"window was not shown within 0\.05 s"):
        open_and_close_window(timeout_ms=50)
    assert not visible_main_windows(qapp)


def test_creates_its_own_application_in_a_fresh_process_and_prints_nothing() -> None:
    """As `onesend self-test` runs it: no QApplication yet, offscreen, no stray warnings."""
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "from ui.selftest import check_text_services, open_and_close_window\n"
        "assert QApplication.instance() is None\n"
        "open_and_close_window()\n"
        "app = QApplication.instance()\n"
        "assert app is not None and app.applicationName() == 'OneSEND', app\n"
        "assert app.organizationName() == 'OneSEND'\n"
        "assert not app.windowIcon().isNull()\n"
        "assert '#commandHint' in app.styleSheet()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""


def test_text_services_hold_with_this_qt(qapp: QApplication) -> None:
    """The self-test's ICU and text check passes on the Qt the project installs (the bundle's
    English-only ICU data is checked against it in tests/test_bundle.py)."""
    check_text_services()
