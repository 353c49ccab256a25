"""The editor's side list at any width: every row as tall as its words wrapped at the width
they are painted in, so none is cut to "…" (found under Xvfb: "✓ Advice received (section K) …"
over a blank second line, in the window's own first size)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QSplitter, QStyle
from pytestqt.qtbot import QtBot

from tests.ui_form.editor_filler import Opener, example

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")


def test_every_row_fits_its_words_at_every_width(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(example("primary"))
    sidebar = editor.sections
    splitter = sidebar.parentWidget()
    assert isinstance(splitter, QSplitter)
    editor.resize(1400, 800)
    # The text's own margins inside a row (Qt's item delegate keeps this much each side).
    margin = sidebar.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                         sidebar) + 1
    problems = []
    for width in range(sidebar.minimumWidth(), sidebar.minimumWidth() + 160, 3):
        splitter.setSizes([width, 1400 - width])
        qtbot.waitUntil(lambda w=width: abs(sidebar.width() - w) <= 1, timeout=1_000)
        qtbot.wait(5)  # the list lays its rows out again
        # Each row is painted in the list's width less its spacing each side.
        room = sidebar.viewport().width() - 2 * sidebar.spacing() - 2 * margin
        for row in range(sidebar.count()):
            item = sidebar.item(row)
            shown = sidebar.visualItemRect(item)
            words = sidebar.fontMetrics().boundingRect(
                QRect(0, 0, room, 10_000),
                int(Qt.TextFlag.TextWordWrap), item.text())
            if words.height() > shown.height():
                problems.append(f"{width} px: {item.text()!r} needs {words.height()} px,"
                                f" has {shown.height()}")
    assert problems == [], "\n".join(problems[:10])
