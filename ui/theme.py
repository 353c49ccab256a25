"""The window's look (stylesheet, high contrast, text size) and the user's window preferences.

Preferences are a small JSON file in the data folder. They hold no child data: only whether
the high-contrast theme is on, the text size, the idle time before locking and the profile
last unlocked (a member of staff's own profile name).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from desktop.paths import ensure_private_dir, write_private_file

STYLESHEET = "onesend.qss"
HIGH_CONTRAST_STYLESHEET = "onesend-high-contrast.qss"
PREFERENCES_FILE = "window-preferences.json"

IDLE_CHOICES_MINUTES = (1, 5, 10, 15, 30)
DEFAULT_IDLE_MINUTES = 5.0
TEXT_SCALES = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)


def stylesheet(*, high_contrast: bool = False) -> str:
    """The application stylesheet shipped in `resources`, with the high-contrast layer on top."""
    folder = resources.files("resources")
    text = folder.joinpath(STYLESHEET).read_text(encoding="utf-8")
    if high_contrast:
        text += "\n" + folder.joinpath(HIGH_CONTRAST_STYLESHEET).read_text(encoding="utf-8")
    return text


@dataclass
class Preferences:
    """What the user chose in the View menu, and the profile they last unlocked."""

    high_contrast: bool = False
    text_scale: float = 1.0
    idle_minutes: float = DEFAULT_IDLE_MINUTES
    last_profile: str = ""

    @classmethod
    def load(cls, data_dir: Path | None) -> Preferences:
        """The saved preferences, or the defaults when there are none or they are unreadable."""
        if data_dir is None:
            return cls()
        try:
            raw: Any = json.loads((data_dir / PREFERENCES_FILE).read_bytes())
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        prefs = cls()
        if isinstance(raw.get("high_contrast"), bool):
            prefs.high_contrast = raw["high_contrast"]
        scale = raw.get("text_scale")
        if isinstance(scale, int | float) and min(TEXT_SCALES) <= scale <= max(TEXT_SCALES):
            prefs.text_scale = float(scale)
        idle = raw.get("idle_minutes")
        if isinstance(idle, int | float) and 0 < idle <= 24 * 60:
            prefs.idle_minutes = float(idle)
        if isinstance(raw.get("last_profile"), str):
            prefs.last_profile = raw["last_profile"]
        return prefs

    def save(self, data_dir: Path | None) -> bool:
        """Write the preferences atomically; False (and nothing else) if the disk refused."""
        if data_dir is None:
            return False
        try:
            ensure_private_dir(data_dir)
            write_private_file(data_dir / PREFERENCES_FILE,
                               json.dumps(asdict(self), indent=2).encode("utf-8") + b"\n")
        except OSError:
            return False  # a preference not kept is not worth interrupting anyone for
        return True


def high_contrast_palette() -> QPalette:
    """White on black, yellow for focus and selection: the usual high-contrast scheme."""
    black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor("#ffff00")
    grey = QColor("#c0c0c0")
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, black), (roles.WindowText, white), (roles.Base, black),
        (roles.AlternateBase, QColor("#1a1a1a")), (roles.Text, white), (roles.Button, black),
        (roles.ButtonText, white), (roles.BrightText, yellow), (roles.Highlight, yellow),
        (roles.HighlightedText, black), (roles.Link, yellow), (roles.LinkVisited, yellow),
        (roles.ToolTipBase, black), (roles.ToolTipText, white), (roles.PlaceholderText, grey),
        (roles.Light, white), (roles.Midlight, grey), (roles.Mid, white), (roles.Dark, white),
        (roles.Shadow, white),
    ):
        palette.setColor(role, colour)
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, grey)
    return palette


def scaled_font(base: QFont, factor: float, *, bold: bool | None = None) -> QFont:
    """A font derived from `base` (the system font), so it grows with the user's setting."""
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    elif font.pixelSize() > 0:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    if bold is not None:
        font.setBold(bold)
    return font


def use_stylesheet_propagation() -> None:
    """Let fonts and palettes propagate under the stylesheet, as they do without one.

    By default a stylesheet pins each polished widget's font and palette, so neither a change
    of the system's text size, nor Larger text, nor the high-contrast palette would reach
    widgets already on screen.
    """
    QCoreApplication.setAttribute(
        Qt.ApplicationAttribute.AA_UseStyleSheetPropagationInWidgetStyles, True)


class Appearance:
    """Applies the preferences to the application, relative to the system's own font and colours.

    Made once, before any preference is applied, so "normal size" and "normal colours" are
    always the system's, however often the user changes them.
    """

    _shared: Appearance | None = None

    def __init__(self, app: QApplication) -> None:
        self.app = app
        use_stylesheet_propagation()
        self.system_font = QFont(app.font())
        self.system_palette = QPalette(app.palette())

    @classmethod
    def of(cls, app: QApplication) -> Appearance:
        """The application's one Appearance, made the first time (before any preference)."""
        if cls._shared is None or cls._shared.app is not app:
            cls._shared = cls(app)
        return cls._shared

    def apply(self, prefs: Preferences) -> None:
        font = scaled_font(self.system_font, prefs.text_scale)
        if font != self.app.font():
            self.app.setFont(font)
        palette = high_contrast_palette() if prefs.high_contrast else self.system_palette
        if palette != self.app.palette():
            self.app.setPalette(palette)
        sheet = stylesheet(high_contrast=prefs.high_contrast)
        if sheet != self.app.styleSheet():
            self.app.setStyleSheet(sheet)


def next_text_scale(current: float, step: int) -> float:
    """The next size up (step 1) or down (step -1) from `current`, within the choices."""
    nearest = min(range(len(TEXT_SCALES)), key=lambda i: abs(TEXT_SCALES[i] - current))
    return TEXT_SCALES[max(0, min(len(TEXT_SCALES) - 1, nearest + step))]
