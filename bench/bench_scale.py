"""Scale table: how the list and finalise grow with the number of assessments. For each size a
vault is built (floor KDF, synchronous=OFF: setup, not measured), then a separate process
unlocks it and times the whole list query (`list_rows`, the baseline), and another the window's
list page painting its first page and then the whole list (pages read on the database thread),
with that process's peak memory; finalise --all-complete's work (`finalise_many`) is timed on
its own copy. The per-record figure beside each row shows whether growth is linear (flat per-record
cost) or not. `BENCH_SCALE_SIZES` (default "1000,10000,100000", the issue's table: about 3
minutes to build the 100,000 here) sets the list sizes; `BENCH_SCALE_FINALISE`
(default "5000,50000": the target's sizes, about 80 s for the whole script here) the finalise
sizes; an empty value skips that part. Run with `make bench` or
`.venv/bin/python bench/bench_scale.py`.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles

PASSWORD = "benchmark passphrase"
SIZES = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "1000,10000,100000").split(",") if n]
FINALISE = [int(n) for n in os.environ.get("BENCH_SCALE_FINALISE", "5000,50000").split(",") if n]
EXAMPLES = ("primary", "secondary", "early-years", "post-16", "19-25")


def documents() -> list[dict[str, Any]]:
    found = []
    for name in EXAMPLES:
        doc = json.loads(resources.files("forms").joinpath("examples", f"{name}.json")
                         .read_text("utf-8"))
        doc.pop("id", None)
        found.append(doc)
    return found


def build(root: Path, count: int) -> None:
    vault, _ = Profiles(root, kdf=FAST_KDF).create("bench", PASSWORD)
    vault.conn.execute("PRAGMA synchronous = OFF")
    store = Assessments(vault)
    bases = documents()
    for n in range(count):
        doc = copy.deepcopy(bases[n % len(bases)])
        doc["answers"]["about_me"]["interests"] = f"Trains, maps and swimming (#{n})."
        store.create(doc, record_id=f"a{n:06d}")
    vault.close()


def child_list(root: str) -> None:
    from desktop.listing import list_rows  # noqa: PLC0415

    with Profiles(Path(root), kdf=FAST_KDF).unlock("bench", PASSWORD) as vault:
        start = time.perf_counter()
        rows = list_rows(vault, datetime.date(2026, 11, 30))
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": len(rows), "seconds": elapsed, "peak_kib": peak}))


def child_paint(root: str) -> None:
    """The window's list: unlock, then time the first page painted and the whole list."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - the child only

    from ui.assessment_list import AssessmentListPage  # noqa: PLC0415
    from ui.tasks import TaskRunner, vault_opener  # noqa: PLC0415

    app = QApplication([])
    with Profiles(Path(root), kdf=FAST_KDF).unlock("bench", PASSWORD) as vault:
        tasks = TaskRunner(vault_opener(vault))
        page = AssessmentListPage(tasks, today=datetime.date(2026, 11, 30))
        page.resize(1280, 800)
        page.show()
        app.processEvents()
        marks: dict[str, float] = {}

        def first() -> None:
            if "first" not in marks:
                page.view.viewport().repaint()  # the first page, painted
                marks["first"] = time.perf_counter()

        def whole() -> None:
            page.view.viewport().repaint()
            marks["whole"] = time.perf_counter()

        page.page_loaded.connect(first)
        page.loaded.connect(whole)
        start = time.perf_counter()
        page.refresh()
        while "whole" not in marks:
            app.processEvents()
            time.sleep(0.001)  # the bench's own loop; the work is on the workers
        rows = page.model.rowCount()
        gui, worked = arrange_times(app, page)
        tasks.shutdown()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "first": marks["first"] - start,
                      "whole": marks["whole"] - start, "peak_kib": peak, "gui": gui,
                      "worked": worked}))


