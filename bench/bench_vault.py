"""Vault benchmarks: autosave, unlock + summaries of 10,000 assessments, bytes per assessment.

Each figure is printed beside a baseline measured in the same run, as a ratio, because these
machines are noisy. Run with `make bench` (or `.venv/bin/python bench/bench_vault.py`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contract.canonical import canonical_json
from desktop.assessments import Assessments, summarise
from desktop.crypto import DEFAULT_KDF, FAST_KDF
from desktop.profiles import Profiles

PASSWORD = "benchmark passphrase"
SAVES = int(os.environ.get("BENCH_SAVES", "200"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "10000"))
GROWTH_SAVES = 2000


def answers_of_size(n: int, target: int = 30_000) -> dict[str, Any]:
    outcomes = []
    while len(json.dumps(outcomes)) < target:
        i = len(outcomes)
        outcomes.append({"area": "communication_interaction", "outcome": f"Outcome {i} " * 20,
                         "by_when": "2027-07-20", "measured_by": "Termly review " * 5})
    return {
        "child": {"first_name": f"Child{n}", "last_name": "Example", "date_of_birth": "2016-05-01",
                  "upn": "H801200001001"},
        "assessment": {"kind": "ehc_needs_assessment", "setting_name": "Brook Lane Primary"},
        "outcomes": {"items": outcomes},
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def bench_autosave(root: Path) -> None:
    """The editor's autosave (one editing session: its working revision replaced in place,
    `save(..., session=...)`), a save that appends a revision (import, restore, a new session),
    and the baseline: a bare durable SQLite commit of the same bytes. Interleaved, so all three
    meet the same machine noise."""
    profiles = Profiles(root / "autosave", kdf=FAST_KDF)
    vault, _ = profiles.create("bench", PASSWORD)
    store = Assessments(vault)
    doc = {"form": "national-send-assessment", "form_version": "1.0.0",
           "answers": answers_of_size(0)}
    record_id, _ = store.create(doc)
    appended_id, _ = store.create(doc)
    payload = json.dumps(doc).encode()

    bare = sqlite3.connect(root / "bare.db", isolation_level=None)
    bare.execute("PRAGMA journal_mode = WAL")
    bare.execute("PRAGMA synchronous = FULL")
    bare.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")

    autosave_times: list[float] = []
    append_times: list[float] = []
    bare_times: list[float] = []
    for n in range(SAVES):
        doc["answers"]["about_me"] = {"n": n}
        start = time.perf_counter()
        store.save(record_id, doc, session="bench-editing-session")
        autosave_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        store.save(appended_id, doc)
        append_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare.execute("BEGIN IMMEDIATE")
        bare.execute("INSERT INTO t (body) VALUES (?)", (payload,))
        bare.execute("COMMIT")
        bare_times.append(time.perf_counter() - start)
    vault.close()
    bare.close()
    median_a, median_n = statistics.median(autosave_times), statistics.median(append_times)
    median_b = statistics.median(bare_times)
    print(f"autosave of one record ({len(payload) // 1024} KB answers), {SAVES} saves each:")
    print(f"  autosave (the editor's)   median {ms(median_a)}  p99 {ms(pct(autosave_times, 99))}"
          "   (its session's working revision replaced)")
    print(f"  a new revision            median {ms(median_n)}  p99 {ms(pct(append_times, 99))}"
          "   (import, restore, a session's first save)")
    print(f"  bare                      median {ms(median_b)}  p99 {ms(pct(bare_times, 99))}"
          "   (bare SQLite durable commit, the baseline)")
    print(f"  ratio   autosave {median_a / median_b:5.2f}x  (target: within 2x), "
          f"a new revision {median_n / median_b:5.2f}x")


def bench_unlock_and_summaries(root: Path) -> None:
    profiles = Profiles(root / "many", kdf=DEFAULT_KDF)
    vault, _ = profiles.create("bench", PASSWORD)
    vault.conn.execute("PRAGMA synchronous = OFF")  # populating only; reads are unaffected
    store = Assessments(vault)
    start = time.perf_counter()
    for n in range(RECORDS):
        store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                      "answers": answers_of_size(n, target=3000)})
    populate = time.perf_counter() - start
    vault.close()
    db = profiles.folder("bench") / "vault.db"

    start = time.perf_counter()
    vault = profiles.unlock("bench", PASSWORD)
    unlock = time.perf_counter() - start
    start = time.perf_counter()
    summaries = Assessments(vault).summaries()
    decrypt = time.perf_counter() - start
    vault.close()
    assert len(summaries) == RECORDS

    plain = [canonical_json(summarise(answers_of_size(n, target=0))) for n in range(RECORDS)]
    start = time.perf_counter()
    parsed = [json.loads(blob) for blob in plain]
    baseline = time.perf_counter() - start
    assert len(parsed) == RECORDS
    m = DEFAULT_KDF
    print(f"unlock (Argon2id m={m.memory_kib // 1024} MiB, t={m.iterations}, p={m.lanes}): "
          f"{ms(unlock)}")
    print(f"summaries of {RECORDS} assessments after unlock: {ms(decrypt)}  (target: under 1 s)")
    print(f"  baseline: parsing the same summaries as plain JSON: {ms(baseline)}  "
          f"ratio {decrypt / baseline:5.1f}x")
    print(f"  (populated in {populate:.1f} s)")
    size = db.stat().st_size
    print(f"vault bytes per assessment (3 KB answers each): {size / RECORDS:,.0f} B "
          f"({size / 1024 / 1024:.1f} MiB for {RECORDS})")


def bench_growth(root: Path) -> None:
    """What 2,000 autosaves of a 30 KB record add to the vault in one editing session (the
    working revision replaced), beside 2,000 saves that each append a revision (how every
    autosave was stored before issue 10). Sizes after the last connection closed (its close
    checkpoints the WAL into the file and removes it)."""
    added: dict[str, int] = {}
    record = 0
    for kind, session in (("session", "one editing session"), ("append", None)):
        profiles = Profiles(root / f"growth-{kind}", kdf=FAST_KDF)
        vault, _ = profiles.create("bench", PASSWORD)
        store = Assessments(vault)
        doc: dict[str, Any] = {"form": "national-send-assessment", "form_version": "1.0.0",
                               "answers": answers_of_size(0)}
        record = len(json.dumps(doc).encode())
        record_id, _ = store.create(doc)
        path = vault.path
        vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        for n in range(GROWTH_SAVES):
            doc["answers"]["about_me"] = {"n": n}
            store.save(record_id, doc, session=session)
        vault.close()
        added[kind] = path.stat().st_size - before
    print(f"vault growth from {GROWTH_SAVES:,} autosaves of one {record // 1024} KB record:")
    print(f"  one editing session       {added['session'] / 1024:10.0f} KiB   "
          f"{added['session'] / record:6.2f}x the record   (target: under 3x)")
    print(f"  a revision each (before)  {added['append'] / 1024:10.0f} KiB   "
          f"{added['append'] / record:6.0f}x the record   "
          f"(ratio {added['append'] / max(added['session'], 1):.0f}x)")
    print("  policy: the WAL is checkpointed by SQLite every 1,000 pages and truncated when the "
          "last connection closes; no VACUUM (freed pages are reused by the next saves)")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onesend-bench-") as tmp:
        bench_autosave(Path(tmp))
        bench_growth(Path(tmp))
        bench_unlock_and_summaries(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
