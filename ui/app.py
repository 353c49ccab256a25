"""The composition root of the window: the QApplication, its look, and the main window.

Assets come through `importlib.resources`, so a source checkout and the frozen bundle find
them the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from desktop import __version__
from desktop.crypto import DEFAULT_KDF, KdfParams
from ui import theme
from ui.crash import CrashReporter
from ui.main_window import MainWindow

APP_NAME = "OneSEND"
ORGANISATION = "OneSEND"
DESKTOP_FILE = "onesend"  # resources/onesend.desktop; the Wayland app id
STYLESHEET = theme.STYLESHEET
ICON = "onesend.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
STARTUP_PROBE_ENV = "ONESEND_STARTUP_PROBE"
STARTUP_PROBE_LINE = "startup-probe: shown"


def stylesheet() -> str:
    """The application stylesheet shipped in `resources` (without the high-contrast layer)."""
    return theme.stylesheet()


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
    theme.use_stylesheet_propagation()
    # Only the program name: argparse has already read the arguments, Qt must not reread them.
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())
    return app


def run_app(
    data_dir: Path,
    profile_names: list[str],
    *,
    kdf: KdfParams = DEFAULT_KDF,
    install_crash_hooks: bool = True,
) -> int:
    """Show the OneSEND window for the profiles in `data_dir`; return the event loop's exit code.

    With ONESEND_STARTUP_PROBE=1 (the start-up benchmark), print ``startup-probe: shown`` as
    soon as the first page is on screen and the event loop is idle, then quit with 0.
    """
    app = application()
    probe = os.environ.get(STARTUP_PROBE_ENV) == "1"
    reporter = CrashReporter(data_dir)
    if install_crash_hooks:
        reporter.install()
    try:
        window = MainWindow(profile_names, data_dir, kdf=kdf,
                            crash_reporter=None if probe else reporter, freeze_start_up=True)
        window.show()
        if probe:
            _probe_when_shown(app, window)
        return app.exec()  # Qt's event loop (QApplication.exec), not Python's exec
    finally:
        if install_crash_hooks:
            reporter.uninstall()


def _probe_when_shown(app: QApplication, window: MainWindow) -> None:
    """Report once the window is exposed and every event queued so far has been handled."""

    def check() -> None:
        handle = window.windowHandle()
        if window.isVisible() and handle is not None and handle.isExposed():
            sys.stdout.write(f"{STARTUP_PROBE_LINE}\n")
            sys.stdout.flush()
            window.close()
            app.exit(0)
            return
        QTimer.singleShot(5, check)

    # A zero timer fires after the events already queued (show, expose, paint) are handled.
    QTimer.singleShot(0, check)
