"""Sync benchmark: N finalised assessments sent over loopback, batched versus one per request.

Both modes run in the same session against their own fresh reference server (a separate
process, as the national API would be), each client in its own process so its peak memory is
its own. Figures: wall time, requests, bytes sent, peak memory, and the ratios between them.

Client CPU per record (the client process's CPU time over the run, not the server's) is
printed beside the same run's baseline: the same batched sync by the client code of
`BENCH_SYNC_BASELINE_REF` (default 81ed352, before the set-based acknowledgement, payloads
hashed and sent as one canonical encoding, gzip level 3 and receipts checked with one key
object), taken from git into a temporary directory; empty to skip it.

`BENCH_SYNC_COUNT` (default 10000) sets N; `BENCH_SYNC_SCALE` (default 50000; empty to skip)
the larger batched runs printed beside it (per-record time against N's);
`BENCH_SYNC_BASELINE_COUNT` (default 1000) caps the one-per-request run, whose per-assessment
figures are then scaled to N (the output says so); set it to N to measure the baseline in full
(about 8 minutes here).
Run with `make bench` or `.venv/bin/python bench/bench_sync.py`.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import shutil
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
COUNT = int(os.environ.get("BENCH_SYNC_COUNT", "10000"))
# Larger runs, batched only, to show growth beside N (the scale table: 10,000 and 50,000).
SCALE = [int(n) for n in os.environ.get("BENCH_SYNC_SCALE", "50000").split(",") if n]
# One request per assessment costs a durable commit on each side per assessment (about 40 ms
# here), so by default it is measured on 1,000 and scaled, to keep `make bench` short.
BASELINE = min(COUNT, int(os.environ.get("BENCH_SYNC_BASELINE_COUNT", "1000")))
BATCH_SIZE = int(os.environ.get("BENCH_SYNC_BATCH", "250"))
EXAMPLES = ("primary", "secondary", "early-years", "post-16", "19-25")
BASELINE_REF = os.environ.get("BENCH_SYNC_BASELINE_REF", "81ed352")
ROOT = Path(__file__).resolve().parents[1]


def documents() -> list[dict[str, Any]]:
    found = []
    for name in EXAMPLES:
        text = resources.files("forms").joinpath("examples", f"{name}.json").read_text("utf-8")
        doc = json.loads(text)
        doc.pop("id", None)
        found.append(doc)
    return found


def populate(root: Path, count: int) -> Path:
    """A profile holding `count` finalised assessments (synchronous=OFF: setup, not measured)."""
    profiles = Profiles(root, kdf=FAST_KDF)
    vault, _ = profiles.create("bench", PASSWORD)
    vault.conn.execute("PRAGMA synchronous = OFF")
    store = Assessments(vault)
    bases = documents()
    for n in range(count):
        doc = copy.deepcopy(bases[n % len(bases)])
        doc["answers"]["about_me"]["interests"] = f"Trains, maps and swimming (#{n})."
        store.create(doc, record_id=f"a{n:06d}")
    for _ in store.finalise_many(store.finalisable()):  # on every core from 500 records
        pass
    vault.close()
    return root


def start_server(data: Path) -> tuple[subprocess.Popen[str], str, str]:
    """The server, its address, and the enrolment code it issued."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "reference-server", "--port", "0", "--data",
         str(data), "--issue-code"],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    code = process.stdout.readline().rsplit(" ", 1)[-1].strip()
    line = process.stdout.readline()
    if "listening on " not in line:
        raise RuntimeError("the reference server did not start")
    return process, line.rsplit(" ", 1)[-1].strip(), code


def client(root: str, url: str, mode: str, limit: int) -> None:
    """Child process: enrol, then sync (timed); prints one JSON line of figures."""
    from sync.device import enrol  # noqa: PLC0415 - the child imports only what it uses
    from sync.engine import SyncEngine  # noqa: PLC0415

    profiles = Profiles(Path(root), kdf=FAST_KDF)
    with profiles.unlock("bench", PASSWORD) as vault:
        enrol(vault, url, sys.stdin.readline().strip())  # the code: on stdin, not in argv
        if limit:
            with vault.write() as conn:  # the baseline may send only the first `limit`
                conn.execute("UPDATE outbox SET state = 'superseded' WHERE assessment_id >= ?",
                             (f"a{limit:06d}",))
        start, cpu = time.perf_counter(), time.process_time()
        report = SyncEngine(vault, batch_size=BATCH_SIZE, mode=mode, deadline=None).run()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "requests": report.requests,
                      "bytes_sent": report.bytes_sent, "peak_kib": peak_kib,
                      "sent": report.accepted, "still_queued": report.still_queued}))


