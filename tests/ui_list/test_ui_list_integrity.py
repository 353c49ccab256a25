"""The list says in a sentence when the vault as a whole was altered; every row still shows."""

from __future__ import annotations

import sqlite3

import pytest
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from ui.assessment_list import AssessmentListPage
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")


def doc(name: str) -> dict[str, object]:
    return {"form": "national-send-assessment", "form_version": "1.0.0",
            "answers": {"child": {"first_name": name}}}


def test_a_removed_record_and_an_edited_audit_log_are_said_above_the_list(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner,
) -> None:
    store = Assessments(vault)
    kept, _ = store.create(doc("Kept"))
    removed, _ = store.create(doc("Removed"))
    raw = sqlite3.connect(vault.path, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_delete")
    raw.execute("DELETE FROM revisions WHERE assessment_id = ?", (removed,))
    raw.execute("DELETE FROM assessments WHERE id = ?", (removed,))
    raw.execute("UPDATE audit SET action = 'profile.create' WHERE id = 2")
    raw.close()

    page = AssessmentListPage(tasks)
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.refresh()
    assert page.integrity_label.isVisibleTo(page)
    assert page.integrity_label.text() == (
        "The audit log has been altered outside OneSEND (entry 2 does not follow from the one "
        "before it). The vault should hold 2 assessment(s) but holds 1: assessments were "
        "removed or added outside OneSEND.")
    assert [row.id for row in page.model.rows] == [kept]
