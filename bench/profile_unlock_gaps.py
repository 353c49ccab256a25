"""bench_ui.py's (f), every stall over 30 ms split by thread: after (a)-(d) as `make bench` runs
it, or in a fresh process with `unlock` (the two compared, issue 10).

For each gap between two ticks of (f)'s 5 ms timer: the GUI thread's CPU, its wait for a
processor and its sleep (/proc schedstat: the GIL, a lock, I/O), the CPU of every other thread
of the process (/proc/self/task/*/schedstat, so Qt's threads too), the cyclic collections over
1 ms on any thread, and whether `gc.freeze()` of start-up was reached. Reading /proc every tick
costs the GUI thread time: quote bench_ui.py's figures, use these for where.
Run: .venv/bin/python bench/profile_unlock_gaps.py [unlock] [--reps N]
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import bench_ui
from profile_unlock import collections_in, on_collection, schedstat

TICKS: list[tuple[float, float, float, tuple[float, float], dict[str, int]]] = []
FROZEN: list[int] = []


def threads_cpu() -> dict[str, int]:
    """Nanoseconds on a processor of every thread of the process, by id and name."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            with (task / "schedstat").open() as file:
                out[f"{task.name} ({name})"] = int(file.read().split()[0])
        except OSError:
            continue
    return out


_tick = bench_ui.GapWatch.tick


def tick(self: bench_ui.GapWatch) -> None:
    TICKS.append((time.perf_counter(), time.thread_time(), time.process_time(), schedstat(),
                  threads_cpu()))
    _tick(self)


_freeze = gc.freeze


def freeze() -> None:
    _freeze()
    FROZEN.append(gc.get_freeze_count())


def report() -> None:
    main_id = next(iter(TICKS[0][4])) if TICKS else ""  # the first task is the main thread
    print(f"gc.freeze() reached: {bool(FROZEN)} ({FROZEN[:1]} objects frozen); collections"
          f" per generation since start {[s['collections'] for s in gc.get_stats()]}")
    for before, after in itertools.pairwise(TICKS):
        (begin, cpu0, all0, sched0, tasks0), (end, cpu1, all1, sched1, tasks1) = before, after
        gap = end - begin - 0.005
        if not 0.030 <= gap <= 1.0:  # not a stall, or the pause between rounds
            continue
        on_cpu, waited = sched1[0] - sched0[0], sched1[1] - sched0[1]
        others = {t: (n - tasks0.get(t, 0)) / 1e6 for t, n in tasks1.items() if t != main_id}
        gone = (all1 - all0 - (cpu1 - cpu0)) * 1000 - sum(others.values())
        print(f"  {gap * 1000:6.1f} ms: GUI CPU {(cpu1 - cpu0) * 1000:.1f}, waiting for a processor"
              f" {waited * 1000:.1f}, asleep {(end - begin - on_cpu - waited) * 1000:.1f};"
              " other threads (ms): "
              + ", ".join(f"{t} {ms:.1f}" for t, ms in others.items() if ms > 1)
              + f"; threads that ended meanwhile {gone:.1f}")
        for collection in collections_in(begin, end, over=0.001):
            print(f"      collection, {collection}")


def main(argv: list[str]) -> int:
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 1
    bench_ui.GapWatch.tick = tick  # type: ignore[method-assign]
    gc.freeze = freeze
    unlock = bench_ui.bench_unlock

    def instrumented(count: int = 2_000) -> None:
        gc.callbacks.append(on_collection)
        for _ in range(reps):
            unlock(count)
        gc.callbacks.remove(on_collection)
        report()

    bench_ui.bench_unlock = instrumented
    bench_ui.bench_start = lambda: None
    return bench_ui.main(["unlock"] if "unlock" in argv else [])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
