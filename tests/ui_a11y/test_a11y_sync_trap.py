"""Finding 1: the sync area's records table is no keyboard trap; a wrong code keeps the focus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from sync.http import ApiSettings
from sync.server import Faults, ServerConfig, ServerThread
from ui.sync_panel import SyncPanel
from ui.tasks import TaskRunner

from .conftest import example

FAST = ApiSettings(connect_timeout=1.0, read_timeout=5.0, deadline=10.0, max_attempts=1,
                   backoff_base=0.01, backoff_cap=0.05, max_retry_after=1.0)


@pytest.fixture
def panel(qtbot: QtBot, tasks: TaskRunner) -> Iterator[SyncPanel]:
    made = SyncPanel(tasks, settings=FAST, use_network_information=False)
    qtbot.addWidget(made)
    made.resize(1000, 640)
    made.show()
    qtbot.waitExposed(made)
    made.activateWindow()
    qtbot.waitUntil(made.isActiveWindow)
    qtbot.waitUntil(lambda: bool(made.counts), timeout=10_000)
    yield made
    made.shutdown()


def test_tab_and_shift_tab_leave_the_records_table(
    qtbot: QtBot, vault: Vault, panel: SyncPanel,
) -> None:
    store = Assessments(vault)
    for name in ("Ada", "Ben", "Cal"):
        document = example("primary")
        document["answers"]["child"]["first_name"] = name
        record_id, _ = store.create(document)
        store.finalise(record_id)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=10_000)
    panel.table.selectRow(1)
    panel.table.setFocus(Qt.FocusReason.TabFocusReason)
    assert panel.table.hasFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not panel.table
    panel.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(panel.table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is not panel.table


def test_a_wrong_enrolment_code_leaves_the_focus_on_the_code(
    qtbot: QtBot, panel: SyncPanel, tmp_path: Path,
) -> None:
    config = ServerConfig(tmp_path / "server", faults=Faults(seed=1))
    with ServerThread(config) as server:
        right = server.issue_code()
        wrong = ("B" if right[0] == "A" else "A") + right[1:]  # well formed, never issued
        qtbot.keyClicks(panel.server_edit, server.url)
        qtbot.keyClicks(panel.code_edit, wrong)
        panel.enrol_button.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.keyClick(panel.enrol_button, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: panel.enrol_button.isEnabled() and panel.message.isVisible()
                        and "Enrolling" not in panel.message.text(), timeout=10_000)
    assert QApplication.focusWidget() is panel.code_edit
    assert panel.code_edit.selectedText() == wrong
