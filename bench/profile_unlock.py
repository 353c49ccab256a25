"""Where the GUI thread spends its time while unlocking: every stall over 10 ms, with what ran.

A stall is a gap between two ticks of a 5 ms timer (as bench_ui.py's (f) measures it): the
GUI thread handled nothing else meanwhile, no key press, no timer. In each: its wall and CPU
time, the outermost events handled (QApplication.notify: a queued task result, a stage, a
paint), the window's own steps timed by wrapping them, and the GUI thread's Python stack as a
sampler thread read it every millisecond; where Linux tells (/proc/self/task/*/schedstat), how
the gap splits into the GUI thread's CPU, its wait for a processor (other processes' load) and
its sleep (the GIL held by another thread, a lock, I/O), beside the other threads' CPU; and
every cyclic collection over 2 ms (on any thread: it holds the GIL). From Enter on the unlock
page to 1 s after the session is built. Offscreen.
Run: .venv/bin/python bench/profile_unlock.py [records] [--events]   (the figure to quote is
bench_ui.py's (f): timing every event here slows the GUI thread itself)
"""

from __future__ import annotations

import collections
import gc
import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ui_list"))

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui import theme  # noqa: E402

STEP = 0.010  # report steps longer than this
# --events: also time each event inside a step (slows every event: for where, not how long)
EVENTS = "--events" in sys.argv
PROJECT = ("ui", "desktop", "sync", "forms")


class TimedApplication(QApplication):
    """Times every outermost event delivery."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.depth = 0
        self.steps: list[tuple[float, float, str, dict[str, float]]] = []
        self.children: list[float] = []
        self.inner: collections.Counter[str] = collections.Counter()
        self.recording = False

    def notify(self, receiver: QObject, event: QEvent) -> bool:
        if not self.recording or (self.depth and not EVENTS):
            return super().notify(receiver, event)
        what = f"{event.type().name} → {type(receiver).__name__} {receiver.objectName()}"
        self.depth += 1
        self.children.append(0.0)
        cpu = time.thread_time()
        start = time.perf_counter()
        try:
            return super().notify(receiver, event)
        finally:
            end = time.perf_counter()
            self.depth -= 1
            inner = self.children.pop()
            if self.depth:
                self.children[-1] += end - start
                self.inner[what.strip()] += end - start - inner  # exclusive time, by kind
            else:
                if end - start > 0.002:
                    cpu = time.thread_time() - cpu
                    self.steps.append((start, end, f"{what.strip()} (CPU {cpu * 1000:.1f} ms)",
                                       dict(self.inner)))
                self.inner.clear()


class Sampler(threading.Thread):
    """The GUI thread's innermost project frames, every millisecond."""

    def __init__(self, ident: int) -> None:
        super().__init__(daemon=True)
        self.target = ident
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            frame = sys._current_frames().get(self.target)
            if frame is not None:
                self.samples.append((time.perf_counter(), stack(frame)))
            time.sleep(0.001)


CALLS: list[tuple[float, float, float, str, int]] = []  # start, end, cpu, name, depth
_DEPTH = [0]


def wrap(owner: type, name: str) -> None:
    """Time every call of owner.name (inclusive), to break a long step down."""
    original = getattr(owner, name)
    label = f"{owner.__name__}.{name}"

    def timed(*args: object, **kwargs: object) -> object:
        _DEPTH[0] += 1
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            _DEPTH[0] -= 1
            CALLS.append((start, time.perf_counter(), time.thread_time() - cpu, label,
                          _DEPTH[0]))

    setattr(owner, name, timed)


def wrap_all() -> None:
    from sync.session import Session  # noqa: PLC0415
    from ui.assessment_list import AssessmentListPage  # noqa: PLC0415
    from ui.backup import BackupController  # noqa: PLC0415
    from ui.main_window import MainWindow  # noqa: PLC0415
    from ui.sync_area import SyncArea  # noqa: PLC0415
    from ui.sync_panel import SyncPanel  # noqa: PLC0415
    from ui.tasks import TaskRunner  # noqa: PLC0415
    from ui.workspace import Workspace  # noqa: PLC0415

    for owner, names in (
        (MainWindow, ("_start_session", "_workspace_built", "_finish_session", "_show_page")),
        (Session, ("open",)),
        (TaskRunner, ("__init__",)),
        (Workspace, ("__init__", "add_action", "_build_list", "_build_toolbar")),
        (AssessmentListPage, ("__init__", "_build", "refresh", "_first_page", "_page",
                              "_finished", "_update_count")),
        (BackupController, ("_session_started",)),
        (SyncArea, ("start", "show")),
        (SyncPanel, ("__init__", "_build", "refresh")),
    ):
        for name in names:
            if hasattr(owner, name):
                wrap(owner, name)


GC_EVENTS: list[tuple[float, str, int, str]] = []  # time, start/stop, generation, thread


def on_collection(phase: str, info: dict[str, int]) -> None:
    GC_EVENTS.append((time.perf_counter(), phase, info["generation"],
                      threading.current_thread().name))


