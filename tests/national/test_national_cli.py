"""`onesend-server`, as an operator runs it: migrate, organisations, codes, tokens, revoke,
and `serve` with two worker processes on one PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.national.conftest import HEADERS, Client, item


def admin(data: Path, database: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "national.cli", "--data", str(data)]
    if database:
        command += ["--database", database]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_admin_commands_set_up_tenants_and_tokens(
    database: str | None, tmp_path: Path
) -> None:
    data = tmp_path / "national"
    migrated = admin(data, database, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Schema at version 2 (was 0; applied: 1, 2)" in migrated.stdout
    assert "applied: nothing" in admin(data, database, "migrate").stdout
    ddl = admin(data, database, "migrate", "--sql").stdout
    assert "CREATE TABLE submissions" in ddl
    assert "submissions_revision_once" in ddl
    assert "CREATE TABLE case_counts" in ddl
    assert admin(data, database, "add-la", "204", "Hackney").returncode == 0
    assert admin(data, database, "add-trust", "trust-1", "A Trust").returncode == 0
    added = admin(data, database, "add-setting", "100010", "A School", "--la", "204",
                  "--trust", "trust-1", "--urn", "100010")
    assert added.returncode == 0, added.stderr
    code = admin(data, database, "issue-code", "100010")
    assert re.search(r"Enrolment code for setting 100010: [0-9A-Z-]{34}", code.stdout)
    unknown = admin(data, database, "issue-code", "nowhere")
    assert unknown.returncode == 2
    assert unknown.stderr == ("onesend-server: there is no setting nowhere: add it with "
                              "add-setting.\n")
    wrong = admin(data, database, "issue-token", "la_officer", "--org", "trust-1")
    assert wrong.returncode == 2
    assert "a la_officer belongs to a la" in wrong.stderr
    issued = admin(data, database, "issue-token", "la_officer", "--org", "204")
    assert issued.returncode == 0, issued.stderr
    officer_id = issued.stdout.split()[1]
    assert admin(data, database, "revoke", officer_id).returncode == 0
    again = admin(data, database, "revoke", officer_id)
    assert again.returncode == 2
    assert "already revoked" in again.stderr
    # A worker that may hold no batch at once would never answer one: refused before serving.
    idle = admin(data, database, "serve", "--batches-at-once", "0")
    assert idle.returncode == 2
    assert idle.stderr == "onesend-server: --batches-at-once is a count of 1 or more.\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_worker_processes_store_a_racing_revision_once(
    postgres: Any, tmp_path: Path
) -> None:
    database = postgres.new_database()
    data = tmp_path / "national"
    assert admin(data, database, "add-setting", "s1", "A School").returncode == 0
    code = admin(data, database, "issue-code", "s1").stdout.rsplit(" ", 1)[1].strip()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "national.cli", "--data", str(data), "--database", database,
         "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # bounded: at most 30 s
            try:
                if requests.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        enrolled = requests.post(url + "/v1/enrol", headers=HEADERS,
                                 json={"code": code, "device_name": "laptop"}, timeout=30)
        assert enrolled.status_code == 201, enrolled.text
        token = enrolled.json()["token"]
        statuses: list[str] = []
        for _round in range(5):
            items = [item() for _ in range(20)]
            barrier = threading.Barrier(4)
            answers: list[Any] = []

            def send(items: list[dict[str, Any]] = items, barrier: threading.Barrier = barrier,
                     answers: list[Any] = answers) -> None:
                client = Client(url, token)  # its own connection: either worker may take it
                barrier.wait()
                answers.append(client.batch(*items).json()["results"])

            threads = [threading.Thread(target=send) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert len(answers) == 4
            for results in zip(*answers, strict=True):
                assert [r["status"] for r in results].count("accepted") == 1
                assert len({str(r["receipt"]) for r in results}) == 1
                statuses.extend(r["status"] for r in results)
        manifest = Client(url, token).get("/v1/manifest", limit="5000").json()["items"]
        assert len(manifest) == 100
        assert len({(m["submission_id"], m["revision"]) for m in manifest}) == 100
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    # Structured logs, one JSON object a line, and nothing of a child (nor any id) in them.
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    requests_logged = [e for e in lines if e.get("event") == "request"]
    assert {e["route"] for e in requests_logged} >= {"/v1/submissions/batch", "/v1/enrol"}
    assert all(e["status"] in (200, 201) for e in requests_logged)
    assert b"Kai" not in err
    assert b"Kai" not in _out
    assert token.encode() not in err
