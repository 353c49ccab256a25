"""Fixtures for the accessibility findings (issue 11): an editor on a real vault, shown."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from ui.form.editor import AssessmentEditor
from ui.tasks import TaskRunner

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


@pytest.fixture(autouse=True)
def keep_the_application_look(qapp: QApplication) -> Iterator[None]:
    """Some tests change the application's font, palette or stylesheet: put them back."""
    font, palette, sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()
    yield
    qapp.setFont(font)
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)


OpenEditor = Callable[..., AssessmentEditor]


@pytest.fixture
def open_editor(qtbot: QtBot, vault: Vault, tasks: TaskRunner) -> OpenEditor:
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
