"""The sync area's table is updated by what changed: one record's new state moves that row and
leaves the others as they were; a refresh that finds nothing new changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from pytestqt.qtbot import QtBot

from desktop.outbox import Outbox
from desktop.vault import Vault
from ui.sync_panel import SyncPanel
from ui.sync_rows import Row, diff

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")


def test_one_record_set_aside_moves_only_its_row(
    qtbot: QtBot, vault: Vault, make_panel: Callable[..., SyncPanel], kit: SimpleNamespace,
) -> None:
    ids = kit.finalise_new(vault, 1, 2, 3, 4, 5)
    panel = make_panel()
    model = panel.model
    qtbot.waitUntil(lambda: model.rowCount() == len(ids), timeout=10_000)
    before = {row.id: row for row in model.rows}
    assert {row.state for row in model.rows} == {"queued"}

    # Nothing new: nothing is redrawn.
    with (qtbot.assertNotEmitted(model.dataChanged), qtbot.assertNotEmitted(model.modelReset),
          qtbot.assertNotEmitted(model.rowsInserted), qtbot.assertNotEmitted(model.layoutChanged),
          qtbot.waitSignal(panel.refreshed, timeout=10_000)):
        panel.refresh()
    assert all(row is before[row.id] for row in model.rows)

    outbox = Outbox(vault)
    chosen = ids[3]
    item = outbox.get(chosen, before[chosen].revision)
    assert item is not None
    outbox.set_aside(item, "quarantined", {"type": "hash-mismatch"})
    removed: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    with (qtbot.assertNotEmitted(model.modelReset), qtbot.assertNotEmitted(model.layoutChanged),
          qtbot.waitSignal(panel.changed, timeout=10_000)):
        panel.refresh()
    assert len(removed) == 1
    assert inserted == [(0, 0)]  # set aside: first, where it is seen
    assert model.rows[0].id == chosen
    assert model.rows[0].state == "quarantined"
    assert "changed after it was signed off" in model.rows[0].reason
    assert model.data(model.index(0, 1)) == "Needs your attention: not accepted"
    others = [row for row in model.rows if row.id != chosen]
    assert len(others) == len(ids) - 1
    assert all(row is before[row.id] for row in others)  # untouched


def test_a_change_within_a_group_is_made_in_place() -> None:
    shown = tuple(Row(f"r{n}", 2, "queued", f"Child {n}", "", placed=3) for n in range(4))
    fresh = [Row(r.id, r.revision, r.state, r.name, r.reason) for r in shown]
    fresh[2] = Row("r2", 2, "queued", "Renamed", "")
    change = diff(shown, 7, fresh)
    assert change.removed == change.added == ()
    assert change.reset is None
    assert [(n, row.name) for n, row in change.changed] == [(2, "Renamed")]
    assert diff(shown, 7, fresh[:2] + fresh[3:]).removed == (2,)
