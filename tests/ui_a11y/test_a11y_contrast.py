"""Finding 10: every text/background pair in both themes meets WCAG 2.2's contrast minimum,
computed from the theme files themselves (the stylesheets, the editor's and the conflict
view's own, and the high-contrast palette): 4.5:1 for text (1.4.3), 3:1 for focus indicators
and other non-text parts (1.4.11). Disabled controls are exempt (1.4.3, "inactive").
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow
from pytestqt.qtbot import QtBot

from ui import conflict_view
from ui.form.editor import editor_style
from ui.theme import high_contrast_palette, stylesheet

from .conftest import OpenEditor, example

BLOCK = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
PALETTE_REF = re.compile(r"palette\(([a-z-]+)\)")
ROLES = {
    "window": QPalette.ColorRole.Window, "window-text": QPalette.ColorRole.WindowText,
    "base": QPalette.ColorRole.Base, "alternate-base": QPalette.ColorRole.AlternateBase,
    "text": QPalette.ColorRole.Text, "button": QPalette.ColorRole.Button,
    "button-text": QPalette.ColorRole.ButtonText, "bright-text": QPalette.ColorRole.BrightText,
    "highlight": QPalette.ColorRole.Highlight,
    "highlighted-text": QPalette.ColorRole.HighlightedText, "link": QPalette.ColorRole.Link,
    "mid": QPalette.ColorRole.Mid, "dark": QPalette.ColorRole.Dark,
    "light": QPalette.ColorRole.Light, "placeholder-text": QPalette.ColorRole.PlaceholderText,
}


def light_palette() -> QPalette:
    """A standard light palette (what a system without dark mode gives the normal theme)."""
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#efefef"),
                         (QPalette.ColorRole.WindowText, "#000000"),
                         (QPalette.ColorRole.Base, "#ffffff"),
                         (QPalette.ColorRole.Text, "#000000"),
                         (QPalette.ColorRole.Button, "#efefef"),
                         (QPalette.ColorRole.ButtonText, "#000000"),
                         (QPalette.ColorRole.Link, "#0000ff"),
                         (QPalette.ColorRole.Mid, "#b8b8b8"),
                         (QPalette.ColorRole.Dark, "#9f9f9f")):
        palette.setColor(role, QColor(colour))
    return palette


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def ratio(one: QColor, two: QColor) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour(value: str, palette: QPalette) -> QColor | None:
    found = HEX.search(value)
    if found:
        return QColor(found.group(0))
    ref = PALETTE_REF.search(value)
    if ref and ref.group(1) in ROLES:
        return palette.color(ROLES[ref.group(1)])
    return None


def rules(sheet: str) -> list[tuple[str, dict[str, str]]]:
    """Each selector with what it ends up declaring: a later rule overrides an earlier one, as
    the high-contrast layer overrides the base sheet and a widget's sheet the application's."""
    without_comments = re.sub(r"/\*.*?\*/", "", sheet, flags=re.DOTALL)
    found: dict[str, dict[str, str]] = {}
    for selectors, body in BLOCK.findall(without_comments):
        declarations = {}
        for part in body.split(";"):
            if ":" in part:
                name, _, value = part.partition(":")
                declarations[name.strip().lower()] = value.strip()
        for selector in selectors.split(","):
            found.setdefault(" ".join(selector.split()), {}).update(declarations)
    return list(found.items())


def theme(high_contrast: bool) -> tuple[str, QPalette, list[QColor]]:
    """The whole of a theme's style, its palette, and the surfaces text may sit on."""
    palette = high_contrast_palette() if high_contrast else light_palette()
    sheet = "\n".join([
        stylesheet(high_contrast=high_contrast),
        editor_style(high_contrast),
        f"QFrame#changed {{ {conflict_view._DIFF_STYLE} }}",
        f"QFrame#same {{ {conflict_view._SAME_STYLE} }}",
    ])
    surfaces = [palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.Base)]
    return sheet, palette, surfaces


