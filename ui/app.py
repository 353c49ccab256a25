"""The composition root of the window: the QApplication, its look, and the main window.

Assets come through `importlib.resources`, so a source checkout and the frozen bundle find
them the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from desktop import __version__
from ui.main_window import MainWindow

APP_NAME = "OneSEND"
ORGANISATION = "OneSEND"
DESKTOP_FILE = "onesend"  # resources/onesend.desktop; the Wayland app id
STYLESHEET = "onesend.qss"
ICON = "onesend.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def stylesheet() -> str:
    """The application stylesheet shipped in `resources`."""
    return resources.files("resources").joinpath(STYLESHEET).read_text(encoding="utf-8")


def app_icon() -> QIcon:
    """The OneSEND icon, drawn from its SVG at the usual sizes (no image plug-in needed).

    Raises RuntimeError when the SVG is missing from this build or cannot be drawn.
    """
    data = resources.files("resources").joinpath(ICON).read_bytes()
    renderer = QSvgRenderer(QByteArray(data))
    if not renderer.isValid():
        raise RuntimeError(f"The application icon {ICON} could not be read.")
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def set_application_identity() -> None:
    """Names Qt uses for settings, the window title and the desktop entry; before the app."""
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setApplicationDisplayName(APP_NAME)
    QGuiApplication.setDesktopFileName(DESKTOP_FILE)


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, created (with OneSEND's identity and look) if there is none."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    set_application_identity()
    # Only the program name: argparse has already read the arguments, Qt must not reread them.
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())
    return app


def run_app(data_dir: Path, profile_names: list[str]) -> int:
    """Show the OneSEND window for the profiles in `data_dir`; return the event loop's exit code."""
    app = application()
    window = MainWindow(profile_names, data_dir)
    window.show()
    return app.exec()
