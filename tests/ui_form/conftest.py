"""Fixtures of the editor tests: an editor on a real vault, shown and active; a filler."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from tests.ui_form.editor_filler import Filler
from ui.form.editor import AssessmentEditor
from ui.tasks import TaskRunner


@pytest.fixture
def open_editor(qtbot: QtBot, vault: Vault, tasks: TaskRunner
                ) -> Callable[[dict[str, Any]], AssessmentEditor]:
    """Store a document as a new assessment and open it in a shown, active editor."""

    def opener(document: dict[str, Any]) -> AssessmentEditor:
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


@pytest.fixture
def filler(qtbot: QtBot) -> Callable[[AssessmentEditor, dict[str, Any]], Filler]:
    return lambda editor, source: Filler(qtbot, editor, source)
