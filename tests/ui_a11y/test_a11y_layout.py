"""Finding 6: at 200% text in a 1280 by 720 window nothing needs sideways scrolling (WCAG 1.4.4,
1.4.10), headings stay larger than the body text, the date box shows its whole hint, the
sidebar's entries are not cut off and Lock stays on the toolbar."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as QtTimeout
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.profiles import Profiles
from ui.form.widgets import DateAdapter

from .conftest import PASSWORD, MakeWindow, example, open_in_window, unlock_window


def test_200_percent_text_in_a_1280_by_720_window(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    vault, _key = profiles.create("sam", PASSWORD)
    document = example("primary")
    document["answers"]["child"]["nc_year"] = "11"  # a long error: not the child's year group
    record_id, _ = Assessments(vault).create(document)
    vault.close()
    window = make_window()
    window.resize(1280, 720)
    workspace = unlock_window(qtbot, window)
    window.set_text_scale(2.0)
    qtbot.wait(50)
    body = QApplication.font().pointSizeF()
    toolbar = workspace.toolbar
    lock = toolbar.widgetForAction(workspace.lock_action)
    assert lock is not None
    assert lock.isVisible()
    assert toolbar.rect().contains(lock.geometry())

    editor = open_in_window(qtbot, window, record_id)
    assert editor.title_label.font().pointSizeF() > body
    problems = []
    for section in list(editor.session.visible_sections):
        page = editor.show_section(section.id)
        assert page is not None
        editor.check_section()
        bar = editor.scroller.horizontalScrollBar()
        try:
            qtbot.waitUntil(lambda bar=bar: bar.maximum() == 0, timeout=1_000)
        except QtTimeout:
            problems.append(f"{section.title}: scrolls sideways")
        if page.heading.font().pointSizeF() <= body:
            problems.append(f"{section.title}: heading not larger than the text")
        for adapter in page.adapters.values():
            if isinstance(adapter, DateAdapter) and adapter.date.edit.isVisible():
                edit = adapter.date.edit
                needed = edit.fontMetrics().horizontalAdvance("DD/MM/YYYY")
                if edit.width() < needed:
                    problems.append(f"{adapter.path}: the date box is cut to {edit.width()} px")
    child = editor.show_section("child")
    assert child is not None
    editor.check_section()
    assert any("year group" in entry.text() for entry in child.summary.entries)
    sections = editor.sections
    for row in range(sections.count()):
        item = sections.item(row)
        shown = sections.visualItemRect(item)
        needed = sections.fontMetrics().boundingRect(
            QRect(0, 0, shown.width(), 10_000), int(Qt.TextFlag.TextWordWrap), item.text())
        if needed.height() > shown.height() + 2:
            problems.append(f"sidebar: {item.text()!r} is cut off")
    editor.show_check_answers()
    bar = editor.check_page.horizontalScrollBar()
    try:
        qtbot.waitUntil(lambda: bar.maximum() == 0, timeout=1_000)
    except QtTimeout:
        problems.append("check your answers: scrolls sideways")
    assert window.width() <= 1280
    assert problems == [], "\n".join(problems)
