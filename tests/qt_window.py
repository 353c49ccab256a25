"""Test helpers shared by the window-level suites (tests/ui_a11y, tests/ui_shell).

One copy of what both need: the application's look put back after a test, and a factory of
shown, active MainWindows on a test's data folder that are closed and deleted at the end.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from desktop.vault import Vault
from ui.form.editor import AssessmentEditor
from ui.main_window import MainWindow
from ui.tasks import TaskRunner

MakeWindow = Callable[..., MainWindow]


def kept_application_look(qapp: QApplication) -> Iterator[None]:
    """Some tests change the application's font, palette or stylesheet (the View menu does):
    put them back. Use as the body of an autouse fixture."""
    font, palette, sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()
    yield
    # Only what changed: setting each again re-polishes every widget (a tenth of a second).
    if qapp.font() != font:
        qapp.setFont(font)
    if qapp.palette() != palette:
        qapp.setPalette(palette)
    if qapp.styleSheet() != sheet:
        qapp.setStyleSheet(sheet)


def window_factory(qtbot: QtBot, data_dir: Path, profiles: Profiles) -> Iterator[MakeWindow]:
    """A maker of shown, active MainWindows on `data_dir` (closed at the end). Every window
    gets the fast key-derivation cost, so creating and unlocking take milliseconds. Use as the
    body of a fixture."""
    made: list[MainWindow] = []

    def make(**kwargs: object) -> MainWindow:
        options: dict[str, object] = {"kdf": FAST_KDF, "autosave_ms": 40}
        options.update(kwargs)
        window = MainWindow(profiles.names(), data_dir, **options)  # type: ignore[arg-type]
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


def unlock_with_password(qtbot: QtBot, window: MainWindow, password: str) -> None:
    """Type the password in the window's unlock page, press Enter, wait for the workspace."""
    page = window.unlock_page
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, password)
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    # The session is built in steps after the key is derived: wait for the last.
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)


def editor_opener(qtbot: QtBot, vault: Vault, tasks: TaskRunner,
                  ) -> Callable[[dict[str, Any] | str], AssessmentEditor]:
    """Open an assessment (by id, or store a document first) in a shown, active editor."""

    def opener(document: dict[str, Any] | str) -> AssessmentEditor:
        if isinstance(document, str):
            record_id = document
        else:
            record_id, _revision = Assessments(vault).create(copy.deepcopy(document))
        editor = AssessmentEditor(tasks, Assessments(vault).get(record_id), autosave_ms=40)
        qtbot.addWidget(editor)
        editor.resize(1280, 900)
        editor.show()
        qtbot.waitExposed(editor)
        editor.activateWindow()
        qtbot.waitUntil(editor.isActiveWindow)
        return editor

    return opener
