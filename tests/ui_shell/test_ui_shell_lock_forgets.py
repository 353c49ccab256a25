"""Locking forgets: the clipboard we filled, the keys, the list's rows; no core dumps."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from ui.clipboard_guard import ClipboardGuard
from ui.main_window import MainWindow

PASSWORD = "correct horse battery staple"
CHILD = "Quillonyx"
MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]


def test_lock_clears_our_clipboard_and_drops_keys_and_rows(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, profiles: Profiles,
) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        Assessments(vault).create({"form": "national-send-assessment", "form_version": "1.0.0",
                                   "answers": {"child": {"first_name": CHILD}}})
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    page = workspace.list_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert window.vault is not None
    cipher = window.vault.cipher
    # The user types the child's name in the search box and copies it (Ctrl+C).
    qtbot.keyClicks(page.search, CHILD)
    page.search.selectAll()
    page.search.copy()
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == CHILD

    window.lock()
    assert clipboard.text() == ""
    assert cipher.forgotten
    assert page.model.rows == []
    assert page.model.rowCount() == 0
    assert page.search.text() == ""
    unlock(window)  # and everything comes back
    qtbot.waitUntil(lambda: window.workspace is not None
                    and window.workspace.list_page.model.rowCount() == 1, timeout=10_000)


def test_what_another_application_copied_is_left_alone(qtbot: QtBot, qapp: QApplication) -> None:
    assert QApplication.activeWindow() is None  # none of our windows is active
    guard = ClipboardGuard()
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("copied in another application")
    guard.clear_ours()
    assert clipboard.text() == "copied in another application"
    clipboard.clear()
    del qtbot


def test_the_app_process_cannot_dump_core(tmp_path: Path) -> None:
    """The real entry point (the `onesend` command, which also opens the window)."""
    code = (
        "import resource, sys\n"
        "from app import cli\nfrom desktop import hardening\n"
        "sys.argv = ['onesend', 'profile', 'list']\n"
        "cli.main()\n"
        "print(resource.getrlimit(resource.RLIMIT_CORE), hardening.dumpable())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
    env.update(ONESEND_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "(0, 0) 0"
