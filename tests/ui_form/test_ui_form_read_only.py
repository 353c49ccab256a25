"""A finalised record's answers are reached with Tab and read at full contrast, and nothing the
keyboard or the mouse does changes them (found under Xvfb: its choices were disabled, greyed
out and skipped by Tab, while its text answers stayed readable)."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QListWidget, QWidget
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from tests.ui_form.editor_filler import Opener, example
from ui.form.widgets import ChoiceAdapter, MultiChoiceAdapter, YesNoAdapter

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")


def try_to_change(qtbot: QtBot, widget: QWidget) -> None:
    """Everything a user might do to change an answer."""
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Space, Qt.Key.Key_End,
                Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Home, Qt.Key.Key_PageDown):
        qtbot.keyClick(widget, key)
    qtbot.keyClick(widget, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClicks(widget, "zz")
    target = widget.viewport() if isinstance(widget, QListWidget) else widget
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    where = QPointF(8, 8)
    wheel = QWheelEvent(where, QPointF(target.mapToGlobal(QPoint(8, 8))), QPoint(0, 0),
                        QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, wheel)


def test_a_finalised_record_answers_are_reachable_readable_and_unchangeable(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(example("primary"))
    store.finalise(record_id)
    editor = open_editor(record_id)
    assert editor.read_only
    before = copy.deepcopy(editor.session.answers)
    kinds: set[type] = set()
    for section in list(editor.session.visible_sections):
        page = editor.show_section(section.id)
        assert page is not None
        for adapter in page.adapters.values():
            if not isinstance(adapter, ChoiceAdapter | MultiChoiceAdapter | YesNoAdapter):
                continue
            kinds.add(type(adapter))
            shows = ([adapter.combo] if isinstance(adapter, ChoiceAdapter) else
                     [adapter.list] if isinstance(adapter, MultiChoiceAdapter) else
                     [b for _v, b in adapter.radios.buttons])
            for widget in shows:
                assert widget.isEnabled(), f"{adapter.path}: greyed out"
                if isinstance(widget, QAbstractButton) and not widget.isChecked():
                    continue  # Tab reaches a radio group's chosen button
                assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus, f"{adapter.path}: no Tab"
                widget.setFocus()
                try_to_change(qtbot, widget)
            if isinstance(adapter, ChoiceAdapter):
                assert isinstance(adapter.combo, QComboBox)
                assert not adapter.combo.view().isVisible()  # no list opened
    assert kinds == {ChoiceAdapter, MultiChoiceAdapter, YesNoAdapter}
    assert editor.session.answers == before
    assert store.get(record_id)["answers"] == before
