"""Fixtures of the editor tests: an editor on a real vault, shown and active; a filler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.vault import Vault
from tests.qt_window import editor_opener
from tests.ui_form.editor_filler import Filler
from ui.form.editor import AssessmentEditor
from ui.tasks import TaskRunner


@pytest.fixture
def open_editor(qtbot: QtBot, vault: Vault, tasks: TaskRunner
                ) -> Callable[[dict[str, Any]], AssessmentEditor]:
    """Store a document as a new assessment and open it in a shown, active editor."""
    return editor_opener(qtbot, vault, tasks)


@pytest.fixture
def filler(qtbot: QtBot) -> Callable[[AssessmentEditor, dict[str, Any]], Filler]:
    return lambda editor, source: Filler(qtbot, editor, source)
