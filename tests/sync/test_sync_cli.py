"""The trust-staff commands end to end: `onesend` in-process (tests/cli_runner.py) against
`onesend reference-server` as a process; a client process too where the server is killed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from tests.cli_runner import Result, run_onesend

PASSWORD = "correct horse battery staple"


class Server:
    """`onesend reference-server` as a child process, killed and restarted at will."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.data = data
        self.extra = extra
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.codes: list[str] = []

    def start(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "reference-server", "--port", str(self.port),
             "--data", str(self.data), "--issue-code", "--issue-code", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.codes = []  # printed before the readiness line
        line = self.process.stdout.readline()
        while line.startswith("Enrolment code for setting default: "):
            self.codes.append(line.rsplit(" ", 1)[-1].strip())
            line = self.process.stdout.readline()
        assert len(self.codes) == 2
        assert "listening on " in line, self.process.stderr.read() if self.process.stderr else ""
        self.url = line.rsplit(" ", 1)[-1].strip()
        self.port = int(self.url.rsplit(":", 1)[-1])
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close_streams()

    def _close_streams(self) -> None:
        for stream in (self.process.stdout, self.process.stderr) if self.process else ():
            if stream:
                stream.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_streams()

    def holdings(self) -> list[tuple[str, int, str]]:
        conn = sqlite3.connect(self.data / "server.db")
        try:
            rows = conn.execute("SELECT submission_id, revision, payload_hash FROM submissions "
                                "ORDER BY seq").fetchall()
        finally:
            conn.close()
        return [(str(a), int(b), str(c)) for a, b, c in rows]


@pytest.fixture
def reference_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*extra: str) -> Server:
        server = Server(tmp_path / "server", *extra).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def onesend(data_dir: Path, *args: str, stdin: str = PASSWORD + "\n",
            home: Path | None = None) -> Result:
    """The command in this process (tests/cli_runner.py); the server is a process of its own."""
    env = {"ONESEND_DATA_DIR": str(data_dir), "HOME": str(home or data_dir / "home")}
    return run_onesend([*args, "--password-stdin"], stdin=stdin, env=env)


def one_line_error(result: Result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("sync [")]
    assert lines[-1].startswith("onesend: ")
    return lines[-1]


@pytest.fixture
def laptop(data_dir: Path, new_document: Callable[[int], dict[str, Any]]) -> Path:
    """A profile (fast key derivation) with five complete drafts and one incomplete one."""
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        for n in range(5):
            store.create(new_document(n), record_id=f"child-{n}")
        draft = new_document(5)
        del draft["answers"]["about_me"]["aspirations"]
        store.create(draft, record_id="child-draft")
    return data_dir


def test_finalise_enrol_sync_status_reconcile(
    laptop: Path, reference_server: Callable[..., Server]
) -> None:
    server = reference_server()
    result = onesend(laptop, "assessments", "finalise", "child-draft")
    assert one_line_error(result).startswith(
        "onesend: Assessment child-draft is not complete and valid: 1 answer(s) to fix "
        "(about_me.aspirations)")
    result = onesend(laptop, "assessments", "finalise", "--all-complete", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert sorted(e["id"] for e in out["finalised"]) == [f"child-{n}" for n in range(5)]
    assert [e["id"] for e in out["skipped"]] == ["child-draft"]

    result = onesend(laptop, "sync")
    assert one_line_error(result).startswith("onesend: This profile is not enrolled")
    wrong = "0000" + server.codes[0][4:]  # well formed, right fingerprint, never issued
    result = onesend(laptop, "enrol", "--server", server.url, "--code-stdin",
                     stdin=f"{PASSWORD}\n{wrong}\n")
    assert one_line_error(result) == (
        "onesend: The server refused that enrolment code: it is unknown or has already "
        "been used.")
    result = onesend(laptop, "enrol", "--server", server.url, "--code-stdin",
                     stdin=f"{PASSWORD}\n{server.codes[0]}\n")
    assert result.returncode == 0, result.stderr
    assert f"Enrolled this profile with {server.url}" in result.stdout

    result = onesend(laptop, "sync", "--status", "--json")
    status = json.loads(result.stdout)
    assert status["counts"]["queued"] == 5
    result = onesend(laptop, "sync", "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    assert "sync [" in result.stderr
    assert "5/5" in result.stderr
    sent, forms = result.stdout.strip().splitlines()
    assert sent == "Sent 5, duplicates 0, recovered 0, conflicts 0, quarantined 0, still queued 0."
    # The window's use case: then new form versions, and drafts moved to the newest (the
    # incomplete one, to the newer national version shipped), said in one line.
    assert forms == ("Forms: 0 new version(s) fetched, 1 draft(s) moved to a newer version, "
                     "0 left on their version.")
    assert len(server.holdings()) == 5

    result = onesend(laptop, "reconcile", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["missing"], report["extra"], report["mismatched"]) == ([], [], [])
    assert report["oldest_unsynced_age_seconds"] is None

    # The national side loses one revision: reconcile names it.
    conn = sqlite3.connect(server.data / "server.db")
    with conn:
        conn.execute("DELETE FROM submissions WHERE submission_id = 'child-3'")
    conn.close()
    result = onesend(laptop, "reconcile", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["missing"] == ["child-3"]

    result = onesend(laptop, "sync", "--status")
    assert "acknowledged 5" in result.stdout
    # Nothing that names a child reached the terminal.
    assert "Quillonyx" not in result.stdout + result.stderr


@pytest.mark.slow  # the server killed and restarted under a client process of its own
def test_server_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(
    laptop: Path, reference_server: Callable[..., Server]
) -> None:
    server = reference_server("--latency", "0.3")
    assert onesend(laptop, "assessments", "finalise", "--all-complete").returncode == 0
    assert onesend(laptop, "enrol", "--server", server.url, "--code-stdin",
                   stdin=f"{PASSWORD}\n{server.codes[0]}\n").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
    env.update(ONESEND_DATA_DIR=str(laptop), HOME=str(laptop / "home"))
    client = subprocess.Popen(
        [sys.executable, "-m", "app", "sync", "--batch-size", "1", "--password-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )
    assert client.stdin is not None
    assert client.stderr is not None
    client.stdin.write(PASSWORD + "\n")
    client.stdin.close()
    seen = ""
    while "1/5" not in seen:  # "sync [...] 1/5": the first batch is acknowledged
        line = client.stderr.readline()
        assert line, seen
        seen += line
    server.kill()  # mid-way through the second batch (each request waits 0.3 s)
    server.start()  # same port, same data
    stderr = client.stderr.read()
    client.wait(timeout=120)
    assert client.stdout is not None
    client.stdout.close()
    client.stderr.close()
    if client.returncode != 0:  # gave up before the restart: a second run finishes the job
        assert "Could not reach the server" in stderr
        result = onesend(laptop, "sync")
        assert result.returncode == 0, result.stderr
    held = server.holdings()
    assert sorted(sid for sid, _, _ in held) == [f"child-{n}" for n in range(5)]
    status = json.loads(onesend(laptop, "sync", "--status", "--json").stdout)
    assert status["counts"]["acknowledged"] == 5
    assert {(i["id"], i["revision"]) for i in status["items"]} == {
        (sid, rev) for sid, rev, _ in held}
