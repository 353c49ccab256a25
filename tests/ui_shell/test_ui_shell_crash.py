"""The crash hook: reports with no child data, from the GUI thread and workers; offered at start."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.errors import WrongPassword
from ui.crash import CRASH_SENTENCE, CrashReporter, show_problem, user_sentence
from ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MakeWindow = Callable[..., MainWindow]

CHILD_NAME = "Maya Zanzibar-Example"
CHILD_UPN = "M204123416001"


class ChildDataError(RuntimeError):
    """An exception whose message (wrongly) quotes a child's details."""


def fail_with_child_data() -> None:
    answers = {"first_name": CHILD_NAME, "upn": CHILD_UPN}  # a local a report must not show
    raise ChildDataError(f"could not save {answers['first_name']} ({answers['upn']})")


def assert_clean(report: str) -> None:
    assert CHILD_NAME not in report
    assert "Zanzibar" not in report
    assert CHILD_UPN not in report
    assert "could not save" not in report


@pytest.fixture
def reporter(shell_dir: Path) -> Iterator[CrashReporter]:
    made = CrashReporter(shell_dir)
    yield made
    made.uninstall()


def test_a_report_has_type_and_code_locations_and_no_child_data(reporter: CrashReporter) -> None:
    try:
        fail_with_child_data()
    except ChildDataError as error:
        path = reporter.record(type(error), error, error.__traceback__, origin="test")
    assert path is not None
    assert path.parent == reporter.folder
    assert path.stat().st_mode & 0o077 == 0
    text = path.read_text("utf-8")
    assert_clean(text)
    assert "ChildDataError" in text
    assert "in fail_with_child_data" in text
    assert "test_ui_shell_crash.py" in text
    assert "Qt: " in text
    assert "Python: " in text
    assert "Platform: " in text
    assert str(Path.home()) not in text or str(Path.home()) == "/"


def test_a_chained_exception_keeps_both_types_and_neither_message(
    reporter: CrashReporter,
) -> None:
    try:
        try:
            fail_with_child_data()
        except ChildDataError as inner:
            raise ValueError(f"wrapped: {inner}") from inner
    except ValueError as error:
        path = reporter.record(type(error), error, error.__traceback__, origin="test")
    assert path is not None
    text = path.read_text("utf-8")
    assert_clean(text)
    assert "builtins.ValueError" in text
    assert "caused by:" in text
    assert "ChildDataError" in text


def test_worker_thread_exception_writes_a_report_and_tells_the_gui_thread(
    qtbot: QtBot, reporter: CrashReporter,
) -> None:
    reporter.install()
    seen_on: list[threading.Thread] = []
    reporter.crashed.connect(lambda _p: seen_on.append(threading.current_thread()))
    with qtbot.waitSignal(reporter.crashed, timeout=10_000) as blocker:
        worker = threading.Thread(target=fail_with_child_data, name="onesend-test-worker")
        worker.start()
        worker.join()
    report = Path(str(blocker.args[0]))
    text = report.read_text("utf-8")
    assert_clean(text)
    assert "Thread: onesend-test-worker" in text
    assert "worker thread" in text
    assert reporter.pending() == [report]


def test_gui_thread_exception_in_a_slot_goes_to_the_hook(
    qtbot: QtBot, reporter: CrashReporter,
) -> None:
    before = sys.excepthook
    reporter.install()
    assert sys.excepthook != sys.__excepthook__
    with qtbot.waitSignal(reporter.crashed, timeout=10_000) as blocker:
        QTimer.singleShot(0, fail_with_child_data)
    text = Path(str(blocker.args[0])).read_text("utf-8")
    assert_clean(text)
    assert "unhandled exception" in text
    reporter.uninstall()
    assert sys.excepthook is before  # the hook it replaced is back


