"""The window half of `onesend self-test`: open the real main window, see it shown, close it.

Run offscreen by the packaged executable to prove that Qt, its platform plug-in, the
stylesheet and the icon all made it into the bundle.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import (
    QElapsedTimer,
    QEventLoop,
    QMessageLogContext,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)

from ui.app import app_icon, application, stylesheet
from ui.main_window import MainWindow

TIMEOUT_MS = 10_000
POLL_MS = 10
# What the offscreen plug-in says about window-manager features it does not have. Harmless, and
# not what someone reading the self-test's output should have to judge.
OFFSCREEN_NOISE = "This plugin does not support "

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]


@contextmanager
def _without_offscreen_noise() -> Iterator[None]:
    previous: MessageHandler | None = None

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message.startswith(OFFSCREEN_NOISE):
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def open_and_close_window(timeout_ms: int = TIMEOUT_MS) -> None:
    """Show the main window, wait until it is exposed, close it; RuntimeError if it never shows.

    Uses the running QApplication or creates one (honouring QT_QPA_PLATFORM, which the caller
    sets to `offscreen` for a headless check).
    """
    application()
    if not stylesheet().strip():
        raise RuntimeError("Self-test failed: the stylesheet is empty in this build.")
    if app_icon().isNull():
        raise RuntimeError("Self-test failed: the application icon is missing in this build.")

    window = MainWindow(["self-test"])
    # Closing this window must not quit an application someone else is running.
    window.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    loop = QEventLoop()
    clock = QElapsedTimer()
    poll = QTimer()
    poll.setInterval(POLL_MS)
    outcome: dict[str, bool] = {"exposed": False}

    def check() -> None:
        handle = window.windowHandle()
        if window.isVisible() and handle is not None and handle.isExposed():
            outcome["exposed"] = True
        if outcome["exposed"] or clock.elapsed() > timeout_ms:
            poll.stop()
            window.close()
            loop.quit()

    poll.timeout.connect(check)
    with _without_offscreen_noise():
        clock.start()
        window.show()
        poll.start()
        loop.exec()  # Qt's event loop (QEventLoop.exec), not Python's exec
    closed = not window.isVisible()
    window.deleteLater()
    if not outcome["exposed"]:
        raise RuntimeError(
            f"Self-test failed: the window was not shown within {timeout_ms / 1000:g} s."
        )
    if not closed:
        raise RuntimeError("Self-test failed: the window did not close.")
