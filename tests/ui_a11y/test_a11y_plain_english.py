"""Finding 9: History and the sync area speak a SENCO's words, not the program's codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from sync.http import ApiSettings
from ui.sync_panel import SyncPanel
from ui.tasks import TaskRunner

from .conftest import OpenEditor, example

JARGON = ("in flight", "quarantined", "acknowledged", "revision", "national system", "queued")


@pytest.fixture
def panel(qtbot: QtBot, tasks: TaskRunner) -> Iterator[SyncPanel]:
    made = SyncPanel(tasks, settings=ApiSettings(), use_network_information=False)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: bool(made.counts), timeout=10_000)
    yield made
    made.shutdown()


def test_history_says_statuses_in_words(
    qtbot: QtBot, vault: Vault, open_editor: OpenEditor,
) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(example("primary"))
    store.finalise(record_id)
    store.save(record_id, store.get(record_id), action="amend")
    editor = open_editor(record_id)
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    table = editor.history.table
    statuses = {table.item(row, 4).text() for row in range(table.rowCount())}
    assert statuses == {"Draft", "Finalised (signed off)", "Amendment (draft)"}
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            text = table.item(row, column).text()
            assert text == text.strip()
            assert not text.startswith("?")
            assert text not in ("ready", "amended", "draft", "queued", "synced")


def test_the_sync_area_says_what_happened_in_plain_words(
    qtbot: QtBot, vault: Vault, panel: SyncPanel,
) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(example("primary"))
    store.finalise(record_id)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    shown = [w.text() for w in panel.findChildren(QLabel)]  # shown once enrolled, too
    shown += [w.text() for w in panel.findChildren(QAbstractButton)]
    model = panel.model
    shown += [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in
              range(model.columnCount())]
    shown += [str(model.data(model.index(r, c))) for r in range(model.rowCount())
              for c in range(model.columnCount())]
    words = " ".join(shown).lower()
    for jargon in JARGON:
        assert jargon not in words, jargon
    assert "Waiting to send" in shown
    assert "Sent and confirmed" in shown
    assert "national service" in words
