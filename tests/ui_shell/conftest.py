"""Fixtures for the application shell: a data folder per test, a shown window, the app's look kept.

Every window gets the fast key-derivation cost, so creating and unlocking take milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from ui.main_window import MainWindow

PASSWORD = "correct horse battery staple"

MakeWindow = Callable[..., MainWindow]


@pytest.fixture(autouse=True)
def keep_the_application_look(qapp: QApplication) -> Iterator[None]:
    """The View menu changes the application's font, palette and stylesheet: put them back."""
    font, palette, sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()
    yield
    qapp.setFont(font)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


@pytest.fixture
def shell_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "onesend-data"
    monkeypatch.setenv("ONESEND_DATA_DIR", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder


@pytest.fixture
def profiles(shell_dir: Path) -> Profiles:
    return Profiles(shell_dir, kdf=FAST_KDF)


@pytest.fixture
def make_window(qtbot: QtBot, shell_dir: Path, profiles: Profiles) -> Iterator[MakeWindow]:
    """A shown, active MainWindow on the test's data folder (closed at the end)."""
    made: list[MainWindow] = []

    def make(**kwargs: object) -> MainWindow:
        options: dict[str, object] = {"kdf": FAST_KDF, "autosave_ms": 40}
        options.update(kwargs)
        window = MainWindow(profiles.names(), shell_dir, **options)  # type: ignore[arg-type]
        qtbot.addWidget(window)
        made.append(window)
        window.resize(1280, 900)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        # A dialog the window opens at start (a crash report offer) may take the activation.
        qtbot.waitUntil(lambda: window.isActiveWindow()
                        or QApplication.activeModalWidget() is not None)
        return window

    yield make
    for window in made:
        window.leave_without_recovery_key = True  # a test may end with the key on screen
        window.close()
        # Gone, not just hidden: a later test's change of the application's look would
        # otherwise re-polish this window's widgets too.
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)



Unlock = Callable[[MainWindow], None]


@pytest.fixture
def unlock(qtbot: QtBot) -> Unlock:
    """Type the password in the unlock page and press Enter; wait for the workspace."""

    def run(window: MainWindow, password: str = PASSWORD) -> None:
        page = window.unlock_page
        assert window.current_page is page
        page.password_edit.clear()
        qtbot.keyClicks(page.password_edit, password)
        qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.workspace is not None, timeout=10_000)

    return run


@pytest.fixture
def make_profile(profiles: Profiles) -> Callable[[str], None]:
    def make(name: str = "alex") -> None:
        vault, _key = profiles.create(name, PASSWORD)
        vault.close()

    return make
