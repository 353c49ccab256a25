"""Issue 11's machine checks on the conflict view (a real server makes the conflict): the
accessibility tree and the Tab walk, as tests/ui_a11y/test_a11y_every_page.py does for the
other pages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from sync.device import enrol
from sync.engine import SyncEngine
from sync.server import ServerThread
from ui.conflict_view import ConflictView
from ui.sync_panel import SyncPanel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui_a11y"))

from a11y_checks import page_problems

MakePanel = Callable[..., SyncPanel]


def test_the_conflict_view_has_names_roles_and_a_tab_round(
    qtbot: QtBot, server: ServerThread, vault: Vault, profiles: Profiles,
    make_panel: MakePanel, kit: SimpleNamespace,
) -> None:
    school, _ = profiles.create("school", kit.PASSWORD)
    try:
        enrol(school, server.url, server.issue_code(), kit.FAST)
        Assessments(school).create(kit.complete_document(1), record_id="shared-1")
        Assessments(school).finalise("shared-1")
        assert SyncEngine(school, settings=kit.FAST).run().accepted == 1
        enrol(vault, server.url, server.issue_code(), kit.FAST)
        mine = kit.complete_document(1)
        mine["answers"]["about_me"]["interests"] = "Edited on this laptop."
        mine["answers"]["about_me"]["how_to_help"] = "Short sentences and pictures."
        store = Assessments(vault)
        store.create(kit.complete_document(1), record_id="shared-1")
        store.save("shared-1", mine)
        store.finalise("shared-1")
        panel = make_panel()
        qtbot.waitUntil(lambda: panel.counts.get("conflict") == 1 and not panel.syncing,
                        timeout=15_000)
        (row,) = [r for r in panel.model.rows if r.state == "conflict"]
        view = panel.resolve(row.id, row.revision)
        assert isinstance(view, ConflictView)
        qtbot.waitSignal(view.loaded, timeout=10_000).wait()
        qtbot.waitExposed(view)
        problems = page_problems(qtbot, view, "conflict view")
        assert problems == [], "\n".join(problems)
        view.reject()
    finally:
        school.close()