def arrange_times(app: Any, page: Any) -> tuple[float, float]:
    """Searches and sorts of the whole list: the most GUI-thread time one took (asking, then
    swapping the result in) and the longest until its result was in place (worker included)."""
    from PySide6.QtCore import Qt  # noqa: PLC0415

    swap: list[float] = [0.0, 0.0]
    page.proxy.layoutAboutToBeChanged.connect(lambda: swap.__setitem__(0, time.perf_counter()))
    page.proxy.arranged.connect(lambda: swap.__setitem__(1, time.perf_counter()))
    actions = [lambda t=text: page.proxy.set_search(t) for text in ("zoe", "a", "zz", "")]
    actions += [lambda c=column: page.view.sortByColumn(c, Qt.SortOrder.AscendingOrder)
                for column in range(7)]
    gui, worked = 0.0, 0.0
    for action in actions:
        start = time.perf_counter()
        swap[0], swap[1] = start, 0.0
        action()
        asked = time.perf_counter() - start
        while not swap[1]:
            app.processEvents()
            time.sleep(0.001)
        gui = max(gui, asked + max(0.0, swap[1] - swap[0]))
        worked = max(worked, swap[1] - start)
    return gui, worked


def child_finalise(root: str) -> None:
    """`finalise --all-complete`'s work, as the command does it (the judging on every core
    from 500 records): wall time, this process's CPU and its worker processes' CPU."""
    with Profiles(Path(root), kdf=FAST_KDF).unlock("bench", PASSWORD) as vault:
        store = Assessments(vault)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start, cpu = time.perf_counter(), time.process_time()
        done = list(store.finalise_many(store.finalisable()))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, ended and reaped
    ok = sum(1 for entry in done if entry[2])
    workers = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps({"finalised": ok, "seconds": elapsed, "cpu": cpu, "workers": workers}))


def run_child(kind: str, root: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, kind, str(root)], capture_output=True,
                         text=True, check=True, timeout=3600).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onesend-bench-scale-") as tmp:
        work = Path(tmp)
        print("list after unlock, each in its own process: the whole query (list_rows, the")
        print("baseline: what the window waited for before it painted anything) beside the")
        print("window's list painted, its first page and the whole list, and its peak memory:")
        print(f"  {'records':>8} {'query':>10} {'per 1k':>9} {'first page':>11} "
              f"{'whole list':>11} {'peak memory':>12}")
        base = None
        for size in SIZES:
            root = work / f"list-{size}"
            build(root, size)
            figures = run_child("--list", root)
            painted = run_child("--paint", root)
            if painted["rows"] != size:
                raise RuntimeError(f"painted {painted['rows']} of {size}")
            per_k = figures["seconds"] / size * 1000
            base = base or per_k
            print(f"  {size:>8} {figures['seconds'] * 1000:8.0f} ms {per_k * 1000:7.1f} ms "
                  f"{painted['first'] * 1000:8.0f} ms {painted['whole'] * 1000:8.0f} ms "
                  f"{painted['peak_kib'] / 1024:9.0f} MiB   (query per record x"
                  f"{per_k / base:.2f} of the smallest; first page x"
                  f"{painted['first'] / figures['seconds']:.2f} of the query)")
            print(f"  {'':>8} search or sort of the whole list: GUI thread, max "
                  f"{painted['gui'] * 1000:.0f} ms; in place (worked out on the pool), max "
                  f"{painted['worked'] * 1000:.0f} ms")
        print("finalise --all-complete (finalise_many, own process; judged on every core from")
        print("500 records): wall time, and the CPU time of the process and of its workers")
        print("(target: 50,000 in 30 s, under 11x the time of 5,000):")
        print(f"  {'records':>8} {'time':>10} {'per record':>11} {'CPU main':>10} "
              f"{'workers':>10} {'per record':>11}")
        first = None
        for size in FINALISE:
            root = work / f"finalise-{size}"
            build(root, size)
            load = os.getloadavg()[0]
            figures = run_child("--finalise", root)
            if figures["finalised"] != size:
                raise RuntimeError(f"finalised {figures['finalised']} of {size}")
            first = first or (size, figures["seconds"])
            both = figures["cpu"] + figures["workers"]
            print(f"  {size:>8} {figures['seconds']:8.1f} s {figures['seconds'] / size * 1000:8.2f}"
                  f" ms {figures['cpu']:8.1f} s {figures['workers']:8.1f} s "
                  f"{both / size * 1000:8.2f} ms   "
                  f"(x{figures['seconds'] / first[1]:.1f} time for x{size / first[0]:.0f} "
                  f"records; load average {load:.1f} before, "
                  f"{os.getloadavg()[0]:.1f} after)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--list":
        child_list(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--paint":
        child_paint(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--finalise":
        child_finalise(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
