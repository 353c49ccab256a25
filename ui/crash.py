"""When things go wrong: one sentence for a user error, a report with no child data for a bug.

The crash hook catches what nobody else did, on the GUI thread (``sys.excepthook``), on
worker threads (``threading.excepthook``) and in Qt (a fatal Qt message). It writes a report
to ``DATA_DIR/crash-reports/`` holding only what a developer needs and nothing a child could
be recognised by: the exception's *type* and where in the code it happened (file, line,
function), the versions and the platform. Never the exception's message, never a local
variable, never an answer: any of those can hold a name or a UPN. The user is then told in
one sentence, from the GUI thread, and the report is offered at the next start.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import PySide6
from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    Qt,
    QtMsgType,
    QUrl,
    Signal,
    qInstallMessageHandler,
    qVersion,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop import __version__
from desktop.errors import OneSendError
from desktop.paths import ensure_private_dir, write_private_file
from forms.errors import UserError
from ui.tasks import emit

REPORTS_FOLDER = "crash-reports"
OFFERED_FILE = ".offered"
REPORT_PREFIX = "crash-"
CRASH_SENTENCE = (
    "OneSEND met an unexpected problem; your work up to the last save is safe, and a report "
    "without any child's details was saved for the support team."
)
# Folders whose names are the packages' own: a path is shown from there, not from the home.
_OWN_PACKAGES = ("ui", "desktop", "forms", "sync", "resources", "PySide6", "shiboken6")

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], None]


def user_sentence(error: BaseException, doing: str, reassurance: str = "") -> str:
    """One sentence for the user; never an unknown exception's text (it could hold data).

    Our own errors are already a sentence; anything else says what was being done and, when
    given, what the user can rely on ("your answers are still on screen").
    """
    if isinstance(error, OneSendError):
        return str(error)
    if not isinstance(error, (UserError, OSError)):
        report_bug(error)  # our bug, not the user's nor the disk's: the support team hears
    return f"Something went wrong while {doing}{'; ' + reassurance if reassurance else ''}."


def report_bug(error: BaseException) -> Path | None:
    """Write a crash report (no message, no values) for a bug that a failure callback caught,
    through the window's installed reporter; None when none is installed."""
    reporter = getattr(sys.excepthook, "__self__", None)
    if not isinstance(reporter, CrashReporter):
        return None
    return reporter.write_report(type(error), error, error.__traceback__,
                                 origin="a task's failure")


def show_problem(parent: QWidget | None, sentence: str, title: str = "OneSEND") -> QMessageBox:
    """A one-sentence message box, opened without blocking (window-modal); returned for tests."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, sentence, QMessageBox.StandardButton.Ok,
                      parent)
    box.setObjectName("problemMessage")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setAccessibleName(title)
    box.setAccessibleDescription(sentence)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def _short_path(filename: str) -> str:
    """A source path from its package down, so a report does not name the user's home folder."""
    parts = Path(filename).parts
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in _OWN_PACKAGES or parts[index] == "site-packages":
            start = index + 1 if parts[index] == "site-packages" else index
            return "/".join(parts[start:])
    return "/".join(parts[-2:])


def _locations(frames: Iterable[traceback.FrameSummary]) -> list[str]:
    # File, line and function only: `FrameSummary.line` is source code, which is safe, but
    # the report keeps to locations so nothing but code positions can ever be in it.
    return [f'  File "{_short_path(f.filename)}", line {f.lineno}, in {f.name}' for f in frames]


def _exception_lines(error_type: type[BaseException], tb: TracebackType | None,
                     error: BaseException | None) -> list[str]:
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[tuple[type[BaseException], TracebackType | None, str]] = []
    current, kind, trace, link = error, error_type, tb, ""
    while True:
        chain.append((kind, trace, link))
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        following: BaseException | None
        if current.__cause__ is not None:
            following, link = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            following, link = current.__context__, "while handling"
        else:
            break
        current, kind, trace = following, type(following), following.__traceback__
    for kind, trace, link in chain:
        if link:
            lines.append(f"{link}:")
        lines.append(f"Exception type: {kind.__module__}.{kind.__qualname__}")
        lines.append("Traceback (most recent call last):")
        lines.extend(_locations(traceback.extract_tb(trace)))
    return lines


def report_text(origin: str, body: list[str], *, thread: str) -> str:
    """The whole report: what happened where, and on which versions; no message, no values."""
    header = [
        "OneSEND crash report",
        "This report holds no child data: exception messages and values are left out.",
        f"Time (UTC): {datetime.now(tz=UTC).isoformat(timespec='seconds')}",
        f"Origin: {origin}",
        f"Thread: {thread}",
        f"OneSEND: {__version__}",
        f"Qt: {qVersion()}",
        f"PySide6: {PySide6.__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"Platform: {platform.platform()}",
        f"Frozen bundle: {'yes' if getattr(sys, 'frozen', False) else 'no'}",
        "",
    ]
    return "\n".join(header + body) + "\n"


