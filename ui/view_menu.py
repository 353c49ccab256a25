"""The window's View menu: text size, high contrast and how long before OneSEND locks itself.

Drawing only: each action calls back into the window (`ui/main_window.py`), which applies and
remembers the choice. Built once per window, before any profile is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from ui.theme import IDLE_CHOICES_MINUTES


def minutes_words(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole} minute" if whole == 1 else f"{whole} minutes"


@dataclass(frozen=True)
class ViewMenu:
    """The menu and the actions the window keeps in step with its preferences."""

    menu: QMenu
    larger_text: QAction
    smaller_text: QAction
    high_contrast: QAction
    lock_after: dict[int, QAction]  # minutes -> its (checkable, exclusive) choice


def build_view_menu(
    window: QMainWindow, *, high_contrast: bool, idle_minutes: float,
    step_text_size: Callable[[int], None], set_text_scale: Callable[[float], None],
    set_high_contrast: Callable[[bool], None], set_idle_minutes: Callable[[float], None],
) -> ViewMenu:
    menu = window.menuBar().addMenu("&View")
    larger = QAction("&Larger text", window)
    larger.setShortcuts([QKeySequence(QKeySequence.StandardKey.ZoomIn), QKeySequence("Ctrl+=")])
    larger.triggered.connect(lambda: step_text_size(1))
    smaller = QAction("&Smaller text", window)
    smaller.setShortcut(QKeySequence(QKeySequence.StandardKey.ZoomOut))
    smaller.triggered.connect(lambda: step_text_size(-1))
    normal = QAction("&Normal text size", window)
    normal.setShortcut(QKeySequence("Ctrl+0"))
    normal.triggered.connect(lambda: set_text_scale(1.0))
    contrast = QAction("&High contrast", window)
    contrast.setCheckable(True)
    contrast.setChecked(high_contrast)
    contrast.setStatusTip("White text on black, with yellow focus")
    contrast.toggled.connect(set_high_contrast)
    for action in (larger, smaller, normal):
        menu.addAction(action)
        window.addAction(action)  # the shortcuts work wherever the focus is
    menu.addSeparator()
    menu.addAction(contrast)
    menu.addSeparator()
    lock_after_menu = menu.addMenu("Lock &after…")
    group = QActionGroup(window)
    group.setExclusive(True)
    lock_after: dict[int, QAction] = {}
    for minutes in IDLE_CHOICES_MINUTES:
        action = QAction(f"{minutes_words(minutes)} without use", window)
        action.setCheckable(True)
        action.setChecked(abs(idle_minutes - minutes) < 1e-9)
        action.triggered.connect(lambda _c=False, m=minutes: set_idle_minutes(m))
        group.addAction(action)
        lock_after_menu.addAction(action)
        lock_after[minutes] = action
    return ViewMenu(menu, larger, smaller, contrast, lock_after)