def baseline_code(work: Path) -> Path | None:
    """The client code of BASELINE_REF, from git, or None (no ref, or no git checkout)."""
    if not BASELINE_REF:
        return None
    tree = work / "baseline-code"
    tree.mkdir()
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE_REF],
                                 capture_output=True, check=True, timeout=120).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        print(f"(no baseline: {BASELINE_REF} could not be taken from git)")
        return None
    return tree


def run_mode(
    work: Path, source: Path, mode: str, limit: int, *, code_tree: Path | None = None,
    name: str | None = None, count: int = COUNT,
) -> dict[str, Any]:
    name = name or mode
    root = work / name
    shutil.copytree(source, root)
    server, url, code = start_server(work / f"{name}-server")
    env = dict(os.environ)
    if code_tree is not None:  # the client runs the baseline's packages, first on the path
        env["PYTHONPATH"] = os.pathsep.join([str(code_tree), env.get("PYTHONPATH", "")])
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--client", str(root), url, mode, str(limit)],
            input=code + "\n", capture_output=True, text=True, check=True, timeout=1800,
            env=env,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    expected = limit or count
    if figures["sent"] != expected or figures["still_queued"]:
        raise RuntimeError(f"{mode}: sent {figures['sent']} of {expected}")
    return figures


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onesend-bench-sync-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        source = populate(work / "source", COUNT)
        setup = time.perf_counter() - start
        print(f"{COUNT} finalised assessments prepared in {setup:.1f} s (not measured)")
        batched = run_mode(work, source, "batch", 0)
        tree = baseline_code(work)
        before = (run_mode(work, source, "batch", 0, code_tree=tree, name="baseline")
                  if tree is not None else None)
        single = run_mode(work, source, "single", 0 if BASELINE == COUNT else BASELINE)
        shutil.rmtree(source)
        larger = []
        for size in SCALE:
            bigger = populate(work / f"source-{size}", size)
            larger.append((size, run_mode(work, bigger, "batch", 0, name=f"batch-{size}",
                                          count=size)))
            shutil.rmtree(bigger)
    scale = COUNT / BASELINE
    rows = [
        ("wall time", f"{batched['seconds']:.2f} s", f"{single['seconds'] * scale:.2f} s",
         single["seconds"] * scale / batched["seconds"]),
        ("requests", str(batched["requests"]), str(round(single["requests"] * scale)),
         single["requests"] * scale / batched["requests"]),
        ("bytes sent", f"{batched['bytes_sent'] / 1e6:.1f} MB",
         f"{single['bytes_sent'] * scale / 1e6:.1f} MB",
         single["bytes_sent"] * scale / batched["bytes_sent"]),
        ("peak memory", f"{batched['peak_kib'] / 1024:.0f} MiB",
         f"{single['peak_kib'] / 1024:.0f} MiB", single["peak_kib"] / batched["peak_kib"]),
    ]
    print(f"sync of {COUNT} assessments over loopback, batches of {BATCH_SIZE} vs one per "
          "request" + (f" (one-per-request measured on {BASELINE}, scaled)" if scale != 1
                       else "") + ":")
    print(f"  {'':12} {'batched':>12} {'one/request':>12} {'ratio':>8}")
    for name, ours, theirs, ratio in rows:
        print(f"  {name:12} {ours:>12} {theirs:>12} {ratio:7.1f}x")
    print(f"  throughput: {COUNT / batched['seconds']:.0f} assessments/s batched")
    per = batched["seconds"] / COUNT
    for size, figures in larger:
        print(f"  {size:,} batched: {figures['seconds']:.2f} s, {figures['requests']} requests, "
              f"{figures['bytes_sent'] / 1e6:.1f} MB, peak {figures['peak_kib'] / 1024:.0f} MiB; "
              f"{figures['seconds'] / size * 1000:.2f} ms a record, x"
              f"{figures['seconds'] / size / per:.2f} of {COUNT:,}'s (linear: about x1)")
    now_ms = batched["cpu_seconds"] * 1000 / COUNT
    if before is not None:
        then_ms = before["cpu_seconds"] * 1000 / COUNT
        print(f"  client CPU per record (batched): {now_ms:.3f} ms, baseline {BASELINE_REF} "
              f"{then_ms:.3f} ms (same run): {then_ms / now_ms:.2f}x less")
        print(f"  baseline {BASELINE_REF} wall time {before['seconds']:.2f} s, "
              f"bytes sent {before['bytes_sent'] / 1e6:.1f} MB")
    else:
        print(f"  client CPU per record (batched): {now_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
