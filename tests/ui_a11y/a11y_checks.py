"""The machine checks of issue 11, for any page of the window or a dialog.

- The accessibility tree, read through Qt's own ``QAccessible`` interfaces (what Qt gives a
  screen reader over AT-SPI, UI Automation or NSAccessibility): every focusable control has a
  role and a name, and no two share a name without context (a description) on a page.
- The Tab walk: Tab from the first control visits every focusable control exactly once and
  comes back to the start within (controls + margin) presses; nothing that only holds other
  widgets (a scroll area, a stack, a frame) ever keeps the focus.

Both return a list of problems (empty when the page passes), so a failure names them all.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QCalendarWidget,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

MARGIN = 3
CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QPlainTextEdit, QTextEdit,
            QAbstractSpinBox, QAbstractSlider, QLabel, QCalendarWidget, QTabBar)
NO_ROLE = {QAccessible.Role.NoRole, QAccessible.Role.Client, QAccessible.Role.Pane,
           QAccessible.Role.Window, QAccessible.Role.Grouping, QAccessible.Role.Border,
           QAccessible.Role.Whitespace, QAccessible.Role.Separator}


def focusable(root: QWidget) -> list[QWidget]:
    """What Tab can reach on this page, in the focus chain's order."""
    found: list[QWidget] = []
    widget = root.nextInFocusChain()
    while widget is not root and widget is not None and len(found) < 5000:
        if (widget.window() is root and widget.isVisible() and widget.isEnabled()
                and (widget.focusPolicy() & Qt.FocusPolicy.TabFocus)
                == Qt.FocusPolicy.TabFocus and widget.focusProxy() is None
                and widget not in found):
            found.append(widget)
        widget = widget.nextInFocusChain()
    return found


def describe(widget: QWidget) -> str:
    name = QAccessible.queryAccessibleInterface(widget)
    text = name.text(QAccessible.Text.Name) if name is not None else ""
    return f"{type(widget).__name__} {widget.objectName() or ''} {text!r}".strip()


def tree_problems(root: QWidget) -> list[str]:
    """Every focusable control has a role and a name; names are unique or have context."""
    problems = []
    seen: Counter[tuple[str, str]] = Counter()
    for widget in focusable(root):
        interface = QAccessible.queryAccessibleInterface(widget)
        if interface is None:
            problems.append(f"{type(widget).__name__}: no accessible interface")
            continue
        role = interface.role()
        name = interface.text(QAccessible.Text.Name).strip()
        if isinstance(widget, QComboBox):
            # On Linux Qt gives a combo box's current text as its name and its label through
            # the labelled-by relation, which is what a screen reader announces.
            name = widget.accessibleName().strip() or name
        description = interface.text(QAccessible.Text.Description).strip()
        if role in NO_ROLE:
            problems.append(f"{describe(widget)}: no role ({role})")
        if not name:
            problems.append(f"{describe(widget)}: no name")
        seen[(name, description)] += 1
    problems += [f"{times} controls are all called {name!r} with nothing to tell them apart"
                 for (name, _description), times in seen.items() if times > 1 and name]
    return problems


def tab_problems(qtbot: QtBot, root: QWidget, start: QWidget | None = None) -> list[str]:
    """Tab from the first control round the page and back, once each, no container."""
    expected = focusable(root)
    if not expected:
        return ["nothing on the page can take the focus"]
    first = start or expected[0]
    root.activateWindow()
    qtbot.waitUntil(root.isActiveWindow, timeout=3_000)
    first.setFocus(Qt.FocusReason.TabFocusReason)
    QCoreApplication.processEvents()
    if QApplication.focusWidget() is not first:
        return [f"{describe(first)} does not take the focus"]
    visited: list[QWidget] = []
    problems = []
    current = first
    for _press in range(len(expected) + MARGIN):
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        if focus is None:
            problems.append(f"Tab from {describe(current)} left nothing focused")
            return problems
        current = focus
        if current is first:
            break
        visited.append(current)
    else:
        problems.append(f"Tab did not come back to {describe(first)} within "
                        f"{len(expected) + MARGIN} presses")
    for widget, times in Counter(visited).items():
        if times > 1:
            problems.append(f"{describe(widget)} was visited {times} times")
    for widget in visited:
        if not isinstance(widget, CONTROLS):
            problems.append(f"a container keeps the focus: {describe(widget)}")
    missing = [w for w in expected if w is not first and w not in visited]
    problems += [f"Tab never reached {describe(widget)}" for widget in missing]
    return problems


def page_problems(qtbot: QtBot, root: QWidget, page: str,
                  start: QWidget | None = None) -> list[str]:
    """Both checks on a page, each problem prefixed with the page's name."""
    return [f"{page}: {problem}"
            for problem in [*tree_problems(root), *tab_problems(qtbot, root, start)]]
