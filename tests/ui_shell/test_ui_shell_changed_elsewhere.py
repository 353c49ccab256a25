"""What another process did to the profile (the command line beside the window: an import, a
finalise) shows when the user comes back to the window: its list and sync area are read again
once, and only when the vault did change (found under Xvfb: after `onesend assessments finalise`
in a terminal the window still listed every record as a draft with nothing waiting to send)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from tests.ui_shell.conftest import PASSWORD, MakeWindow, Unlock
from ui.list_model import STATUS
from ui.tasks import emit

EXAMPLE = {"form": "national-send-assessment", "form_version": "2.0.0",
           "answers": {"child": {"first_name": "Ada", "last_name": "Example"}}}


def come_back(app: QApplication) -> None:
    """The user switches to another program and back to the window."""
    emit(app.applicationStateChanged, Qt.ApplicationState.ApplicationInactive)
    emit(app.applicationStateChanged, Qt.ApplicationState.ApplicationActive)


def test_coming_back_to_the_window_shows_what_another_process_changed(
    qtbot: QtBot, qapp: QApplication, profiles: Profiles, make_window: MakeWindow,
    unlock: Unlock,
) -> None:
    vault, _key = profiles.create("alex", PASSWORD)
    first, _ = Assessments(vault).create(EXAMPLE)
    vault.close()
    window = make_window()
    unlock(window)
    workspace = window.workspace
    assert workspace is not None
    page = workspace.list_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and not page.loading, timeout=10_000)
    qtbot.wait(300)  # the first load's last step (the vault-wide checks) done
    loads: list[bool] = []
    page.loaded.connect(lambda: loads.append(True))
    told: list[bool] = []  # what the sync area listens to (it reads its counts again)
    workspace.changed_elsewhere.connect(lambda: told.append(True))

    come_back(qapp)  # nothing changed: nothing is read again
    qtbot.wait(200)
    assert loads == []

    # Another process (its own connection to the same vault file) adds a record.
    other = profiles.unlock("alex", PASSWORD)
    Assessments(other).create(EXAMPLE)
    other.close()
    assert page.model.rowCount() == 1  # not before the user comes back
    come_back(qapp)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: bool(loads), timeout=10_000)
    statuses = {page.model.index(row, STATUS).data() for row in range(2)}
    assert statuses == {"Draft"}
    assert told == [True]
    come_back(qapp)  # and once only
    qtbot.wait(200)
    assert told == [True]

    # A write the window read again itself (as after its own sync, on another connection):
    # coming back does not read it a second time.
    other = profiles.unlock("alex", PASSWORD)
    Assessments(other).create(EXAMPLE)
    other.close()
    loads.clear()
    workspace.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3 and bool(loads), timeout=10_000)
    come_back(qapp)
    qtbot.wait(200)
    assert told == [True]
    assert loads == [True]
    assert first
