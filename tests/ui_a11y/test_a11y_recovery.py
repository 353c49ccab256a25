"""Finding 11: recovering a profile with its recovery key happens in the window, off the GUI
thread; the recovery key page offers print and copy, in an alphabet without 0 or 1."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from desktop.crypto import normalise_recovery_key
from desktop.errors import WrongPassword
from desktop.profiles import Profiles

from .conftest import PASSWORD, MakeWindow

NEW_PASSWORD = "a brand new passphrase"


def test_a_forgotten_password_is_reset_with_the_recovery_key_in_the_window(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault, recovery_key = profiles.create("sam", PASSWORD)
    vault.close()
    window = make_window()
    page = window.unlock_page
    assert "onesend profile recover" not in " ".join(
        label.text() for label in page.findChildren(type(page.heading)))
    qtbot.keyClick(page.recover_button, Qt.Key.Key_Space)
    recover = window.recover_page
    assert window.current_page is recover
    assert "sam" in recover.about.text()
    assert recover.key_edit.hasFocus()

    # A wrong key: one sentence, nothing changes, the focus back on the key.
    qtbot.keyClicks(recover.key_edit, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    qtbot.keyClicks(recover.password_edit, NEW_PASSWORD)
    qtbot.keyClicks(recover.confirm_edit, NEW_PASSWORD)
    qtbot.keyClick(recover.confirm_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(recover.message.isVisible, timeout=10_000)
    assert recover.message.text().startswith("Error:")
    assert recover.key_edit.hasFocus()
    profiles.unlock("sam", PASSWORD).close()  # the old password still works

    # The right key (as written on paper, lower case, with spaces): recovered off the GUI
    # thread, then back to unlock with the new password.
    threads: list[threading.Thread] = []
    real = Profiles.recover

    def recording(self: Profiles, name: str, key: str, password: str) -> None:
        threads.append(threading.current_thread())
        real(self, name, key, password)

    monkeypatch.setattr(Profiles, "recover", recording)
    recover.key_edit.clear()
    qtbot.keyClicks(recover.key_edit, recovery_key.lower().replace("-", " "))
    qtbot.keyClick(recover.key_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current_page is page, timeout=10_000)
    assert threads
    assert threads[0] is not threading.main_thread()
    assert "new password" in page.message.text()
    assert not recover.key_edit.text()
    assert not recover.password_edit.text()
    with pytest.raises(WrongPassword):
        profiles.unlock("sam", PASSWORD)
    page.password_edit.clear()
    qtbot.keyClicks(page.password_edit, NEW_PASSWORD)
    qtbot.keyClick(page.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)


def test_the_recovery_key_page_prints_and_copies_an_unambiguous_key(
    qtbot: QtBot, make_window: MakeWindow, tmp_path: Path, pdf_text: Callable[[Path], str],
) -> None:
    window = make_window()
    create = window.create_page
    qtbot.keyClicks(create.name_edit, "sam")
    qtbot.keyClicks(create.password_edit, PASSWORD)
    qtbot.keyClicks(create.confirm_edit, PASSWORD)
    qtbot.keyClick(create.confirm_edit, Qt.Key.Key_Return)
    page = window.recovery_page
    qtbot.waitUntil(lambda: window.current_page is page, timeout=10_000)
    key = page.key_shown.replace("\n", "-")
    assert not set(key) & set("0189")  # no digit that reads as a letter
    assert "no zero and no one" in " ".join(
        label.text() for label in page.findChildren(type(page.heading)))
    assert normalise_recovery_key(key.replace("O", "0").replace("I", "1")) == (
        normalise_recovery_key(key))

    qtbot.keyClick(page.copy_button, Qt.Key.Key_Space)
    assert QGuiApplication.clipboard().text() == key
    assert page.key_message.isVisible()
    QGuiApplication.clipboard().clear()

    assert page.print_button.isEnabled()
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target = tmp_path / "key.pdf"
    printer.setOutputFileName(str(target))
    page.print_key(printer)
    printed = pdf_text(target).replace(" ", "")
    assert key.replace("-", "") in printed.replace("-", "")
