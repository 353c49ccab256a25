"""Bulk import: `onesend assessments import --ndjson` of N example records in one process (one
unlock, one transaction per record), beside the way the command had to be used before it took
many files: one process per file, each unlocking the vault (measured on a few files, scaled).
Both run the installed command as a user would, on a fresh profile with the real key
derivation. `BENCH_IMPORT_COUNT` (default 10000) sets N, `BENCH_IMPORT_BASELINE` (default 8)
the files imported one process each. Target (issue 10): 10,000 records in under 60 s.
Run with `make bench` or `.venv/bin/python bench/bench_import.py`.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_scale import documents as examples  # the five shipped examples, without ids

PASSWORD = "benchmark passphrase"
COUNT = int(os.environ.get("BENCH_IMPORT_COUNT", "10000"))
BASELINE = int(os.environ.get("BENCH_IMPORT_BASELINE", "8"))
COMMAND = [sys.executable, "-m", "app"]


def documents(count: int) -> list[dict[str, Any]]:
    """`count` example records, each with its own answer (as bench_scale builds its vaults)."""
    bases = examples()
    found = []
    for n in range(count):
        doc = copy.deepcopy(bases[n % len(bases)])
        doc["answers"]["about_me"]["interests"] = f"Trains, maps and swimming (#{n})."
        found.append(doc)
    return found


def onesend(data_dir: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, "--data-dir", str(data_dir), *args], input=stdin,
                          capture_output=True, text=True, check=True, timeout=3600,
                          cwd=Path(__file__).resolve().parent.parent)


def fresh_profile(data_dir: Path) -> None:
    onesend(data_dir, "profile", "create", "bench", "--password-stdin",
            stdin=f"{PASSWORD}\n")


def main() -> int:
    docs = documents(max(COUNT, BASELINE))
    with tempfile.TemporaryDirectory(prefix="onesend-bench-import-") as tmp:
        work = Path(tmp)
        one = work / "one-process"
        fresh_profile(one)
        lines = "".join(json.dumps(doc) + "\n" for doc in docs[:COUNT])
        start = time.perf_counter()
        done = onesend(one, "assessments", "import", "--ndjson", "--password-stdin", "--json",
                       stdin=f"{PASSWORD}\n{lines}")
        bulk = time.perf_counter() - start
        imported = json.loads(done.stdout)["imported"]  # {"imported", "skipped", "results"}
        if imported != COUNT:
            raise RuntimeError(f"imported {imported} of {COUNT}")

        each = work / "process-per-file"
        fresh_profile(each)
        files = []
        for n, doc in enumerate(docs[:BASELINE]):
            path = work / f"record-{n}.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            files.append(path)
        start = time.perf_counter()
        for path in files:
            onesend(each, "assessments", "import", str(path), "--password-stdin",
                    stdin=f"{PASSWORD}\n")
        per_file = (time.perf_counter() - start) / BASELINE
    scaled = per_file * COUNT
    print(f"import of {COUNT:,} example records (`assessments import --ndjson`, real key "
          "derivation, a fresh profile):")
    print(f"  one process, one unlock       {bulk:8.1f} s   {bulk / COUNT * 1000:6.2f} ms a record")
    print(f"  one process per file (baseline, measured on {BASELINE}, scaled) {scaled:8.1f} s   "
          f"{per_file * 1000:6.0f} ms a record   ratio {scaled / bulk:.0f}x")
    verdict = "met" if bulk < 60 and COUNT >= 10_000 else "not met" if bulk >= 60 else "n/a"
    print(f"  target: 10,000 in under 60 s: {verdict}; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