def failures(high_contrast: bool) -> list[str]:
    sheet, palette, surfaces = theme(high_contrast)
    problems = []
    for selectors, declared in rules(sheet):
        if ":disabled" in selectors:
            continue  # inactive controls are exempt (WCAG 1.4.3)
        background = colour(declared.get("background", declared.get("background-color", "")),
                            palette)
        behind = [background] if background is not None else surfaces
        pairs = [("color", 4.5), ("placeholder-text-color", 4.5)]
        for name, minimum in pairs:
            text = colour(declared.get(name, ""), palette)
            for surface in behind:
                if text is not None and ratio(text, surface) < minimum:
                    problems.append(f"{selectors}: {name} {text.name()} on {surface.name()} "
                                    f"is {ratio(text, surface):.2f}:1")
        selected = colour(declared.get("selection-color", ""), palette)
        selected_bg = colour(declared.get("selection-background-color", ""), palette)
        if selected is not None and selected_bg is not None and ratio(selected, selected_bg) < 4.5:
            problems.append(f"{selectors}: selection {ratio(selected, selected_bg):.2f}:1")
        if ":focus" in selectors.split()[-1]:  # the focused widget itself, not its words
            # The indicator: a changed background, or a border, against what is around it.
            edges = [colour(declared.get(side, ""), palette)
                     for side in ("border", "border-bottom", "border-left")]
            indicators = [c for c in (*edges, background) if c is not None]
            if not indicators:
                problems.append(f"{selectors}: no visible focus indicator")
                continue
            for surface in surfaces:
                best = max(ratio(indicator, surface) for indicator in indicators)
                if best < 3:
                    problems.append(f"{selectors}: focus on {surface.name()} is {best:.2f}:1")
    return problems


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "high-contrast"])
def test_every_text_and_focus_colour_in_the_theme_files_has_enough_contrast(
    high_contrast: bool,
) -> None:
    found = failures(high_contrast)
    assert found == [], "\n".join(found)


def test_the_high_contrast_palette_pairs_have_enough_contrast() -> None:
    palette = high_contrast_palette()
    roles = QPalette.ColorRole
    for text, surface in ((roles.WindowText, roles.Window), (roles.Text, roles.Base),
                          (roles.Text, roles.AlternateBase), (roles.ButtonText, roles.Button),
                          (roles.HighlightedText, roles.Highlight), (roles.Link, roles.Base),
                          (roles.PlaceholderText, roles.Base), (roles.BrightText, roles.Window),
                          (roles.ToolTipText, roles.ToolTipBase)):
        assert ratio(palette.color(text), palette.color(surface)) >= 4.5, (text, surface)


def test_high_contrast_reaches_placeholders_and_the_menu_bar(
    qtbot: QtBot, qapp: QApplication,
) -> None:
    qapp.setPalette(high_contrast_palette())
    qapp.setStyleSheet(stylesheet(high_contrast=True))
    window = QMainWindow()
    qtbot.addWidget(window)
    edit = QLineEdit()
    edit.setPlaceholderText("Child's name or UPN")
    window.setCentralWidget(edit)
    window.menuBar().addMenu("&File")
    window.show()
    qtbot.waitExposed(window)
    placeholder = edit.palette().color(QPalette.ColorRole.PlaceholderText)
    assert placeholder.alpha() == 255
    assert ratio(placeholder, QColor("#000000")) >= 4.5
    image = window.menuBar().grab().toImage()
    assert luminance(image.pixelColor(1, 1)) < 0.05  # a black bar, not the system's grey


def test_the_editor_takes_its_dark_colours_in_high_contrast(
    qtbot: QtBot, qapp: QApplication, open_editor: OpenEditor,
) -> None:
    editor = open_editor(example("primary"))
    assert editor.styleSheet() == editor_style(False)
    qapp.setPalette(high_contrast_palette())
    qtbot.waitUntil(lambda: editor.styleSheet() == editor_style(True), timeout=3_000)
