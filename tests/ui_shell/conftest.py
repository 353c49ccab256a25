"""Fixtures for the application shell: a data folder per test, a shown window, the app's look kept.

Every window gets the fast key-derivation cost, so creating and unlocking take milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.profiles import Profiles
from tests.conftest import NewProfile
from tests.qt_window import (
    MakeWindow,
    kept_application_look,
    unlock_with_password,
    window_factory,
)
from ui.main_window import MainWindow

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def keep_the_application_look(qapp: QApplication) -> Iterator[None]:
    """The View menu changes the application's font, palette and stylesheet: put them back."""
    yield from kept_application_look(qapp)


@pytest.fixture
def shell_dir(data_dir: Path) -> Path:
    """The test's data folder (tests/conftest.py's `data_dir`), under the shell's old name."""
    return data_dir


@pytest.fixture
def make_window(qtbot: QtBot, shell_dir: Path, profiles: Profiles) -> Iterator[MakeWindow]:
    """A shown, active MainWindow on the test's data folder (closed at the end)."""
    yield from window_factory(qtbot, shell_dir, profiles)


Unlock = Callable[[MainWindow], None]


@pytest.fixture
def unlock(qtbot: QtBot) -> Unlock:
    """Type the password in the unlock page and press Enter; wait for the workspace."""

    def run(window: MainWindow, password: str = PASSWORD) -> None:
        assert window.current_page is window.unlock_page
        unlock_with_password(qtbot, window, password)

    return run


@pytest.fixture
def make_profile(
    profiles: Profiles, new_profile: NewProfile,
) -> Callable[[str], None]:
    def make(name: str = "alex") -> None:
        vault, _key = new_profile(profiles, name)
        vault.close()

    return make
