"""The window half of `onesend self-test`: open the real main window, see it shown, close it.

Run offscreen by the packaged executable to prove that Qt, its platform plug-in, the
stylesheet and the icon all made it into the bundle.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import (
    QCollator,
    QDate,
    QElapsedTimer,
    QEventLoop,
    QLocale,
    QMessageLogContext,
    Qt,
    QTextBoundaryFinder,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QFont, QTextLayout

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


# What Qt's ICU and text code must still do in a build (the bundle carries English ICU data
# only; build_scripts/bundle_trim.py): sort names as an English reader expects (accents after
# the plain letter, case after the letter, numbers by value), format dates the UK way, and
# find word and line breaks.
_COLLATED = ["apple", "Apple", "eagle", "éclair", "Émile", "item 9", "item 10", "zebra", "Zoë"]


def check_text_services() -> None:
    """Collation, en-GB dates, case mapping and text breaking; RuntimeError naming what failed."""
    application()
    en_gb = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    collator = QCollator(en_gb)
    collator.setNumericMode(True)
    shuffled = sorted(_COLLATED, key=lambda word: word[::-1])
    if sorted(shuffled, key=collator.sortKey) != _COLLATED:
        raise RuntimeError("Self-test failed: English collation (ICU) is missing in this build.")
    day = QDate(2026, 1, 2)
    dates = (en_gb.toString(day, "d MMMM yyyy"),
             en_gb.toString(day, QLocale.FormatType.ShortFormat))
    if dates != ("2 January 2026", "02/01/2026"):
        raise RuntimeError(f"Self-test failed: en-GB dates read {dates} in this build.")
    if en_gb.toUpper("straße zoë") != "STRASSE ZOË":
        raise RuntimeError("Self-test failed: case mapping (ICU) is wrong in this build.")
    text = "Zoë's plan, agreed in 2026."
    finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Word, text)
    words = []
    start = 0
    while (end := finder.toNextBoundary()) != -1:
        if text[start:end].strip(" ,."):
            words.append(text[start:end])
        start = end
    if words != ["Zoë's", "plan", "agreed", "in", "2026"]:
        raise RuntimeError(f"Self-test failed: word breaks are {words} in this build.")
    layout = QTextLayout("The family's copy wraps at word boundaries " * 4, QFont())
    layout.beginLayout()
    starts = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(150)
        starts.append(line.textStart())
    layout.endLayout()
    if len(starts) < 3 or any(layout.text()[s - 1] != " " for s in starts[1:]):
        raise RuntimeError("Self-test failed: lines do not wrap at spaces in this build.")
