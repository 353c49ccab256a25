"""Scale table: how the list and finalise grow with the number of assessments.

For each size a vault is built (floor KDF, synchronous=OFF: setup, not measured), then a
separate process unlocks it and times what the window's list reads (`list_rows`) and the
process's peak memory; finalise --all-complete's work (`finalise_many`) is timed on its own
copy. The per-record figure beside each row shows whether growth is linear (flat per-record
cost) or not. `BENCH_SCALE_SIZES` (default "1000,10000") sets the list sizes, e.g.
"1000,10000,100000" for the full table (about 3 minutes to build here);
`BENCH_SCALE_FINALISE` (default "1000,5000") the finalise sizes ("5000,50000" in full).
Run with `make bench` or `.venv/bin/python bench/bench_scale.py`.
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
SIZES = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "1000,10000").split(",")]
FINALISE = [int(n) for n in os.environ.get("BENCH_SCALE_FINALISE", "1000,5000").split(",")]
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


def child_finalise(root: str) -> None:
    with Profiles(Path(root), kdf=FAST_KDF).unlock("bench", PASSWORD) as vault:
        store = Assessments(vault)
        start = time.perf_counter()
        done = list(store.finalise_many(store.finalisable()))
        elapsed = time.perf_counter() - start
    ok = sum(1 for entry in done if entry[2])
    print(json.dumps({"finalised": ok, "seconds": elapsed}))


def run_child(kind: str, root: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, kind, str(root)], capture_output=True,
                         text=True, check=True, timeout=3600).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onesend-bench-scale-") as tmp:
        work = Path(tmp)
        print("list (list_rows after unlock, own process):")
        print(f"  {'records':>8} {'query':>10} {'per 1k':>9} {'peak memory':>12}")
        base = None
        for size in SIZES:
            root = work / f"list-{size}"
            build(root, size)
            figures = run_child("--list", root)
            per_k = figures["seconds"] / size * 1000
            base = base or per_k
            print(f"  {size:>8} {figures['seconds'] * 1000:8.0f} ms {per_k * 1000:7.1f} ms "
                  f"{figures['peak_kib'] / 1024:9.0f} MiB   (per-record cost x{per_k / base:.2f} "
                  "of the smallest)")
        print("finalise --all-complete (finalise_many, own process):")
        print(f"  {'records':>8} {'time':>10} {'per record':>11}")
        first = None
        for size in FINALISE:
            root = work / f"finalise-{size}"
            build(root, size)
            figures = run_child("--finalise", root)
            if figures["finalised"] != size:
                raise RuntimeError(f"finalised {figures['finalised']} of {size}")
            first = first or (size, figures["seconds"])
            print(f"  {size:>8} {figures['seconds']:8.1f} s {figures['seconds'] / size * 1000:8.2f}"
                  f" ms   (x{figures['seconds'] / first[1]:.1f} time for "
                  f"x{size / first[0]:.0f} records)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--list":
        child_list(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--finalise":
        child_finalise(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
