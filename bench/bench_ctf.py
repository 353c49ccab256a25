"""CTF import benchmark: a generated 2,000-pupil Common Transfer File, read, previewed, imported.

Each figure is printed beside a baseline measured in the same run, as a ratio, because these
machines are noisy:

- parse: the safe streaming reader (`read_ctf`) beside a bare `xml.etree.ElementTree.parse`
  of the same file (which builds the whole tree and checks nothing);
- preview: read + judge + map + blind-index look-up of every pupil (target: under 2 s);
- peak memory (tracemalloc) of the preview beside the bare parse's, and beside the file size
  (target: growth under 50 MB);
- drafts per second: `CtfImport.run` beside `Assessments.create` of the same documents.

Run with `make bench` (or `.venv/bin/python bench/bench_ctf.py`); BENCH_CTF_PUPILS changes
the size.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ctf"))

from ctf_generator import generate  # noqa: E402

from desktop.assessments import Assessments  # noqa: E402
from desktop.crypto import FAST_KDF  # noqa: E402
from desktop.ctf_import import CtfImport  # noqa: E402
from desktop.ctf_reader import read_ctf  # noqa: E402
from desktop.profiles import Profiles  # noqa: E402

PUPILS = int(os.environ.get("BENCH_CTF_PUPILS", "2000"))
REPEATS = 5
PASSWORD = "benchmark passphrase"
MB = 1024 * 1024


def best_time(work: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(work: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def row(label: str, ours: str, baseline: str, ratio: str) -> None:
    print(f"  {label:<34} {ours:>14}   {baseline:>14}   {ratio:>8}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onesend-bench-ctf-") as tmp:
        root = Path(tmp)
        xml, _ = generate(PUPILS, seed=2026)
        path = root / "school.xml"
        path.write_bytes(xml)
        size = path.stat().st_size
        print(f"A generated CTF 25.0: {PUPILS:,} pupils, {size / MB:.2f} MB "
              f"({len(xml) // PUPILS:,} bytes a pupil).")
        print(f"  {'':<34} {'OneSEND':>14}   {'baseline':>14}   {'ratio':>8}")

        parse = best_time(lambda: read_ctf(path))
        bare = best_time(lambda: ElementTree.parse(path))
        row("parse (best of 5)", f"{parse * 1000:.0f} ms", f"{bare * 1000:.0f} ms",
            f"{parse / bare:.2f}x")

        profiles = Profiles(root / "data", kdf=FAST_KDF)
        vault, _ = profiles.create("bench", PASSWORD)
        with vault:
            store = Assessments(vault)
            importer = CtfImport(store)
            preview_time = best_time(lambda: importer.preview(path))
            row("read + preview, empty vault", f"{preview_time * 1000:.0f} ms",
                f"{bare * 1000:.0f} ms", f"{preview_time / bare:.2f}x")
            verdict = "met" if preview_time < 2.0 else "MISSED"
            print(f"  target: {PUPILS:,} pupils parsed and previewed under 2 s: {verdict} "
                  f"({preview_time:.2f} s)")

            ours_peak = peak_memory(lambda: importer.preview(path))
            bare_peak = peak_memory(lambda: ElementTree.parse(path))
            row("peak memory of preview", f"{ours_peak / MB:.1f} MB", f"{bare_peak / MB:.1f} MB",
                f"{ours_peak / bare_peak:.2f}x")
            row("peak memory beside file size", f"{ours_peak / MB:.1f} MB", f"{size / MB:.1f} MB",
                f"{ours_peak / size:.2f}x")
            verdict = "met" if ours_peak < 50 * MB else "MISSED"
            print(f"  target: peak memory growth under 50 MB: {verdict} "
                  f"({ours_peak / MB:.1f} MB)")

            preview = importer.preview(path)
            start = time.perf_counter()
            report = importer.run(preview)
            run_time = time.perf_counter() - start
            created = len(report.created)

            again = time.perf_counter()
            importer.preview(path)
            preview_full = time.perf_counter() - again

        # The baseline: the same documents straight into a second vault, no import around them.
        documents = [{"form": preview.form_id, "form_version": preview.form_version,
                      "answers": r.answers} for r in preview.pupils if r.action == "create"]
        vault2, _ = profiles.create("baseline", PASSWORD)
        with vault2:
            plain = Assessments(vault2)
            start = time.perf_counter()
            for document in documents:
                plain.create(document)
            create_time = time.perf_counter() - start

        ours_rate = created / run_time
        base_rate = len(documents) / create_time
        row("drafts created per second", f"{ours_rate:,.0f}/s", f"{base_rate:,.0f}/s",
            f"{ours_rate / base_rate:.2f}x")
        row("preview with every pupil in vault", f"{preview_full * 1000:.0f} ms",
            f"{preview_time * 1000:.0f} ms", f"{preview_full / preview_time:.2f}x")
        print(f"  ({created:,} drafts in {run_time:.1f} s; baseline {len(documents):,} in "
              f"{create_time:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
