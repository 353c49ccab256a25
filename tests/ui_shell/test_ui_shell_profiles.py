"""Creating a profile, the recovery key shown once, unlocking, locking: through the widgets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from desktop.crypto import new_recovery_key
from desktop.errors import WrongRecoveryKey
from desktop.profiles import Profiles
from ui.main_window import IDLE_LOCKED_SENTENCE, LOCKED_SENTENCE, MainWindow
from ui.profile_pages import UnlockPage
from ui.workspace import Workspace

PASSWORD = "correct horse battery staple"
MakeWindow = Callable[..., MainWindow]

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def unlocked(window: MainWindow) -> Workspace:
    workspace = window.workspace
    assert workspace is not None
    assert window.current_page is workspace
    return workspace


def make_profile(profiles: Profiles, name: str = "alex") -> None:
    vault, _key = profiles.create(name, PASSWORD)
    vault.close()


def test_create_profile_with_feedback_then_the_recovery_key_once_then_the_workspace(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    window = make_window()
    page = window.create_page
    assert window.current_page is page
    assert not page.cancel_button.isVisible()  # nothing to go back to on a first run
    assert focused() is page.name_edit

    qtbot.keyClicks(page.name_edit, "Sam Taylor")
    qtbot.keyClick(page.name_edit, Qt.Key.Key_Tab)
    assert focused() is page.password_edit
    qtbot.keyClicks(page.password_edit, "short")
    assert page.strength.text() == "✗ Too short: 5 characters so far, at least 10 needed."
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    # Refused with one sentence, in words, and the focus back where the problem is.
    assert page.message.isVisible()
    assert page.message.text().startswith("Error: Choose a password of at least 10 characters")
    assert page.message.accessibleName() == "Problem"
    assert focused() is page.password_edit
    assert profiles.names() == []

    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, PASSWORD)
    assert page.strength.text() == "✓ Strong enough."
    qtbot.keyClicks(page.confirm_edit, PASSWORD + "!")
    assert "not the same" in page.match.text()
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    assert "not the same" in page.message.text()
    assert focused() is page.confirm_edit
    assert page.confirm_edit.text() == ""
    assert profiles.names() == []

    qtbot.keyClicks(page.confirm_edit, PASSWORD)
    assert page.match.text() == "✓ The passwords match."
    with qtbot.waitSignal(page.created, timeout=10_000):
        qtbot.keyClick(page.confirm_edit, Qt.Key.Key_Return)
        assert page.create_button.text() == "Creating…"  # busy until the key is derived
        assert not page.create_button.isEnabled()
    assert page.password_edit.text() == ""

    recovery = window.recovery_page
    assert window.current_page is recovery
    key = recovery.key_shown
    assert len(key.replace("-", "").replace("\n", "")) == 32
    assert not recovery.continue_button.isEnabled()
    recovery.continue_button.click()  # disabled: nothing happens
    assert window.current_page is recovery
    recovery.confirm_box.setFocus()
    qtbot.keyClick(recovery.confirm_box, Qt.Key.Key_Space)
    assert recovery.continue_button.isEnabled()
    qtbot.mouseClick(recovery.continue_button, Qt.MouseButton.LeftButton)

    workspace = unlocked(window)
    assert workspace.profile == "Sam Taylor"
    assert recovery.key_shown == ""  # shown once: gone from the window
    assert not any(key in label.text() for label in window.findChildren(QLabel))
    assert profiles.names() == ["Sam Taylor"]

    # The key shown is the real one: after locking, it sets a new password.
    window.lock()
    assert window.workspace is None
    profiles.recover("Sam Taylor", key, "a brand new long password")
    with pytest.raises(WrongRecoveryKey):
        profiles.recover("Sam Taylor", new_recovery_key(), "a brand new long password")


def test_wrong_password_says_one_sentence_clears_and_refocuses_then_unlocks(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    make_profile(profiles)
    window = make_window()
    page = window.unlock_page
    assert window.current_page is page
    assert page.profile == "alex"  # the only one, preselected
    assert focused() is page.password_edit

    qtbot.keyClicks(page.password_edit, "not my password")
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    assert page.unlock_button.text() == "Unlocking…"
    assert not page.unlock_button.isEnabled()
    assert page.busy.bar.isVisible()
    qtbot.waitUntil(page.message.isVisible, timeout=10_000)
    assert page.message.text() == "Error: That password does not unlock the profile 'alex'."
    assert page.password_edit.text() == ""
    assert focused() is page.password_edit
    assert page.unlock_button.isEnabled()
    assert page.unlock_button.text() == "&Unlock"
    assert window.workspace is None

    qtbot.keyClicks(page.password_edit, PASSWORD)
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)
    unlocked(window)
    assert not page.message.isVisible()


def test_several_profiles_offer_a_choice_and_remember_the_last(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    for name in ("alex", "bea", "cal"):
        make_profile(profiles, name)
    window = make_window()
    page = window.unlock_page
    combo = page.profile_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["alex", "bea", "cal"]
    combo.setCurrentText("bea")
    qtbot.keyClicks(page.password_edit, PASSWORD)
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)
    assert unlocked(window).profile == "bea"
    window.close()

    again = make_window()
    assert again.unlock_page.profile == "bea"


def test_keyboard_only_from_unlock_to_workspace_and_lock_with_ctrl_l(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    make_profile(profiles)
    window = make_window()
    page = window.unlock_page
    widget = focused()
    assert isinstance(widget, QLineEdit)
    qtbot.keyClicks(widget, PASSWORD)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert focused() is page.unlock_button
    qtbot.keyClick(page.unlock_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)
    workspace = unlocked(window)
    assert workspace.menu.menuAction() in window.menuBar().actions()

    target = focused() or window
    qtbot.keyClick(target, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.workspace is None)
    assert window.current_page is page
    assert page.message.text() == LOCKED_SENTENCE
    assert page.message.property("kind") == "info"
    assert focused() is page.password_edit
    assert workspace.menu.menuAction() not in window.menuBar().actions()
    assert window.vault is None


def test_create_another_profile_from_the_unlock_page_and_cancel(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    make_profile(profiles)
    window = make_window()
    qtbot.mouseClick(window.unlock_page.new_profile_button, Qt.MouseButton.LeftButton)
    assert window.current_page is window.create_page
    assert window.create_page.cancel_button.isVisible()
    qtbot.mouseClick(window.create_page.cancel_button, Qt.MouseButton.LeftButton)
    assert window.current_page is window.unlock_page


def test_unlock_page_without_profiles_data_says_so(qtbot: QtBot) -> None:
    from ui.tasks import TaskRunner  # noqa: PLC0415

    tasks = TaskRunner()
    page = UnlockPage(None, tasks, [])
    qtbot.addWidget(page)
    qtbot.keyClicks(page.password_edit, PASSWORD)
    page.submit()
    assert "no profile" in page.message.text()
    page.password_edit.clear()
    page.submit()
    assert page.message.text() == "Error: Type your password to unlock the profile."
    tasks.shutdown()


def test_idle_sentence_differs_from_the_lock_sentence() -> None:
    assert IDLE_LOCKED_SENTENCE != LOCKED_SENTENCE
    assert IDLE_LOCKED_SENTENCE.count(".") == 1


def test_closing_with_the_recovery_key_on_screen_asks_first(
    qtbot: QtBot, make_window: MakeWindow, profiles: Profiles,
) -> None:
    window = make_window()
    page = window.create_page
    qtbot.keyClicks(page.name_edit, "Sam Taylor")
    qtbot.keyClicks(page.password_edit, PASSWORD)
    qtbot.keyClicks(page.confirm_edit, PASSWORD)
    with qtbot.waitSignal(page.created, timeout=10_000):
        qtbot.keyClick(page.confirm_edit, Qt.Key.Key_Return)
    assert window.current_page is window.recovery_page

    window.close()  # the key would never be shown again: ask, and stay open meanwhile
    question = window.recovery_question
    assert question is not None
    assert window.isVisible()
    assert "will not be shown again" in question.text()
    question.reject()  # Escape: keep the key on screen
    assert window.isVisible()
    assert window.current_page is window.recovery_page

    window.close()
    question = window.recovery_question
    assert question is not None
    leave = next(b for b in question.buttons() if b.text() == "Close without it")
    qtbot.mouseClick(leave, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert profiles.names() == ["Sam Taylor"]  # the profile was made; only the key is lost
