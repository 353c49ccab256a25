"""National service benchmark: the load the issue asks for, and the figures at national scale.

1. 20 concurrent clients x 1,000 records each, in batches of 200, through `onesend-server
   serve --workers N` (N = the machine's cores) on PostgreSQL; beside it, the same load on
   one worker on SQLite (the laptop reference, as before). Throughput, p50/p99 batch
   latency, errors, and the CPU the service's processes (and PostgreSQL's) spent per record.
2. The CPU to judge one record, stage by stage, in this process: parsing, the contract check,
   canonical JSON and hash, the forms engine's verdict, the facts, the receipt's signature.
3. The sufficiency query on 1.8 million cases (generated in SQL with generate_series, the
   kept counts then counted from them as migration 2 does), for England and for one LA,
   beside the same figures counted over the cases (and checked equal).
4. The database's size per 100,000 stored revisions of a real payload.

PostgreSQL is started from the installed server binaries as in the tests (tests/pg.py).
`BENCH_NATIONAL_CLIENTS`, `BENCH_NATIONAL_RECORDS`, `BENCH_NATIONAL_CASES` scale it down;
`BENCH_NATIONAL_WORKERS` and `BENCH_NATIONAL_BATCHES_AT_ONCE` set the service's `serve
--workers` and `--batches-at-once`. Beside p50/p99 it prints the CPU seconds the service and
PostgreSQL used against the wall time, and (labelled DERIVED) what that CPU per record would
give on the same number of cores with nothing else running.
"""

from __future__ import annotations

import copy
import gc
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract.canonical import canonical_json, now_iso, payload_hash  # noqa: E402
from tests.national.conftest import EXAMPLE, HEADERS  # noqa: E402
from tests.pg import cluster  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_NATIONAL_CLIENTS", "20"))
WORKERS = int(os.environ.get("BENCH_NATIONAL_WORKERS", str(os.cpu_count() or 2)))
RECORDS = int(os.environ.get("BENCH_NATIONAL_RECORDS", "1000"))
BATCHES_AT_ONCE = os.environ.get("BENCH_NATIONAL_BATCHES_AT_ONCE", "2")
BATCH = 200
CASES = int(os.environ.get("BENCH_NATIONAL_CASES", "1800000"))
SIZE_ROWS = 100_000


def record(n: int) -> dict[str, Any]:
    answers = copy.deepcopy(EXAMPLE["answers"])
    answers["about_me"] = dict(answers.get("about_me") or {}, interests=f"Trains (#{n}).")
    payload = {"form": EXAMPLE["form"], "form_version": EXAMPLE["form_version"],
               "answers": answers, "sign_off": {"by": "bench", "at": now_iso()}}
    return {"submission_id": uuid.uuid4().hex, "revision": 1, "base_revision": None,
            "payload": payload, "payload_hash": payload_hash(payload)}