def collections_in(begin: float, end: float, over: float = 0.002) -> list[str]:
    """Each cyclic collection longer than `over` seconds that started in [begin, end]."""
    out, started = [], {}
    for at, phase, generation, thread in GC_EVENTS:
        if phase == "start":
            started[thread] = at
        elif thread in started:
            first = started.pop(thread)
            if begin <= first <= end and at - first > over:
                out.append(f"generation {generation} on {thread}: {(at - first) * 1000:.1f} ms")
    return out


def schedstat() -> tuple[float, float]:
    """The calling thread's seconds on a processor and waiting for one (0, 0 where unknown)."""
    try:
        with Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").open() as file:
            run, wait, _slices = file.read().split()
    except OSError:
        return 0.0, 0.0
    return int(run) / 1e9, int(wait) / 1e9


def stack(frame: FrameType | None) -> tuple[str, ...]:
    names = []
    while frame is not None:
        code = frame.f_code
        path = Path(code.co_filename)
        try:
            rel = path.relative_to(ROOT)
        except ValueError:
            rel = None
        if rel is not None and rel.parts[0] in PROJECT:
            names.append(f"{'/'.join(rel.parts)}:{code.co_name}")
        frame = frame.f_back
    return tuple(names)


def main() -> int:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    count = int(numbers[0]) if numbers else 2_000
    theme.use_stylesheet_propagation()  # as ui/app.py makes it (the window sets the sheet)
    app = TimedApplication([])
    wrap_all()
    from bench_ui import window_on_filled_profile  # noqa: PLC0415 - after the wrapping

    with tempfile.TemporaryDirectory(prefix="onesend-profile-unlock-") as folder:
        window = window_on_filled_profile(Path(folder), count)
        loop = QEventLoop()

        def run_until(done: object, timeout: float = 30.0) -> None:
            deadline = time.perf_counter() + timeout
            while not done():  # type: ignore[operator]
                if time.perf_counter() > deadline:
                    raise SystemExit("timed out")
                loop.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 5)

        settle = time.perf_counter() + 2.0  # the password typed; the warm-up imports done
        run_until(lambda: time.perf_counter() > settle)
        sampler = Sampler(threading.get_ident())
        sampler.start()
        page = window.unlock_page
        page.password_edit.setText("bench password 123")
        firsts: list[bool] = []
        window.workspace_opened.connect(
            lambda ws: ws.list_made.connect(
                lambda page: page.page_loaded.connect(lambda: firsts.append(True))))
        # wall, GUI-thread CPU, process CPU, GUI thread on a processor / waiting for one
        ticks: list[tuple[float, float, float, tuple[float, float]]] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(5)
        timer.timeout.connect(lambda: ticks.append(
            (time.perf_counter(), time.thread_time(), time.process_time(), schedstat())))
        gc.callbacks.append(on_collection)
        timer.start()
        app.recording = True
        start = time.perf_counter()
        page.password_edit.returnPressed.emit()
        run_until(lambda: bool(firsts) and window.session_is_ready)
        ready = time.perf_counter() - start
        quiet = time.perf_counter() + 1.0
        run_until(lambda: time.perf_counter() > quiet)
        app.recording = False
        timer.stop()
        gc.callbacks.remove(on_collection)
        sampler.stop.set()
        sampler.join()
        print(f"unlock of {count:,} records: list's first page and the session built after "
              f"{ready * 1000:.0f} ms; stalls over {STEP * 1000:.0f} ms (gaps between 5 ms ticks):")
        for (begin, cpu0, all0, sched0), (end, cpu1, all1, sched1) in itertools.pairwise(ticks):
            if end - begin - 0.005 < STEP:
                continue
            print(f"  at {(begin - start) * 1000:7.1f} ms  {(end - begin - 0.005) * 1000:6.1f} ms"
                  f"  (GUI-thread CPU {(cpu1 - cpu0) * 1000:.1f} ms)")
            if sched1 != (0.0, 0.0):
                on_cpu, waited = sched1[0] - sched0[0], sched1[1] - sched0[1]
                print(f"      GUI thread: waiting for a processor {waited * 1000:.1f} ms, asleep "
                      f"(the GIL, a lock, I/O) {(end - begin - on_cpu - waited) * 1000:.1f} ms;"
                      f" the other threads' CPU {(all1 - all0 - (cpu1 - cpu0)) * 1000:.1f} ms")
            for collection in collections_in(begin, end):
                print(f"      collection, {collection}")
            for begin2, end2, what, inner in app.steps:
                if begin <= begin2 and end2 <= end:
                    print(f"    {(end2 - begin2) * 1000:6.1f} ms  {what}")
                    for kind, seconds in sorted(inner.items(), key=lambda kv: -kv[1])[:5]:
                        if seconds > 0.002:
                            print(f"        {seconds * 1000:6.1f} ms in  {kind}")
            for begin2, end2, cpu, label, depth in sorted(CALLS):
                if begin <= begin2 and end2 <= end and end2 - begin2 > 0.001:
                    print(f"      {'  ' * depth}{label}: {(end2 - begin2) * 1000:.1f} ms"
                          f" (CPU {cpu * 1000:.1f})")
            inside = [s for t, s in sampler.samples if begin <= t <= end]
            tally: collections.Counter[str] = collections.Counter()
            for frames in inside:
                tally[" ← ".join(frames[:3]) or "(Qt, no project frame)"] += 1
            for where, n in tally.most_common(4):
                print(f"      sampled {n:3d}x  {where}")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
