"""The editor's stylesheet: errors by words and a bar, focus in GOV.UK yellow, on any theme."""

from __future__ import annotations

# Errors are marked by words ("Error: …", "There is a problem") and a thick bar, never by
# colour alone; focus is the GOV.UK yellow so it shows on any theme. Colours come from the
# palette where they can; the two that cannot (the error red, the focused input's edge) have
# a light and a dark version, so both themes keep 4.5:1 for text and 3:1 for focus
# (tests/ui_a11y/test_a11y_contrast.py computes them).
_EDITOR_STYLE = """
QFrame#question[error="true"] { border-left: 5px solid {error}; }
QLabel#errorMessage { color: {error}; font-weight: bold; }
QFrame#errorSummary { border: 4px solid {error}; }
QPushButton#errorLink, QPushButton#changeLink, QPushButton#itemOpener {
    border: none; text-align: left; text-decoration: underline; color: palette(link);
    padding: 2px 4px;
}
QPushButton#errorLink { color: {error}; font-weight: bold; }
QPushButton#errorLink QLabel#linkText { color: {error}; font-weight: bold;
    text-decoration: underline; background: transparent; }
QLabel#linkText[focused="true"] { color: #0b0c0c; background: #ffdd00; }
QPushButton#errorLink:focus, QPushButton#changeLink:focus, QPushButton#itemOpener:focus,
QLabel#sectionTitle:focus, QLabel#errorSummaryTitle:focus, QLabel#computedValue:focus {
    background: #ffdd00; color: #0b0c0c; outline: none; border-bottom: 4px solid #0b0c0c;
}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus { border: 3px solid {edge};
    background: palette(base); }
QPushButton:focus, QToolButton:focus, QCheckBox:focus, QRadioButton:focus {
    background: #ffdd00; color: #0b0c0c; border-bottom: 4px solid #0b0c0c; }
QFrame#readOnlyBanner { border: 3px solid #1d70b8; }
QFrame#itemCard { border: 1px solid palette(mid); }
QFrame#itemCard[error="true"] { border-left: 5px solid {error}; }
"""


def editor_style(dark: bool) -> str:
    """The editor's stylesheet for a light window (GOV.UK colours) or a dark one."""
    # GOV.UK's red (#d4351c) is 4.2:1 on a grey window: a darker red keeps 4.5:1.
    return (_EDITOR_STYLE.replace("{error}", "#ff9d8f" if dark else "#aa2a16")
            .replace("{edge}", "#ffff00" if dark else "#0b0c0c"))
