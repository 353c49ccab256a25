"""Screenshots of the assessment list and the new-assessment dialog for the README."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from fictional_children import (
    FIRST_NAMES,
    KINDS,
    LAST_NAMES,
    SETTINGS,
    TODAY,
    damage_summary,
    document,
    fictional_upn,
    fill,
    set_head,
    set_status,
)
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.outbox import Outbox
from desktop.vault import Vault
from ui.assessment_list import AssessmentListPage
from ui.new_assessment import NewAssessmentDialog
from ui.tasks import TaskRunner
from ui.theme import stylesheet

pytestmark = [
    pytest.mark.qt_log_ignore(
        r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)"),
    pytest.mark.skipif(not os.environ.get("ONESEND_SCREENSHOTS"),
                       reason="set ONESEND_SCREENSHOTS=1 to refresh docs/screenshots"),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def thirty_children(vault: Vault) -> list[str]:
    docs = []
    for n in range(30):
        born = datetime.date(2010, 9, 1) + datetime.timedelta(days=(n * 173) % 4700)
        kind = KINDS[n % len(KINDS)]
        request = (TODAY - datetime.timedelta(days=(n * 11) % 150)).isoformat() \
            if kind == "ehc_request" else ""
        docs.append(document(
            FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)],
            born.isoformat(), setting=SETTINGS[n % len(SETTINGS)], kind=kind,
            request_date=request, upn=fictional_upn(n),
        ))
    return fill(vault, docs)


def quarantine(vault: Vault, record_id: str) -> None:
    """A delivery the server refused, recorded as the sync engine records it."""
    outbox = Outbox(vault)
    body = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}}
    set_status(vault, [record_id], "queued")
    with vault.write() as conn:
        outbox.enqueue(conn, record_id, 1, body=body, sign_off={"by": "alex", "at": "now"})
    [item] = outbox.take(1)
    outbox.set_aside(item, "quarantined", {"type": "invalid"})


def test_save_list_screenshots(
    qtbot: QtBot, qapp: QApplication, vault: Vault, tasks: TaskRunner,
) -> None:
    ids = thirty_children(vault)
    set_status(vault, ids[0:9], "synced")
    set_status(vault, ids[9:13], "queued")
    set_status(vault, ids[13:14], "conflict")
    set_status(vault, ids[14:16], "amended")
    quarantine(vault, ids[16])
    for n, record_id in enumerate(ids):  # edited over the last weeks, not all this minute
        set_head(vault, [record_id], updated_at=(
            datetime.datetime(2026, 3, 2, 16, 40, tzinfo=datetime.UTC)
            - datetime.timedelta(hours=n * 19 + n * n)).isoformat().replace("+00:00", "Z"))
    damage_summary(vault, ids[17])
    sheet = qapp.styleSheet()
    qapp.setStyleSheet(stylesheet())
    try:
        page = AssessmentListPage(tasks, today=TODAY)
        qtbot.addWidget(page)
        page.resize(1280, 760)
        page.show()
        qtbot.waitExposed(page)
        with qtbot.waitSignal(page.loaded, timeout=10_000):
            page.refresh()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.grab().save(str(SCREENSHOTS / "assessment-list.png"))

        page.new_assessment()
        dialog = page.dialog
        assert isinstance(dialog, NewAssessmentDialog)
        qtbot.keyClicks(dialog.first_name, "Amara")
        qtbot.keyClicks(dialog.last_name, "Okafor")
        qtbot.keyClicks(dialog.date_of_birth, "27/03/2015")
        qtbot.keyClicks(dialog.upn, fictional_upn(3))
        dialog.create_button.click()
        qtbot.waitUntil(dialog.duplicate.isVisible, timeout=5_000)
        dialog.adjustSize()
        dialog.grab().save(str(SCREENSHOTS / "new-assessment-duplicate.png"))
        dialog.reject()
    finally:
        qapp.setStyleSheet(sheet)