def admin(data: Path, database: str | None, *args: str) -> str:
    command = [sys.executable, "-m", "national.cli", "--data", str(data)]
    if database:
        command += ["--database", database]
    done = subprocess.run([*command, *args], capture_output=True, text=True, check=True,
                          timeout=300)
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ticks(pid: int) -> int:
    """CPU clock ticks of a process and its children, reaped or alive (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    total = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(_ticks(int(child)) for child in children)


def _cpu_seconds(pid: int | None) -> float:
    return _ticks(pid) / os.sysconf("SC_CLK_TCK") if pid else 0.0


def load(label: str, data: Path, database: str | None, workers: int,
         db_pid: int | None = None) -> None:
    admin(data, database, "add-setting", "bench", "Bench School")
    codes = [admin(data, database, "issue-code", "bench").rsplit(" ", 1)[1].strip()
             for _ in range(CLIENTS)]
    port = free_port()
    command = [sys.executable, "-m", "national.cli", "--data", str(data)]
    if database:
        command += ["--database", database]
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers",
                               str(workers), "--batches-at-once", BATCHES_AT_ONCE],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        tokens = []
        for code in codes:
            answer = requests.post(url + "/v1/enrol", headers=HEADERS, timeout=30,
                                   json={"code": code, "device_name": "bench"})
            tokens.append(answer.json()["token"])
        bodies = [[canonical_json({"items": [record(c * RECORDS + n)
                                             for n in range(start, start + BATCH)]})
                   for start in range(0, RECORDS, BATCH)] for c in range(CLIENTS)]
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        barrier = threading.Barrier(CLIENTS)

        def client(index: int) -> None:
            session = requests.Session()
            session.headers.update(HEADERS)
            session.headers["Authorization"] = f"Bearer {tokens[index]}"
            session.headers["Content-Type"] = "application/json"
            barrier.wait()
            for body in bodies[index]:
                began = time.perf_counter()
                try:
                    answer = session.post(url + "/v1/submissions/batch", data=body, timeout=60)
                    ok = answer.status_code == 200 and all(
                        r["status"] == "accepted" for r in answer.json()["results"])
                except requests.RequestException:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - began)
                    errors[0] += not ok

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        cpu_before = _cpu_seconds(server.pid), _cpu_seconds(db_pid)
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        service_cpu = _cpu_seconds(server.pid) - cpu_before[0]
        db_cpu = _cpu_seconds(db_pid) - cpu_before[1]
        latencies.sort()
        p50, mean = statistics.median(latencies), statistics.fmean(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        records = CLIENTS * RECORDS
        cores = os.cpu_count() or 1
        print(f"{label}: {CLIENTS} clients x {RECORDS} records in batches of {BATCH}: "
              f"{records / wall:,.0f} records/s, batch p50 {p50:.2f} s, p99 {p99:.2f} s, "
              f"errors {errors[0]}; CPU per record: service {service_cpu / records * 1000:.2f} ms"
              + (f", PostgreSQL {db_cpu / records * 1000:.2f} ms" if db_pid else ""), flush=True)
        # What the machine gave the service, measured: CPU seconds against the wall time.
        print(f"  measured: wall {wall:.1f} s; CPU used: service {service_cpu:.1f} s"
              + (f", PostgreSQL {db_cpu:.1f} s" if db_pid else "")
              + f" = {(service_cpu + db_cpu) / wall:.2f} of the {cores} cores; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        # Derived, not measured: the same closed load (every client always has one batch in
        # flight) on a host whose cores do nothing else. Throughput is then the cores over
        # the CPU per record, and by Little's law a batch takes the records in flight times
        # that CPU over the cores; p99 keeps the measured p99/mean ratio.
        # One worker judges on one core at a time (one GIL): the service's share of the CPU
        # is spread over at most as many cores as it has workers.
        per_record = (service_cpu + db_cpu) / records
        idle_mean = CLIENTS * BATCH * max(per_record / cores,
                                          service_cpu / records / min(cores, workers))
        print(f"  DERIVED (not measured) for {cores} idle cores at {per_record * 1000:.2f} ms of "
              f"CPU per record: {CLIENTS * BATCH / idle_mean:,.0f} records/s, batch mean "
              f"{idle_mean:.2f} s, p99 about {idle_mean * p99 / mean:.2f} s", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def judge_cpu() -> None:
    """CPU per record of each stage the service runs on a batch item before the database."""
    from contract.protocol import sign_receipt  # noqa: PLC0415
    from forms.engine import Session, verdict_of  # noqa: PLC0415
    from national.app import schema_errors  # noqa: PLC0415
    from national.body import parse_json  # noqa: PLC0415
    from national.facts import facts_of  # noqa: PLC0415
    from national.store import ServerStore  # noqa: PLC0415

    count = 1000
    body = canonical_json({"items": [record(n) for n in range(count)]})
    store = ServerStore(Path(tempfile.mkdtemp(prefix="bench-judge-")))
    items = parse_json(body)["items"]
    key = (EXAMPLE["form"], EXAMPLE["form_version"])
    definition = store.definition(*key)
    verdicts = [verdict_of(Session(definition, i["payload"]["answers"])) for i in items]
    gc.freeze()  # as a worker does once started (national/cli.py): only the batch is young
    gc.set_threshold(100_000, 50, 1000)  # as a worker does too
    stages = {
        "parse (bounded JSON)": lambda: parse_json(body),
        "contract check": lambda: [schema_errors("Submission", i) for i in items],
        "canonical JSON + hash": lambda: [payload_hash(i["payload"]) for i in items],
        "forms engine verdict": lambda: [verdict_of(Session(definition, i["payload"]["answers"]))
                                         for i in items],
        "facts": lambda: [facts_of(i["payload"]["answers"], v.deadlines)
                          for i, v in zip(items, verdicts, strict=True)],
        "receipt signature": lambda: [sign_receipt(store.receipt_key, {
            "submission_id": i["submission_id"], "revision": 1,
            "payload_hash": i["payload_hash"], "received_at": now_iso(),
            "server_id": store.server_id}) for i in items],
    }
    spent = {}
    for name, run in stages.items():
        run()  # warm
        began = time.process_time()
        run()
        spent[name] = (time.process_time() - began) / count * 1000
    store.close()
    total = sum(spent.values())
    forms_ms = spent["forms engine verdict"]
    print(f"CPU to judge one record: {total:.3f} ms, of which the forms engine {forms_ms:.3f} ms"
          f" and the rest {total - forms_ms:.3f} ms ("
          + ", ".join(f"{name} {ms:.3f}" for name, ms in spent.items()
                      if name != "forms engine verdict") + ")", flush=True)


def national_scale(pg: Any) -> None:
    from sqlalchemy import text  # noqa: PLC0415

    from national import stats  # noqa: PLC0415
    from national.store import make_engine  # noqa: PLC0415

    database = pg.new_database()
    data = Path(tempfile.mkdtemp(prefix="bench-national-"))
    admin(data, database, "migrate")
    engine = make_engine(database, data)
    needs = "ARRAY['ASD','SLCN','SEMH','MLD','SPLD','SLD','PMLD','HI','VI','PD','MSI','OTH']"
    types = ("ARRAY['mainstream_school','mainstream_resourced','special_school',"
             "'special_independent','early_years','fe_college','alternative_provision']")
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO cases (submission_id, latest_seq, revision, setting, home_la,
                placed_la, kind, status, primary_need, current_setting_type,
                recommended_setting_type, nc_year, phase, academic_year, event_month,
                plan_needed, next_due, updated_at)
            SELECT 'g' || n, n, 1, 'default', lpad((201 + n % 153)::text, 3, '0'),
                lpad((201 + (n / 7) % 153)::text, 3, '0'),
                CASE WHEN n % 3 = 0 THEN 'ehc_request' ELSE 'annual_review' END,
                CASE WHEN n % 4 = 0 THEN 'no_plan' ELSE 'plan_recommended' END,
                ({needs})[1 + n % 12], ({types})[1 + n % 7], ({types})[1 + (n / 3) % 7],
                ((n % 14) + 1)::text,
                CASE WHEN n % 14 < 6 THEN 'primary' WHEN n % 14 < 11 THEN 'secondary'
                     ELSE 'post_16' END,
                (2022 + n % 4)::text || '/' || lpad(((23 + n % 4) % 100)::text, 2, '0'),
                (2022 + n % 4)::text || '-' || lpad((1 + n % 12)::text, 2, '0'),
                n % 4 <> 0, '2026-01-01', '2026-01-01T00:00:00.000Z'
            FROM generate_series(1, {CASES}) AS n"""))
    print(f"generated {CASES:,} cases in {time.perf_counter() - began:.1f} s", flush=True)
    began = time.perf_counter()
    with engine.begin() as conn:
        stats.rebuild_counts(conn)  # what migration 2 does; each stored revision keeps it
    with engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))
        conn.execute(text("ANALYZE case_counts"))
        kept = conn.execute(text("SELECT count(*) FROM case_counts")).scalar_one()
    print(f"counted them into case_counts ({kept:,} rows) in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    for scope in (None, "204"):
        took = {}
        results = {}
        for source in ("counts", "cases"):
            with engine.connect() as conn:
                stats.sufficiency(conn, scope, source=source)  # warm
                began = time.perf_counter()
                results[source] = stats.sufficiency(conn, scope, source=source)
                took[source] = time.perf_counter() - began
        same = "equal" if results["counts"] == results["cases"] else "NOT EQUAL"
        print(f"sufficiency query, {scope or 'England'}: {took['counts']:.2f} s from the kept "
              f"counts, {took['cases']:.2f} s counted over the cases ({same}; "
              f"{len(results['counts']['rows']):,} cells)", flush=True)
    # Size per 100,000 stored revisions of the real example payload.
    payload = record(0)["payload"]
    blob = canonical_json(payload)
    with engine.begin() as conn:
        before = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        conn.execute(text(f"""
            INSERT INTO submissions (submission_id, revision, base_revision, form, form_version,
                payload, payload_hash, device_id, received_at, signature, setting, home_la,
                placed_la, kind, status, primary_need, current_setting_type,
                recommended_setting_type, nc_year, phase, academic_year, event_month,
                plan_needed, next_due)
            SELECT md5(n::text), 1, NULL, 'national-send-assessment', '2.0.0', :payload,
                'sha256:' || encode(sha256(n::text::bytea), 'hex'), md5('d' || n::text),
                '2026-01-01T00:00:00.000Z', repeat('x', 88), 'default', '204', '204',
                'ehc_request', 'plan_recommended', 'ASD', 'mainstream_school',
                'special_school', '5', 'primary', '2026/27', '2026-09', true, '2026-11-09'
            FROM generate_series(1, {SIZE_ROWS}) AS n"""), {"payload": blob})
    with engine.begin() as conn:
        after = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    print(f"database size per {SIZE_ROWS:,} revisions ({len(blob):,}-byte payload): "
          f"{(after - before) / 1e6:.0f} MB", flush=True)
    engine.dispose()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        try:
            with cluster() as pg:
                postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
                print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the "
                      "start", flush=True)
                judge_cpu()
                load("SQLite, 1 worker (the reference, as before)", Path(tmp) / "sqlite",
                     None, 1)
                load(f"PostgreSQL, {WORKERS} workers (the service)", Path(tmp) / "pg",
                     pg.new_database(), WORKERS, postmaster)
                national_scale(pg)
                print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)
        except BaseException as exc:
            if type(exc).__name__ in ("Skipped", "Failed"):
                print(f"national bench not run: {exc}")
                return 1
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
