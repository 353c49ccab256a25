"""The client's limits, against real sockets on 127.0.0.1: one sync per profile (an OS lock a
killed sync cannot leave behind), deadlines per request and per run, and bounds on what a
server may answer. `Front` is a raw TCP front for the reference server that forwards, or goes
silent, trickles headers, or answers with hostile bytes, on demand."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import DeadlinePassed, ServerRejected, SyncBusy, UntrustedServer
from desktop.profiles import Profiles
from national import ServerThread
from sync.device import enrol
from sync.engine import SyncProgress
from sync.http import Api, ApiSettings, Retryable
from sync.lock import SyncLock
from tests.cli_runner import Result, run_onesend

PASSWORD = "correct horse battery staple"
Check = Callable[..., None]
FORWARD, SILENT, TRICKLE = "forward", "silent", "trickle"
BUSY = "onesend: Another sync of this profile is running; wait for it to finish."


class Front:
    """A raw HTTP front on 127.0.0.1 for `upstream`: each request is read whole, then
    forwarded, or answered with set bytes (by path prefix), or met with silence (the server
    accepts and never answers) or a trickle of header bytes, whichever `mode` says then."""

    def __init__(self, upstream: tuple[str, int] | None) -> None:
        self.upstream = upstream
        self.mode = FORWARD
        self.answers: dict[str, bytes] = {}
        self.trickle_interval = 0.2
        self.misbehaved = threading.Event()  # set when a request met silence or a trickle
        self.trickled = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def close(self) -> None:
        self._stop.set()
        for sock in list(self._sockets):
            _shut(sock)  # wakes a thread blocked in recv (close alone would not)
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(0.2)
            self._sockets.append(client)
            self._spawn(self._serve, client)

    def _recv(self, sock: socket.socket) -> bytes | None:
        """Bytes, b"" at end of stream, or None when the front is stopping."""
        while not self._stop.is_set():
            try:
                return sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return b""
        return None

    def _request(self, client: socket.socket, pending: bytearray) -> bytes | None:
        while b"\r\n\r\n" not in pending:
            data = self._recv(client)
            if not data:
                return None
            pending.extend(data)
        head, _, _ = bytes(pending).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        total = len(head) + 4 + length
        while len(pending) < total:
            data = self._recv(client)
            if not data:
                return None
            pending.extend(data)
        request = bytes(pending[:total])
        del pending[:total]
        return request

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        pending = bytearray()
        try:
            while (request := self._request(client, pending)) is not None:
                path = request.split(b" ", 2)[1].decode()
                answer = next((raw for prefix, raw in self.answers.items()
                               if path.startswith(prefix)), None)
                if answer is not None:
                    client.sendall(answer)
                elif self.mode == SILENT:
                    self.misbehaved.set()
                    while self._recv(client):
                        pass  # accepts, reads, never answers
                    return
                elif self.mode == TRICKLE:
                    self.misbehaved.set()
                    self._trickle(client)
                    return
                else:
                    if upstream is None:
                        assert self.upstream is not None
                        upstream = socket.create_connection(self.upstream)
                        self._sockets.append(upstream)
                        self._spawn(self._pump, upstream, client)
                    upstream.sendall(request)
        except OSError:
            return
        finally:
            if upstream is not None:
                _shut(upstream)
                upstream.close()
            client.close()

    def _trickle(self, client: socket.socket) -> None:
        """A status line, then a header one byte at a time, for at most 30 seconds."""
        client.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        ends = time.monotonic() + 30
        while time.monotonic() < ends and not self._stop.wait(self.trickle_interval):
            client.sendall(b"a")
            self.trickled += 1

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def http_answer(body: bytes, status: str = "200 OK", *, extra: bytes = b"") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: "
            f"{len(body)}\r\n".encode() + extra + b"\r\n" + body)


@pytest.fixture
def front(server: ServerThread) -> Iterator[Front]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    running = Front((host, int(port)))
    yield running
    running.close()


@pytest.fixture
def fronted(make_device: Callable[..., Any], front: Front, server: ServerThread) -> Any:
    """A device enrolled through the front, so every request it makes passes through it."""
    device = make_device("alex", enrolled=False)
    enrol(device.vault, front.url, server.issue_code(), device.settings)
    return device


def settings(**changes: Any) -> ApiSettings:
    base = {"connect_timeout": 2.0, "read_timeout": 5.0, "deadline": 5.0, "max_attempts": 6,
            "backoff_base": 0.01, "backoff_cap": 0.05, "max_retry_after": 1.0}
    return ApiSettings(**{**base, **changes})


def outbox_rows(vault_file: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{vault_file}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM outbox ORDER BY assessment_id, revision").fetchall()
    finally:
        conn.close()


# -- the command line: in-process (tests/cli_runner.py), or a process where two must race ----

def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
    env.update(ONESEND_DATA_DIR=str(data_dir), HOME=str(data_dir / "home"))
    return env


def onesend(data_dir: Path, *args: str) -> Result:
    return run_onesend([*args, "--password-stdin"], stdin=PASSWORD + "\n",
                       env={"ONESEND_DATA_DIR": str(data_dir), "HOME": str(data_dir / "home")})


def start_onesend(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args, "--password-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(data_dir))
    assert process.stdin is not None
    process.stdin.write(PASSWORD + "\n")
    process.stdin.close()
    return process


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.wait(timeout=120)
    assert process.stdout is not None
    assert process.stderr is not None
    with process.stdout, process.stderr:
        return process.returncode, process.stdout.read(), process.stderr.read()


@pytest.fixture
def laptop(data_dir: Path, new_document: Callable[[int], dict[str, Any]],
           front: Front, server: ServerThread) -> Path:
    """A profile on disk (closed), enrolled through the front, with five finalised records."""
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    with vault:
        enrol(vault, front.url, server.issue_code(), settings())
        store = Assessments(vault)
        for n in range(5):
            store.create(new_document(n), record_id=f"child-{n}")
            store.finalise(f"child-{n}")
    return data_dir


def vault_file(data_dir: Path) -> Path:
    found = list(data_dir.rglob("vault.db"))
    assert len(found) == 1
    return found[0]


# -- one sync per profile ---------------------------------------------------------------------

@pytest.mark.slow  # a sync process killed mid-batch
def test_a_sync_killed_mid_batch_does_not_block_the_next_one(
    laptop: Path, server: ServerThread,
) -> None:
    server.faults.latency = 0.3  # each batch waits, so the kill lands mid-batch
    client = start_onesend(laptop, "sync", "--batch-size", "1")
    assert client.stderr is not None
    seen = ""
    while "1/5" not in seen:  # the first batch is acknowledged, the second on its way
        line = client.stderr.readline()
        assert line, seen
        seen += line
    client.send_signal(signal.SIGKILL)
    client.wait(timeout=10)
    assert client.stdout is not None
    client.stdout.close()
    client.stderr.close()

    server.faults.latency = 0.0
    result = onesend(laptop, "sync")  # at once: no lease left behind to wait out
    assert result.returncode == 0, result.stderr
    assert "Another sync" not in result.stderr
    held = server.store.holdings()
    assert sorted(sid for sid, _, _ in held) == [f"child-{n}" for n in range(5)]
    status = json.loads(onesend(laptop, "sync", "--status", "--json").stdout)
    assert status["counts"]["acknowledged"] == 5
    assert status["counts"]["queued"] == status["counts"]["in_flight"] == 0


def test_a_lease_left_by_an_earlier_version_under_a_clock_a_year_ahead_does_not_block(
    fronted: Any, exactly_once: Check,
) -> None:
    fronted.add(2)
    a_year_ahead = time.time() + 365 * 24 * 3600
    with fronted.vault.write() as conn:  # what the wall-clock lease of earlier versions wrote
        conn.execute("INSERT INTO meta (key, value) VALUES ('sync_lease', ?)",
                     (json.dumps({"owner": "another", "until": a_year_ahead}),))
    assert fronted.sync().accepted == 2
    assert fronted.vault.read("SELECT 1 FROM meta WHERE key = 'sync_lease'") == []
    exactly_once(fronted)


def test_the_lock_is_the_operating_systems_and_goes_with_its_holder(
    fronted: Any, tmp_path: Path,
) -> None:
    fronted.add(1)
    folder = fronted.vault.path.parent
    holder = subprocess.Popen(  # another process takes the lock, then is killed
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from sync.lock import SyncLock; lock = SyncLock(Path(sys.argv[1])); lock.acquire(); "
         "print('held', flush=True); time.sleep(60)", str(folder)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(SyncBusy):
        fronted.sync()
    assert fronted.outbox.counts()["queued"] == 1
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    holder.stdout.close()
    assert fronted.sync().accepted == 1
    with SyncLock(folder):  # released at the end of the run
        pass


@pytest.mark.slow  # the first sync is another process, holding the lock
def test_a_second_sync_while_one_runs_says_one_sentence_and_touches_nothing(
    data_dir: Path, make_device: Callable[..., Any], front: Front, server: ServerThread,
) -> None:
    device = make_device("alex", enrolled=False)
    enrol(device.vault, front.url, server.issue_code(), device.settings)
    device.add(2)
    device.store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                         "answers": {}}, record_id="incomplete")
    with device.vault.write() as conn:  # one the server will refuse: quarantined
        device.outbox.enqueue(conn, "incomplete", 1, body=device.store.get("incomplete"),
                              sign_off={"by": "alex", "at": "2026-01-01T00:00:00.000Z"})
    report = device.sync()
    assert (report.accepted, report.quarantined) == (2, 1)
    device.add(2, start=2)
    device.vault.close()
    before = outbox_rows(vault_file(data_dir))

    front.mode = SILENT
    first = start_onesend(data_dir, "sync", "--deadline", "60")
    assert front.misbehaved.wait(60)  # the first sync holds the lock and waits for an answer
    result = onesend(data_dir, "sync", "--retry-quarantined")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == BUSY
    assert outbox_rows(vault_file(data_dir)) == before  # not even the quarantined one moved

    first.send_signal(signal.SIGKILL)
    finish(first)
    front.mode = FORWARD
    result = onesend(data_dir, "sync")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Sent 2,")


# -- deadlines --------------------------------------------------------------------------------

def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_request_deadline() -> None:
    front = Front(None)
    front.mode = TRICKLE
    api = Api(front.url, settings(read_timeout=5.0, deadline=1.0, max_attempts=1))
    try:
        started = time.monotonic()
        with pytest.raises(Retryable, match="deadline passed"):
            api.once("GET", "/v1/health")
        elapsed = time.monotonic() - started
    finally:
        api.close()
        front.close()
    assert front.trickled >= 2  # bytes kept coming: each well within the read timeout
    assert elapsed < 1.0 + 3.0


def test_a_server_that_never_answers_stops_the_run_at_its_deadline(
    fronted: Any, front: Front, exactly_once: Check,
) -> None:
    fronted.add(3)
    fronted.settings = settings(read_timeout=60.0, deadline=60.0)  # per request: generous
    front.mode = SILENT
    started = time.monotonic()
    with pytest.raises(DeadlinePassed, match=(
            r"^Sync stopped at its deadline of 2 seconds; what was sent is kept and the "
            r"rest stays queued\.$")):
        fronted.sync(deadline=2.0)
    assert time.monotonic() - started < 2.0 + 3.0
    assert fronted.outbox.counts()["queued"] == 3
    front.mode = FORWARD
    assert fronted.sync().accepted == 3
    exactly_once(fronted)


def test_a_run_cut_by_its_deadline_mid_way_keeps_what_was_sent_and_loses_nothing(
    fronted: Any, front: Front, server: ServerThread, exactly_once: Check,
) -> None:
    fronted.add(6)
    fronted.settings = settings(deadline=1.0)

    def go_silent_after_the_first_batch(progress: SyncProgress) -> None:
        if progress.done >= 2:
            front.mode = SILENT

    started = time.monotonic()
    with pytest.raises(DeadlinePassed):
        fronted.sync(batch_size=2, deadline=3.0, progress=go_silent_after_the_first_batch)
    assert time.monotonic() - started < 3.0 + 3.0
    counts = fronted.outbox.counts()
    assert counts["acknowledged"] == 2
    assert counts["queued"] + counts["in_flight"] == 4
    front.mode = FORWARD
    fronted.sync()
    exactly_once(fronted)
    assert len(server.store.holdings()) == 6


def test_sync_deadline_on_the_command_line(laptop: Path, front: Front) -> None:
    front.mode = SILENT
    started = time.monotonic()
    result = onesend(laptop, "sync", "--deadline", "2")
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "onesend: Sync stopped at its deadline of 2 seconds; what was sent is kept and the "
        "rest stays queued.")
    assert elapsed < 2 + 20  # the process's own start-up included
    status = json.loads(onesend(laptop, "sync", "--status", "--json").stdout)
    assert status["counts"]["queued"] == 5
    for bad in ("0", "-1", "nan", "1e9"):
        result = onesend(laptop, "sync", "--deadline", bad)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "onesend: The sync deadline must be between 1 and 86400 seconds.")


# -- bounded answers --------------------------------------------------------------------------

HOSTILE = {
    "deep": (b"[" * 200_000, "it is nested more than 64 levels deep"),
    "deep-objects": (b'{"a":' * 100 + b"0" + b"}" * 100, "it is nested more than 64 levels deep"),
    "large": (b'"' + b"a" * (17 * 1024 * 1024) + b'"', "it is larger than 16 MB"),
    "long-list": (b"[" + b"0," * 150_000 + b"0]", "a list in it holds more than 100,000 items"),
    "many-values": (b"[" + b"[0,0,0,0,0,0,0,0,0,0]," * 100_000 + b"0]",
                    "it holds more than 1,000,000 values"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_answer_is_one_sentence_and_changes_nothing(
    kind: str, fronted: Any, front: Front,
) -> None:
    body, reason = HOSTILE[kind]
    fronted.add(2)
    before = fronted.outbox.items()
    front.answers["/v1/health"] = http_answer(body)
    with pytest.raises(UntrustedServer) as raised:
        fronted.sync()
    assert str(raised.value) == (
        f"The server's answer was refused because {reason}; nothing was changed by it.")
    assert fronted.outbox.items() == before


def test_a_compressed_answer_is_bounded_as_it_is_unpacked(fronted: Any, front: Front) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip: 64 MB of JSON in about 64 KB
    bomb = packer.compress(b"[") + b"".join(
        packer.compress(b"0," * 1024 * 1024) for _ in range(32)) + packer.compress(b"0]")
    bomb += packer.flush()
    assert len(bomb) < 1024 * 1024
    front.answers["/v1/health"] = http_answer(bomb, extra=b"Content-Encoding: gzip\r\n")
    fronted.add(1)
    before = fronted.outbox.items()
    with pytest.raises(UntrustedServer, match=r"^The server's answer was refused because it "
                       r"is larger than 16 MB; nothing was changed by it\.$"):
        fronted.sync()
    assert fronted.outbox.items() == before


def test_a_hostile_answer_to_a_batch_acknowledges_nothing_and_loses_nothing(
    fronted: Any, front: Front, server: ServerThread, exactly_once: Check,
) -> None:
    fronted.add(3)
    front.answers["/v1/submissions/batch"] = http_answer(b"[" * 200_000)
    with pytest.raises(UntrustedServer, match="nested more than 64 levels deep"):
        fronted.sync()
    assert fronted.outbox.counts()["acknowledged"] == 0
    del front.answers["/v1/submissions/batch"]
    fronted.sync()  # what was in flight is looked up in the manifest, never sent twice
    exactly_once(fronted)


def test_a_hostile_answer_on_the_command_line_is_one_sentence(
    laptop: Path, front: Front,
) -> None:
    front.answers["/v1/health"] = http_answer(b"[" * 200_000)
    result = onesend(laptop, "sync")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "onesend: The server's answer was refused because it is nested more than 64 levels "
        "deep; nothing was changed by it.")
    status = json.loads(onesend(laptop, "sync", "--status", "--json").stdout)
    assert status["counts"]["queued"] == 5


def test_a_servers_words_reach_the_terminal_without_control_characters(
    fronted: Any, front: Front,
) -> None:
    problem = json.dumps({"type": "urn:onesend:problem:bad", "status": 400,
                          "title": "Refused \x1b[2J\udcff here"}).encode()
    front.answers["/v1/health"] = http_answer(problem, "400 Bad Request")
    fronted.add(1)
    with pytest.raises(ServerRejected, match=r"HTTP 400: Refused \?\[2J\? here") as raised:
        fronted.sync()
    str(raised.value).encode("utf-8")  # printable anywhere


