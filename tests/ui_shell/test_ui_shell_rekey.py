"""Change password and re-key from the window: locks, re-keys in the background, new key once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.errors import WrongPassword
from desktop.profiles import Profiles
from ui.main_window import REKEYED_SENTENCE, MainWindow

PASSWORD = "correct horse battery staple"
MakeWindow = Callable[..., MainWindow]
Unlock = Callable[..., None]

NEW = "a brand new passphrase here"


def test_rekey_from_the_window(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, profiles: Profiles,
    make_profile: Callable[[str], None],
) -> None:
    make_profile("alex")
    window = make_window()
    assert not window.rekey_action.isEnabled()  # only in an unlocked session
    unlock(window)
    assert window.rekey_action.isEnabled()

    dialog = window.change_password_and_rekey()
    assert dialog is not None
    qtbot.keyClicks(dialog.current_edit, PASSWORD)
    qtbot.keyClicks(dialog.new_edit, NEW)
    qtbot.keyClicks(dialog.repeat_edit, NEW + "x")
    dialog.submit()
    assert dialog.message.text() == "The two new passwords are not the same."
    assert window.workspace is not None  # nothing happened

    dialog.repeat_edit.clear()
    qtbot.keyClicks(dialog.repeat_edit, NEW)
    dialog.submit()
    assert window.workspace is None  # locked first: no writer runs under the old key
    qtbot.waitUntil(lambda: window.current_page is window.recovery_page, timeout=20_000)
    key = window.recovery_page.key_shown.replace("\n", "-")
    assert len(key) == 39
    window.recovery_page.confirm_box.setChecked(True)
    qtbot.mouseClick(window.recovery_page.continue_button, Qt.MouseButton.LeftButton)
    assert window.current_page is window.unlock_page
    assert window.unlock_page.message.text() == REKEYED_SENTENCE

    with pytest.raises(WrongPassword):
        profiles.unlock("alex", PASSWORD)
    profiles.unlock("alex", NEW).close()
    unlock(window, NEW)


def test_a_wrong_current_password_changes_nothing(
    qtbot: QtBot, make_window: MakeWindow, unlock: Unlock, profiles: Profiles,
    make_profile: Callable[[str], None],
) -> None:
    make_profile("alex")
    window = make_window()
    unlock(window)
    dialog = window.change_password_and_rekey()
    assert dialog is not None
    qtbot.keyClicks(dialog.current_edit, "not the password at all")
    qtbot.keyClicks(dialog.new_edit, NEW)
    qtbot.keyClicks(dialog.repeat_edit, NEW)
    dialog.submit()
    qtbot.waitUntil(lambda: not window.unlock_page.busy.active, timeout=20_000)
    assert "That password does not unlock" in window.unlock_page.message.text()
    profiles.unlock("alex", PASSWORD).close()
    unlock(window)
