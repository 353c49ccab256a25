"""The window's session tools: import from the school's file, and the sync area."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ctf"))
from ctf_generator import make_pupils, render

MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]


def test_import_from_school_file_creates_drafts_and_the_list_shows_them(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, make_profile: Callable[[], None],
    tmp_path: Path,
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    assert window.import_action in workspace.toolbar.actions()
    assert window.sync_action in workspace.toolbar.actions()

    school_file = tmp_path / "school.xml"
    school_file.write_bytes(render(make_pupils(12, seed=3)))
    window.import_action.trigger()
    dialog = window.import_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    dialog.load_file(school_file)
    qtbot.waitUntil(lambda: dialog.state == "previewing", timeout=10_000)
    with qtbot.waitSignal(workspace.list_page.loaded, timeout=10_000):
        dialog.start_import()
    qtbot.waitUntil(lambda: workspace.list_page.model.rowCount() == 12, timeout=10_000)


def test_the_sync_area_toggles_and_stops_with_the_session(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, make_profile: Callable[[], None],
) -> None:
    make_profile()
    window = make_window()
    unlock(window)
    qtbot.waitUntil(lambda: window.sync_panel is not None)  # made just after the list
    dock, panel = window.sync_dock, window.sync_panel
    assert dock is not None
    assert panel is not None
    assert not dock.isVisible()
    window.sync_action.trigger()
    qtbot.waitUntil(dock.isVisible)
    assert window.sync_action.isChecked()
    window.sync_action.trigger()
    qtbot.waitUntil(lambda: not dock.isVisible())

    window.lock()
    QApplication.processEvents()
    assert window.sync_panel is None
    assert window.sync_dock is None
    assert window.workspace is None


def test_the_sync_area_uses_the_administrators_network_settings(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, make_profile: Callable[[], None],
    shell_dir: Path, tmp_path: Path,
) -> None:
    ca = tmp_path / "school-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    make_profile()
    (shell_dir / "network.json").write_text(
        json.dumps({"ca_bundle": str(ca), "proxy": "http://proxy.school.example:3128"}))
    window = make_window()
    unlock(window)
    qtbot.waitUntil(lambda: window.sync_panel is not None)  # made just after the list
    panel = window.sync_panel
    assert panel is not None
    assert panel.settings is not None
    assert panel.settings.ca_bundle == ca
    assert panel.settings.proxy == "http://proxy.school.example:3128"