# A process that installs the reporter and then has Qt abort with a fatal message that quotes
# a child's name (Qt aborts the process after the message handler returns).
FATAL_QT_MESSAGE = f"""
import resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the abort leaves no core file behind
from PySide6.QtCore import qFatal
from ui.crash import CrashReporter
CrashReporter(Path(sys.argv[1])).install()
qFatal("cannot draw {CHILD_NAME}")
"""


def test_fatal_qt_message_writes_a_report_without_the_message(shell_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FATAL_QT_MESSAGE, str(shell_dir)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0  # Qt aborted the process
    assert "a fatal Qt error; a crash report was saved" in done.stderr
    (report,) = CrashReporter(shell_dir).pending()
    text = report.read_text("utf-8")
    assert_clean(text)
    assert "Qt fatal message" in text


def test_window_tells_the_user_in_one_sentence(
    qtbot: QtBot, make_window: MakeWindow, reporter: CrashReporter,
) -> None:
    window = make_window(crash_reporter=reporter)
    reporter.install()
    worker = threading.Thread(target=fail_with_child_data)
    worker.start()
    worker.join()

    def told() -> bool:
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()
                 and b.text() == CRASH_SENTENCE]
        return bool(boxes)

    qtbot.waitUntil(told, timeout=10_000)


def test_pending_reports_are_offered_at_the_next_start_and_can_be_deleted(
    qtbot: QtBot, make_window: MakeWindow, reporter: CrashReporter,
) -> None:
    try:
        fail_with_child_data()
    except ChildDataError as error:
        path = reporter.record(type(error), error, error.__traceback__, origin="test")
    assert path is not None
    window = make_window(crash_reporter=reporter)
    qtbot.waitUntil(lambda: window.crash_offer is not None and window.crash_offer.isVisible())
    offer = window.crash_offer
    assert offer is not None
    assert str(reporter.folder) in offer.informativeText()
    assert path.name in offer.informativeText()
    offer.delete_button.click()
    assert not path.exists()
    assert reporter.pending() == []


def test_kept_reports_are_not_offered_twice(
    qtbot: QtBot, make_window: MakeWindow, reporter: CrashReporter,
) -> None:
    try:
        fail_with_child_data()
    except ChildDataError as error:
        path = reporter.record(type(error), error, error.__traceback__, origin="test")
    assert path is not None
    window = make_window(crash_reporter=reporter)
    qtbot.waitUntil(lambda: window.crash_offer is not None and window.crash_offer.isVisible())
    offer = window.crash_offer
    assert offer is not None
    offer.keep_button.click()
    assert path.exists()
    assert reporter.pending() == []


def test_user_errors_are_one_sentence_and_unknown_errors_say_nothing_of_their_text(
    qtbot: QtBot,
) -> None:
    assert user_sentence(WrongPassword("That password does not unlock it."), "x") == (
        "That password does not unlock it.")
    sentence = user_sentence(RuntimeError(CHILD_NAME), "opening the assessment")
    assert CHILD_NAME not in sentence
    box = show_problem(None, "The disk is full: nothing was saved.")
    qtbot.addWidget(box)
    assert box.isVisible()
    assert box.text() == "The disk is full: nothing was saved."


def test_a_bug_caught_by_a_failure_callback_is_reported_as_a_crash(
    reporter: CrashReporter, tmp_path: Path,
) -> None:
    """Our own SQL error reaches the crash report, not the user as "the vault is damaged"."""
    import sqlite3  # noqa: PLC0415

    reporter.install()
    error: BaseException | None = None
    try:
        sqlite3.connect(":memory:").execute("SELECT FROM WHERE")
    except sqlite3.OperationalError as exc:
        error = exc
    assert error is not None
    sentence = user_sentence(error, "opening the assessment")
    assert sentence == "Something went wrong while opening the assessment."
    assert len(reporter.pending()) == 1
    assert "sqlite3.OperationalError" in reporter.pending()[0].read_text("utf-8")
    # The user's own mistake is a sentence and no report.
    assert user_sentence(WrongPassword("That password is wrong."), "unlocking") == \
        "That password is wrong."
    assert len(reporter.pending()) == 1