class CrashReporter(QObject):
    """Installs the crash hooks, writes reports, and tells the user on the GUI thread."""

    crashed = Signal(str)  # the report's path; delivered on the GUI thread

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = data_dir / REPORTS_FOLDER
        self._previous_excepthook: Callable[..., Any] | None = None
        self._previous_threading_hook: Callable[..., Any] | None = None
        self._previous_qt_handler: MessageHandler | None = None
        self._installed = False
        self._lock = threading.Lock()

    # -- hooks -------------------------------------------------------------------------------

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._threading_hook
        self._previous_qt_handler = qInstallMessageHandler(self._qt_message)

    def uninstall(self) -> None:
        if not self._installed:
            return
        self._installed = False
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
        if self._previous_threading_hook is not None:
            threading.excepthook = self._previous_threading_hook
        qInstallMessageHandler(self._previous_qt_handler)

    def _excepthook(self, error_type: type[BaseException], error: BaseException,
                    tb: TracebackType | None) -> None:
        if issubclass(error_type, KeyboardInterrupt):
            if self._previous_excepthook is not None:
                self._previous_excepthook(error_type, error, tb)
            return
        self.record(error_type, error, tb, origin="unhandled exception")

    def _threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self.record(args.exc_type, args.exc_value, args.exc_traceback,
                    origin="unhandled exception in a worker thread", thread=name)

    def _qt_message(self, kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            # Qt aborts after this returns: write now, synchronously. The message itself is
            # left out (it may quote text from a widget); where Python was is kept.
            body = ["Exception type: Qt fatal message",
                    f"Qt category: {context.category or 'default'}",
                    "Python stack (most recent call last):",
                    *_locations(traceback.extract_stack()[:-1])]
            self._write(report_text("fatal Qt message", body, thread=_thread_name()))
            sys.stderr.write("OneSEND: a fatal Qt error; a crash report was saved.\n")
            return
        if self._previous_qt_handler is not None:
            self._previous_qt_handler(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    # -- reports -----------------------------------------------------------------------------

    def write_report(self, error_type: type[BaseException], error: BaseException | None,
                     tb: TracebackType | None, *, origin: str,
                     thread: str | None = None) -> Path | None:
        """Write a report for this exception (no message, no values); its path, or None."""
        text = report_text(origin, _exception_lines(error_type, tb, error),
                           thread=thread or _thread_name())
        return self._write(text)

    def record(self, error_type: type[BaseException], error: BaseException | None,
               tb: TracebackType | None, *, origin: str, thread: str | None = None) -> Path | None:
        """Write a report for this exception and tell the user (from any thread)."""
        path = self.write_report(error_type, error, tb, origin=origin, thread=thread)
        sys.stderr.write(f"OneSEND: an unexpected {error_type.__name__}; "
                         f"a crash report was saved{' as ' + str(path) if path else ''}.\n")
        if path is not None:
            # A queued connection delivers this on the GUI thread, wherever it is emitted.
            emit(self.crashed, str(path))
        return path

    def _write(self, text: str) -> Path | None:
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{REPORT_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}.txt"
        try:
            with self._lock:
                ensure_private_dir(self.folder)
                write_private_file(path, text.encode("utf-8"))
        except OSError:
            return None
        return path

    def pending(self) -> list[Path]:
        """Reports not yet offered to the user, oldest first."""
        if not self.folder.is_dir():
            return []
        offered = set(self._offered())
        return sorted(p for p in self.folder.glob(f"{REPORT_PREFIX}*.txt")
                      if p.name not in offered)

    def _offered(self) -> list[str]:
        try:
            return (self.folder / OFFERED_FILE).read_text("utf-8").split()
        except OSError:
            return []

    def mark_offered(self, reports: list[Path]) -> None:
        names = sorted({*self._offered(), *(p.name for p in reports if p.exists())})
        try:
            write_private_file(self.folder / OFFERED_FILE, ("\n".join(names) + "\n").encode())
        except OSError:
            return  # offered again next time: harmless

    def delete(self, reports: list[Path]) -> None:
        for report in reports:
            report.unlink(missing_ok=True)


def _thread_name() -> str:
    return threading.current_thread().name


class CrashReportOffer(QMessageBox):
    """At start: 'a report was saved last time', where it is, and Open folder / Delete / Keep."""

    def __init__(self, reporter: CrashReporter, reports: list[Path],
                 parent: QWidget | None = None) -> None:
        count = len(reports)
        text = (f"OneSEND stopped unexpectedly {'once' if count == 1 else f'{count} times'} "
                "before, and saved a report that holds no child data. You can send it to your "
                "support team to help them fix the problem.")
        super().__init__(QMessageBox.Icon.Information, "Crash report saved", text,
                         QMessageBox.StandardButton.NoButton, parent)
        self.setObjectName("crashReportOffer")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setInformativeText("The report is in " + str(reporter.folder) + os.sep + (
            reports[0].name if count == 1 else ""))
        self.setAccessibleName("Crash report saved")
        self.setAccessibleDescription(text)
        self.reporter = reporter
        self.reports = reports
        self.open_button = self.addButton("&Open folder", QMessageBox.ButtonRole.ActionRole)
        self.delete_button = self.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
        self.keep_button = self.addButton("&Keep", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.keep_button)
        self.buttonClicked.connect(self._chosen)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def _chosen(self, button: object) -> None:
        if button is self.delete_button:
            self.reporter.delete(self.reports)
            return
        self.reporter.mark_offered(self.reports)
        if button is self.open_button:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.reporter.folder)))
