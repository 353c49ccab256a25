"""Finding 7: no two things on screen answer to the same Alt+letter (Alt+V was both "View
this revision" and the View menu)."""

from __future__ import annotations

import re
from collections import Counter

from PySide6.QtWidgets import QAbstractButton, QLabel, QMainWindow, QWidget
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles

from .conftest import PASSWORD, MakeWindow, example, open_in_window, unlock_window

MNEMONIC = re.compile(r"&([^&\s])")


def mnemonics(window: QMainWindow) -> Counter[str]:
    """The Alt+letters of the menu bar and of every visible button and buddy label."""
    found: Counter[str] = Counter()
    for action in window.menuBar().actions():
        if action.isVisible():
            found.update(m.lower() for m in MNEMONIC.findall(action.text().replace("&&", "")))
    widgets: list[QWidget] = [*window.findChildren(QAbstractButton), *window.findChildren(QLabel)]
    for widget in widgets:
        if not widget.isVisibleTo(window) or not widget.isEnabled():
            continue
        if isinstance(widget, QLabel) and widget.buddy() is None:
            continue
        text = widget.text().replace("&&", "")
        found.update(m.lower() for m in MNEMONIC.findall(text))
    return found


def clashes(window: QMainWindow) -> list[str]:
    return [letter for letter, times in mnemonics(window).items() if times > 1]


def test_no_alt_letter_is_used_twice_on_any_page(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    vault, _key = profiles.create("sam", PASSWORD)
    store = Assessments(vault)
    record_id, _ = store.create(example("primary"))
    store.finalise(record_id)
    vault.close()
    window = make_window()
    assert clashes(window) == [], "unlock page"
    unlock_window(qtbot, window)
    assert clashes(window) == [], "list"
    editor = open_in_window(qtbot, window, record_id)
    assert clashes(window) == [], "a section of a finalised record"
    editor.show_check_answers()
    assert clashes(window) == [], "check your answers"
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    assert clashes(window) == [], "history"
