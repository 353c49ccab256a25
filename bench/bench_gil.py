"""The GIL's switch interval (`ui.tasks.GIL_SWITCH_SECONDS`), for issue 10's "unlock never
stalling the GUI thread more than 50 ms".

Qt calls back into Python for every cell it paints from a Python model, and each call takes the
GIL. While a worker runs Python (the list's pages read on the database thread), the GUI thread
waits up to one switch interval for some of those calls (when the worker was woken first).
(a) painting a table of 2,000 rows x 7
columns from a Python model, idle, beside the same paint while one worker thread runs Python, at
CPython's default interval (5 ms), the project's earlier 1 ms and today's `GIL_SWITCH_SECONDS`.
(b) what a short interval costs: two workers both running Python, wall time beside the same work
run one after the other, at each interval. Offscreen.
Run: .venv/bin/python bench/bench_gil.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QApplication, QTableView

from ui.tasks import GIL_SWITCH_SECONDS

INTERVALS = (0.005, 0.001, GIL_SWITCH_SECONDS)
ROWS, COLUMNS, ROUNDS = 2_000, 7, 15
DOCUMENT = json.dumps({"outcomes": [{"text": "x" * 80, "by": "2027-07"}] * 20})


class Table(QAbstractTableModel):
    """Every cell's text made in Python, as the assessment list's model does."""

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else ROWS

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else COLUMNS

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole:
            return f"row {index.row()}, column {index.column()}"
        return None


class Busy(threading.Thread):
    """A worker running Python (decoding JSON and arranging what it holds) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            step()


def paint_ms(view: QTableView) -> float:
    start = time.perf_counter()
    view.grab()
    return (time.perf_counter() - start) * 1000


def step() -> None:
    """A row's worth of Python: decode, then pick and format fields, as a page is prepared."""
    outcomes = json.loads(DOCUMENT)["outcomes"]
    " / ".join(f"{n}: {o['text'][:20].title()} by {o['by']}" for n, o in enumerate(outcomes))


def work(times: int = 10_000) -> None:
    for _ in range(times):
        step()


def two_workers() -> None:
    pair = [threading.Thread(target=work) for _ in range(2)]
    for thread in pair:
        thread.start()
    for thread in pair:
        thread.join()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> int:
    app = QApplication.instance() or QApplication([])
    view = QTableView()
    view.setModel(Table(view))
    view.resize(1000, 700)
    view.show()
    app.processEvents()
    default = sys.getswitchinterval()
    try:
        idle = [paint_ms(view) for _ in range(ROUNDS)]
        print(f"(a) painting a table of {ROWS:,} rows from a Python model (the visible cells),"
              f" median and worst of {ROUNDS}:")
        print(f"    idle (baseline)                              {statistics.median(idle):7.1f}"
              f" / {max(idle):5.1f} ms")
        for interval in INTERVALS:
            sys.setswitchinterval(interval)
            busy = Busy()
            busy.start()
            try:
                painted = [paint_ms(view) for _ in range(ROUNDS)]
            finally:
                busy.stopped.set()
                busy.join()
            mark = "   (GIL_SWITCH_SECONDS)" if interval == GIL_SWITCH_SECONDS else ""
            print(f"    a worker running Python, interval {interval * 1000:4.1f} ms"
                  f"   {statistics.median(painted):7.1f} / {max(painted):5.1f} ms"
                  f"   x{statistics.median(painted) / statistics.median(idle):.1f}"
                  f" / x{max(painted) / max(idle):.1f}{mark}")
        print("(b) two workers running Python at once, beside the same work one after the other"
              " (best of 3):")
        for interval in INTERVALS:
            sys.setswitchinterval(interval)
            alone = min(timed(lambda: (work(), work())) for _ in range(3))
            both = min(timed(two_workers) for _ in range(3))
            print(f"    interval {interval * 1000:4.1f} ms: {both * 1000:6.0f} ms vs"
                  f" {alone * 1000:6.0f} ms   x{both / alone:.2f}")
    finally:
        sys.setswitchinterval(default)
    return 0


if __name__ == "__main__":
    sys.exit(main())
