"""The Qt binding must not leak references to None, True or False.

PySide6 6.12.0 on Python 3.11 dropped a reference to None on every Qt call that returns
nothing, and one to True on every signal emit; after a few thousand calls the interpreter
aborts ("deallocating None"). A long session makes millions of such calls, so this guards
the pinned version and any upgrade.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from ui.tasks import emit

CALLS = 2_000


class _Pinger(QObject):
    ping = Signal()
    value = Signal(object)


def test_void_qt_calls_keep_their_reference_to_none(qtbot: QtBot, qapp: QApplication) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setText("x")
        label.setEnabled(True)
    # Allow for the odd reference taken or released elsewhere, never one per call.
    assert sys.getrefcount(None) - before > -CALLS // 10


def test_emitting_keeps_the_references_to_true_and_false() -> None:
    pinger = _Pinger()
    true_before, false_before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(CALLS):
        emit(pinger.ping)
        emit(pinger.value, False)
    assert sys.getrefcount(True) - true_before > -CALLS // 10
    assert sys.getrefcount(False) - false_before > -CALLS // 10
