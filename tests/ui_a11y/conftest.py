"""Fixtures for the accessibility findings (issue 11): an editor on a real vault, shown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from tests.qt_window import (
    MakeWindow,
    editor_opener,
    kept_application_look,
    unlock_with_password,
    window_factory,
)
from ui.form.editor import AssessmentEditor
from ui.main_window import MainWindow
from ui.tasks import TaskRunner
from ui.workspace import Workspace

PASSWORD = "correct horse battery staple"

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


@pytest.fixture(autouse=True)
def keep_the_application_look(qapp: QApplication) -> Iterator[None]:
    yield from kept_application_look(qapp)


OpenEditor = Callable[..., AssessmentEditor]


@pytest.fixture
def open_editor(qtbot: QtBot, vault: Vault, tasks: TaskRunner) -> OpenEditor:
    """Open an assessment (by id, or store a document first) in a shown, active editor."""
    return editor_opener(qtbot, vault, tasks)


@pytest.fixture
def make_window(qtbot: QtBot, data_dir: Path, profiles: Profiles) -> Iterator[MakeWindow]:
    """A shown, active MainWindow on the test's data folder (closed at the end)."""
    yield from window_factory(qtbot, data_dir, profiles)


def unlock_window(qtbot: QtBot, window: MainWindow) -> Workspace:
    unlock_with_password(qtbot, window, PASSWORD)
    assert window.workspace is not None
    return window.workspace


def open_in_window(qtbot: QtBot, window: MainWindow, record_id: str) -> AssessmentEditor:
    workspace = window.workspace
    assert workspace is not None
    workspace.open_assessment(record_id)
    qtbot.waitUntil(lambda: workspace.editor is not None, timeout=10_000)
    assert workspace.editor is not None
    return workspace.editor


def window_with_example(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow, *, width: int | None = None,
) -> tuple[MainWindow, Workspace, str]:
    """A profile "sam" holding the primary example, unlocked in a shown window (resized to
    `width` x 728 first): the window, its workspace and the record's id."""
    vault, _key = profiles.create("sam", PASSWORD)
    record_id, _ = Assessments(vault).create(example("primary"))
    vault.close()
    window = make_window()
    if width is not None:
        window.resize(width, 728)
    return window, unlock_window(qtbot, window), record_id
