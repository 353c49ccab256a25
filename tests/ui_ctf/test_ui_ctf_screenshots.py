"""Screenshots of the CTF import's preview and summary for the README (fictional pupils)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ctf_generator import make_pupils, render
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from ui.ctf_import_dialog import CtfImportDialog
from ui.ctf_preview import CHOICE
from ui.tasks import TaskRunner
from ui.theme import stylesheet

pytestmark = [
    pytest.mark.qt_log_ignore(
        r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)"),
    pytest.mark.skipif(not os.environ.get("ONESEND_SCREENSHOTS"),
                       reason="set ONESEND_SCREENSHOTS=1 to refresh docs/screenshots"),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_save_import_screenshots(
    qtbot: QtBot, qapp: QApplication, tasks: TaskRunner, store: Assessments, tmp_path: Path,
) -> None:
    pupils = make_pupils(48, version="25.0", seed=21)
    pupils[1].upn = ("B" if pupils[1].upn[0] != "B" else "C") + pupils[1].upn[1:]
    pupils[4].sen = [("2013-09-02", "P")]
    pupils[4].needs = [(1, "SLCN")]
    pupils[6].dob = "2099-02-30"
    for index in (2, 7):
        store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                      "answers": {"child": {"first_name": pupils[index].forename,
                                            "last_name": pupils[index].surname,
                                            "date_of_birth": pupils[index].dob,
                                            "upn": pupils[index].upn}}})
    path = tmp_path / "Brook Lane Academy CTF.xml"
    path.write_bytes(render(pupils, version="25.0"))

    sheet = qapp.styleSheet()
    qapp.setStyleSheet(stylesheet())
    try:
        dialog = CtfImportDialog(tasks)
        qtbot.addWidget(dialog)
        dialog.resize(1440, 760)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.load_file(path)
        qtbot.waitUntil(lambda: dialog.state == "previewing", timeout=10_000)
        dialog.model.setData(dialog.model.index(2, CHOICE), "update", Qt.ItemDataRole.EditRole)
        for row in (10, 11, 14):
            dialog.model.toggle(row)
        dialog.table.setCurrentIndex(dialog.model.index(1, 1))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SCREENSHOTS / "import-preview.png"))

        dialog.import_button.click()
        qtbot.waitUntil(lambda: dialog.state == "done", timeout=20_000)
        dialog.grab().save(str(SCREENSHOTS / "import-summary.png"))
    finally:
        qapp.setStyleSheet(sheet)
