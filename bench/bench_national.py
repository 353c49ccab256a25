"""National service benchmark: the load the issue asks for, and the figures at national scale.

1. 20 concurrent clients x 1,000 records each, in batches of 200, through `onesend-server
   serve --workers 2` on PostgreSQL; beside it, the same load on one worker on SQLite (the
   laptop reference, as before). Throughput, p50/p99 batch latency, errors.
2. The sufficiency query on 1.8 million cases (generated in SQL with generate_series), for
   England and for one LA.
3. The database's size per 100,000 stored revisions of a real payload.

PostgreSQL is started from the installed server binaries as in the tests (tests/pg.py).
`BENCH_NATIONAL_CLIENTS`, `BENCH_NATIONAL_RECORDS`, `BENCH_NATIONAL_CASES` scale it down.
"""

from __future__ import annotations

import copy
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
RECORDS = int(os.environ.get("BENCH_NATIONAL_RECORDS", "1000"))
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


def load(label: str, data: Path, database: str | None, workers: int) -> None:
    admin(data, database, "add-setting", "bench", "Bench School")
    codes = [admin(data, database, "issue-code", "bench").rsplit(" ", 1)[1].strip()
             for _ in range(CLIENTS)]
    port = free_port()
    command = [sys.executable, "-m", "national.cli", "--data", str(data)]
    if database:
        command += ["--database", database]
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers",
                               str(workers)], stdout=subprocess.DEVNULL,
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
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"{label}: {CLIENTS} clients x {RECORDS} records in batches of {BATCH}: "
              f"{CLIENTS * RECORDS / wall:,.0f} records/s, batch p50 "
              f"{statistics.median(latencies):.2f} s, p99 {p99:.2f} s, errors {errors[0]}",
              flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


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
    with engine.begin() as conn:
        conn.execute(text("ANALYZE cases"))
    print(f"generated {CASES:,} cases in {time.perf_counter() - began:.1f} s", flush=True)
    for scope in (None, "204"):
        with engine.connect() as conn:
            stats.sufficiency(conn, scope)  # warm
            began = time.perf_counter()
            result = stats.sufficiency(conn, scope)
            took = time.perf_counter() - began
        print(f"sufficiency query, {scope or 'England'}: {took:.2f} s "
              f"({len(result['rows']):,} cells)", flush=True)
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
        conn.execute(text("VACUUM ANALYZE submissions") if False else text("SELECT 1"))
        after = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    print(f"database size per {SIZE_ROWS:,} revisions ({len(blob):,}-byte payload): "
          f"{(after - before) / 1e6:.0f} MB", flush=True)
    engine.dispose()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        try:
            with cluster() as pg:
                load("SQLite, 1 worker (the reference, as before)", Path(tmp) / "sqlite",
                     None, 1)
                load("PostgreSQL, 2 workers (the service)", Path(tmp) / "pg",
                     pg.new_database(), 2)
                national_scale(pg)
        except BaseException as exc:
            if type(exc).__name__ in ("Skipped", "Failed"):
                print(f"national bench not run: {exc}")
                return 1
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
