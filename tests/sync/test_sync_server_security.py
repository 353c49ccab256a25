"""The reference server against the attacks that were tried (issue 15) and against enrolment
answers lost after the server committed (issue 12): real servers on 127.0.0.1, real vaults."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine

from contract.canonical import payload_hash
from desktop.errors import (
    AuthExpired,
    InvalidInput,
    NotEnrolled,
    ServerRejected,
    UntrustedServer,
)
from desktop.outbox import Outbox
from national import ServerConfig, ServerThread
from sync.device import enrol, load_credentials
from sync.http import ApiSettings

PASSWORD = "correct horse battery staple"
FAST = ApiSettings(connect_timeout=2.0, read_timeout=5.0, deadline=10.0, max_attempts=6,
                   backoff_base=0.01, backoff_cap=0.05, max_retry_after=2.0)
PROTOCOL = {"OneSEND-Protocol": "1"}
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")

def stored_rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """What the service's database holds, read as an operator would (plain SQL)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sql_text(sql))]



def auth(token: str) -> dict[str, str]:
    return {**PROTOCOL, "Authorization": f"Bearer {token}"}


def token_of(device: Any) -> str:
    return load_credentials(device.vault).token


def submission(device: Any, sid: str, revision: int, base: int | None,
               signed_by: str = "Mallory") -> dict[str, Any]:
    """A complete, valid item built from one of the device's own payloads."""
    outbox = Outbox(device.vault)
    payload = outbox.payload(outbox.items(["queued", "acknowledged"])[0])
    payload = {**payload, "sign_off": {"by": signed_by, "at": "2026-01-01T00:00:00.000Z"}}
    return {"submission_id": sid, "revision": revision, "base_revision": base,
            "payload": payload, "payload_hash": payload_hash(payload)}


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}


# -- one school's device never touches another's records (issue 15, item 1) ---------------------


def test_a_device_never_reads_probes_or_writes_another_settings_records(
    make_device: Callable[..., Any], server: ServerThread
) -> None:
    school = make_device("school", setting="urn-100001")
    other = make_device("other", setting="urn-200002")
    school.add(2)
    assert school.sync().accepted == 2
    other.add(1, start=5)
    sid = school.ids[0]
    before = server.store.holdings()
    (held,) = [entry for entry in before if entry[0] == sid]
    token = token_of(other)

    # Reading: exactly the answer an unknown id gets (no existence oracle, no child's name).
    known = requests.get(f"{server.url}/v1/submissions/{sid}/latest", headers=auth(token),
                         timeout=10)
    unknown = requests.get(f"{server.url}/v1/submissions/nobody-has-this/latest",
                           headers=auth(token), timeout=10)
    assert known.status_code == unknown.status_code == 404
    assert known.json() == unknown.json()
    assert known.headers["content-type"] == unknown.headers["content-type"]
    assert "Quillonyx" not in known.text

    # Probing the manifest with the right hash: absent, with no hash and no receipt.
    reply = requests.post(f"{server.url}/v1/manifest/query", headers=auth(token), timeout=10,
                          json={"items": [{"submission_id": sid, "revision": held[1],
                                           "payload_hash": held[2]}]})
    assert reply.status_code == 200
    assert reply.json() == {"items": [{"submission_id": sid, "revision": held[1],
                                       "held": "absent"}]}

    # Writing: a new revision "signed off" by another name, and a first revision, each
    # rejected on its own; the other setting's own record in the same batch goes through.
    own = Outbox(other.vault).items(["queued"])[0]
    own_item = {"submission_id": own.assessment_id, "revision": own.revision,
                "base_revision": own.base_revision, "payload": Outbox(other.vault).payload(own),
                "payload_hash": own.payload_hash}
    batch = {"items": [submission(other, sid, held[1] + 1, held[1]),
                       submission(other, sid, 1, None), own_item]}
    reply = requests.post(f"{server.url}/v1/submissions/batch", headers=auth(token), json=batch,
                          timeout=10)
    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "accepted"]
    for result in results[:2]:
        assert result["problem"]["type"] == "urn:onesend:problem:forbidden"
        assert "latest_revision" not in result["problem"]
        assert "receipt" not in result
    reply = requests.put(f"{server.url}/v1/submissions/{sid}/revisions/{held[1] + 1}",
                         headers=auth(token), json=submission(other, sid, held[1] + 1, held[1]),
                         timeout=10)
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"
    assert [e for e in server.store.holdings() if e[0] == sid] == [
        e for e in before if e[0] == sid]

    # The owner still reads its record; a second device of the owner's setting does too.
    mine = requests.get(f"{server.url}/v1/submissions/{sid}/latest",
                        headers=auth(token_of(school)), timeout=10)
    assert mine.status_code == 200
    assert mine.json()["revision"] == held[1]
    colleague = make_device("colleague", setting="urn-100001")
    shared = requests.get(f"{server.url}/v1/submissions/{sid}/latest",
                          headers=auth(token_of(colleague)), timeout=10)
    assert shared.json() == mine.json()


# -- enrolment exactly once (issue 12, finding 3) -------------------------------------------------


def test_enrolments_whose_answers_are_lost_after_commit_succeed_ten_of_ten(
    make_device: Callable[..., Any], server: ServerThread
) -> None:
    for n in range(10):
        device = make_device(f"laptop{n}", enrolled=False)
        server.faults.plan("/v1/enrol", "drop")  # committed, then the answer is lost
        credentials = enrol(device.vault, server.url, server.issue_code(), FAST)
        assert load_credentials(device.vault) == credentials
        device.add(1, start=n)
        assert device.sync().accepted == 1
    assert [fault for path, fault in server.faults.injected if path == "/v1/enrol"] == [
        "drop"] * 10


def test_a_repeat_gets_the_same_token_only_with_the_same_key_and_code_in_time(
    server: ServerThread,
) -> None:
    code = server.issue_code()

    def attempt(key: str, value: str = code) -> requests.Response:
        return requests.post(f"{server.url}/v1/enrol", json={"code": value}, timeout=10,
                             headers={**PROTOCOL, "Idempotency-Key": key})

    first = attempt("k" * 24)
    assert first.status_code == 201
    again = attempt("k" * 24)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert attempt("j" * 24).status_code == 403  # another request: the code is used
    real = server.store.clock
    server.store.clock = lambda: real() + 601
    assert attempt("k" * 24).status_code == 403  # too late to be a retry
    assert attempt("short").status_code == 400


# -- enrolment bound to the real service (issue 15, item 2) ---------------------------------------


def test_a_server_that_did_not_issue_the_code_is_refused_and_nothing_is_stored(
    tmp_path: Path, make_device: Callable[..., Any], server: ServerThread
) -> None:
    code = server.issue_code()
    device = make_device("school", enrolled=False)
    with ServerThread(ServerConfig(tmp_path / "impostor")) as impostor:
        impostor.store.accept_code(code)  # takes any code, as a man in the middle would
        with pytest.raises(UntrustedServer, match=(
                rf"^The server at {re.escape(impostor.url)} is not the one that issued this "
                r"enrolment code \(its signing keys do not match the code\), so nothing was "
                r"stored: check the address and the network, or ask for a new code\.$")):
            enrol(device.vault, impostor.url, code, FAST)
    with pytest.raises(NotEnrolled):
        load_credentials(device.vault)
    # Typed loosely (lower case, spaces, O for 0), the same code still works at the real one.
    loose = code.lower().replace("-", " ").replace("0", "o")
    assert enrol(device.vault, server.url, loose, FAST).server_url == server.url


def test_what_is_not_an_enrolment_code_is_refused_before_anything_is_sent(
    make_device: Callable[..., Any], server: ServerThread
) -> None:
    device = make_device("school", enrolled=False)
    for bad in ("SCHOOL-7391", server.issue_code()[:-1], server.issue_code() + "X"):
        with pytest.raises(InvalidInput, match=r"^That is not an enrolment code: it has 28"):
            enrol(device.vault, server.url, bad, FAST)
    assert server.faults.injected == []
    with pytest.raises(NotEnrolled):
        load_credentials(device.vault)


def test_a_code_with_a_letter_codes_never_hold_says_which(
    make_device: Callable[..., Any], server: ServerThread
) -> None:
    # Found in the window: a U typed for a V (a code never holds U) was answered "it has 28
    # letters and digits in groups of four" although it had.
    device = make_device("school", enrolled=False)
    code = server.issue_code()
    typo = code[:-1] + "U"
    with pytest.raises(InvalidInput) as refused:
        enrol(device.vault, server.url, typo, FAST)
    assert str(refused.value) == (
        "That is not an enrolment code: it never holds the letter U. Check it against the code"
        " you were given (the digits 0 and 1 may be typed as O, I or L).")
    assert server.faults.injected == []


# -- codes and tokens (issue 15, item 10) ---------------------------------------------------------


def test_codes_are_long_random_and_stored_only_as_keyed_hashes(server: ServerThread) -> None:
    codes = [server.issue_code(f"urn-{n % 3}") for n in range(40)]
    assert all(CODE.fullmatch(code) for code in codes)
    assert len({code[:19] for code in codes}) == 40  # 16 random characters: 80 bits
    assert len({code[20:] for code in codes}) == 1  # the fingerprint of the one server
    stored = stored_rows(server.store.engine, "SELECT code_hash FROM enrol_codes")
    hashes = {row[0] for row in stored}
    assert len(hashes) == 40
    for code in codes:
        for form in (code, code.replace("-", "")):
            assert hashlib.sha256(form.encode()).hexdigest() not in hashes
    on_disk = b"".join(p.read_bytes() for p in server.config.data_dir.glob("server.db*"))
    assert not any(code.encode() in on_disk or code.replace("-", "").encode() in on_disk
                   for code in codes)


def test_wrong_codes_are_limited_per_client_and_overall_with_retry_after(
    tmp_path: Path,
) -> None:
    def post(server: ServerThread, code: str) -> requests.Response:
        return requests.post(f"{server.url}/v1/enrol", json={"code": code}, headers=PROTOCOL,
                             timeout=10)

    for name, config in (("client", {"enrol_failures_per_client": 5}),
                         ("overall", {"enrol_failures_per_client": 50,
                                      "enrol_failures_overall": 5})):
        with ServerThread(ServerConfig(tmp_path / name, **config)) as server:
            right = server.issue_code()
            guesses = [f"{n:04d}" + right[4:] for n in range(6)]
            assert [post(server, guess).status_code for guess in guesses[:5]] == [403] * 5
            for attempt in (guesses[5], right):  # the right code waits too: no guessing on
                refused = post(server, attempt)
                assert refused.status_code == 429
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["type"] == "urn:onesend:problem:rate-limited"
                assert 1 <= int(refused.headers["retry-after"]) <= 600


def test_the_client_says_at_once_when_enrolments_are_refused_for_too_many_wrong_codes(
    tmp_path: Path, make_device: Callable[..., Any],
) -> None:
    device = make_device("school", enrolled=False)
    with ServerThread(ServerConfig(tmp_path / "strict", enrol_failures_per_client=1)) as strict:
        right = strict.issue_code()
        with pytest.raises(AuthExpired, match="refused that enrolment code"):
            enrol(device.vault, strict.url, "0000" + right[4:], FAST)
        with pytest.raises(ServerRejected, match=(
                r"^The server is refusing enrolments from this network for now \(too many "
                r"attempts\): try again in \d+ minute\(s\)\.$")):
            enrol(device.vault, strict.url, right, FAST)
    with pytest.raises(NotEnrolled):
        load_credentials(device.vault)


def test_the_token_is_renewed_during_sync_sealed_and_the_old_one_ends(
    make_device: Callable[..., Any], server: ServerThread, data_dir: Path
) -> None:
    server.store.renew_after = 0.0  # due at once
    device = make_device()
    first = token_of(device)
    device.add(1)
    assert device.sync().accepted == 1
    second = token_of(device)
    assert second != first
    vault_bytes = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert second.encode() not in vault_bytes  # sealed in the vault, as at enrolment
    # The new token has been used, so the old one is over at once.
    assert requests.get(f"{server.url}/v1/manifest", headers=auth(first),
                        timeout=10).status_code == 401
    assert requests.get(f"{server.url}/v1/manifest", headers=auth(second),
                        timeout=10).status_code == 200

    # A renewal whose answer is lost: the token it replaced works for the grace period only.
    lost = requests.post(f"{server.url}/v1/token", headers=auth(second), timeout=10)
    assert lost.status_code == 200
    assert requests.get(f"{server.url}/v1/manifest", headers=auth(second),
                        timeout=10).status_code == 200
    real = server.store.clock
    server.store.clock = lambda: real() + server.store.token_grace + 1
    late = requests.get(f"{server.url}/v1/manifest", headers=auth(second), timeout=10)
    assert late.status_code == 401
    assert late.json()["type"] == "urn:onesend:problem:token-expired"
    assert requests.get(f"{server.url}/v1/manifest", headers=auth(lost.json()["token"]),
                        timeout=10).status_code == 200


def test_a_renewal_whose_answer_is_lost_is_retried_and_the_sync_goes_on(
    make_device: Callable[..., Any], server: ServerThread, exactly_once: Callable[..., None]
) -> None:
    server.store.renew_after = 0.0
    device = make_device()
    first = token_of(device)
    device.add(2)
    server.faults.plan("/v1/token", "drop")  # renewed on the server, the answer lost
    assert device.sync().accepted == 2
    assert token_of(device) != first
    assert ("/v1/token", "drop") in server.faults.injected
    assert requests.get(f"{server.url}/v1/manifest", headers=auth(first),
                        timeout=10).status_code == 401
    exactly_once(device)


def test_the_endpoints_that_need_no_token_are_rate_limited_per_client(tmp_path: Path) -> None:
    with ServerThread(ServerConfig(tmp_path / "busy", open_requests_per_minute=5)) as server:
        answers = [requests.get(f"{server.url}/v1/health", timeout=10) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[-1].headers["content-type"] == "application/problem+json"
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        enrolment = requests.post(f"{server.url}/v1/enrol", json={"code": server.issue_code()},
                                  headers=PROTOCOL, timeout=10)
        assert enrolment.status_code == 429


def test_a_device_revoked_at_the_server_stops_at_once(
    make_device: Callable[..., Any], server: ServerThread
) -> None:
    device = make_device()
    device.add(2)
    device.sync(batch_size=1)
    device_id = load_credentials(device.vault).device_id
    result = subprocess.run(
        [sys.executable, "-m", "app", "reference-server", "--data",
         str(server.config.data_dir), "--revoke-device", device_id, "--no-serve"],
        capture_output=True, text=True, timeout=120, env=env(), check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Revoked device {device_id}: its tokens no longer work.\n"
    device.add(1, start=2)
    with pytest.raises(AuthExpired, match=r"^The server does not accept this device's token"):
        device.sync()
    assert len(server.store.holdings()) == 2
    assert device.outbox.counts()["queued"] == 1

    again = subprocess.run(
        [sys.executable, "-m", "app", "reference-server", "--data",
         str(server.config.data_dir), "--revoke-device", device_id, "--no-serve"],
        capture_output=True, text=True, timeout=120, env=env(), check=False)
    assert again.returncode == 2
    assert again.stderr.splitlines()[-1] == (
        f"onesend: No device {device_id} is enrolled (or it is already revoked).")


# -- bounded input (issue 15, items 3 and 12) ----------------------------------------------------


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """`onesend reference-server` as a child process, so its memory can be read from /proc."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "reference-server", "--port", "0", "--data",
         str(tmp_path / "server"), "--issue-code"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env())
    assert process.stdout is not None
    code = process.stdout.readline().rsplit(" ", 1)[-1].strip()
    line = process.stdout.readline()
    assert "listening on " in line
    url = line.rsplit(" ", 1)[-1].strip()
    token = requests.post(f"{url}/v1/enrol", json={"code": code}, headers=PROTOCOL,
                          timeout=10).json()["token"]
    yield SimpleNamespace(process=process, url=url, token=token)
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


def peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]


def test_a_gzip_bomb_is_refused_and_the_server_stays_small(
    server_process: SimpleNamespace,
) -> None:
    # 62 KB of gzip that inflates to 63 MB of JSON arrays: it grew the server by 1.7 GB.
    bomb = gzip.compress(b"[" + b"[]," * 21_000_000 + b"[]]", compresslevel=9)
    assert len(bomb) < 100_000
    before = peak_kib(server_process.process.pid)
    headers = {**PROTOCOL, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    reply = requests.post(f"{server_process.url}/v1/enrol", data=bomb, headers=headers,
                          timeout=30)
    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["type"] == "urn:onesend:problem:payload-too-large"
    assert peak_kib(server_process.process.pid) - before < 16 * 1024
    # With a token too: refused before a single value of it is built.
    reply = requests.post(f"{server_process.url}/v1/submissions/batch", data=bomb, timeout=30,
                          headers={**headers, **auth(server_process.token)})
    assert reply.status_code == 413
    assert peak_kib(server_process.process.pid) - before < 160 * 1024
    assert requests.get(f"{server_process.url}/v1/health", timeout=5).status_code == 200


def test_health_answers_while_huge_manifest_queries_are_refused(
    server_process: SimpleNamespace,
) -> None:
    def refs(count: int) -> bytes:
        return json.dumps({"items": [
            {"submission_id": f"s{n}", "revision": 1, "payload_hash": "sha256:" + "0" * 64}
            for n in range(count)]}).encode()

    headers = {**auth(server_process.token), "Content-Encoding": "gzip",
               "Content-Type": "application/json"}
    huge = gzip.compress(refs(300_000))  # blocked the server for 100 s
    many = gzip.compress(refs(3_000))  # small enough to read, too many items to check
    answers: list[int] = []

    def query(body: bytes) -> None:
        for _ in range(3):
            answers.append(requests.post(f"{server_process.url}/v1/manifest/query",
                                         data=body, headers=headers, timeout=60).status_code)

    workers = [threading.Thread(target=query, args=(body,)) for body in (huge, many) * 2]
    for worker in workers:
        worker.start()
    health = []
    while any(worker.is_alive() for worker in workers) or len(health) < 5:
        health.append(requests.get(f"{server_process.url}/v1/health", timeout=5).status_code)
    for worker in workers:
        worker.join()
    assert set(health) == {200}
    assert sorted(set(answers)) == [400, 413]
    assert len(answers) == 12


def hostile_bodies(item: dict[str, Any]) -> dict[str, str]:
    """The same item made hostile three ways, as JSON text."""
    deep: Any = "bottom"
    for _ in range(500):
        deep = [deep]
    nested = json.loads(json.dumps(item))
    nested["payload"]["answers"]["about_me"]["interests"] = deep
    marked = json.loads(json.dumps(item))
    marked["payload"]["answers"]["about_me"]["interests"] = "@@NUMBER@@"
    surrogate = json.loads(json.dumps(item))
    surrogate["payload"]["answers"]["about_me"]["interests"] = "half \ud800 a character"
    return {
        "500 deep": json.dumps(nested),
        "1e400": json.dumps(marked).replace('"@@NUMBER@@"', "1e400"),
        "lone surrogate": json.dumps(surrogate),  # escaped as \ud800 by json.dumps
    }


def test_hostile_json_gets_a_problem_never_a_server_error(
    device: Any, server: ServerThread
) -> None:
    device.add(1)
    item = submission(device, "hostile-1", 1, None, signed_by="alex")
    token = token_of(device)
    headers = {**auth(token), "Content-Type": "application/json"}
    for name, text in hostile_bodies(item).items():
        replies = [
            requests.post(f"{server.url}/v1/submissions/batch", data=f'{{"items": [{text}]}}',
                          headers=headers, timeout=10),
            requests.put(f"{server.url}/v1/submissions/hostile-1/revisions/1", data=text,
                         headers=headers, timeout=10),
        ]
        for reply in replies:
            assert reply.status_code == 400, (name, reply.status_code)
            assert reply.headers["content-type"] == "application/problem+json", name
            assert reply.json()["type"] == "urn:onesend:problem:bad-request", name
    assert server.store.holdings() == []


# -- the enrolment code never on the command line; the reference server says what it is -------


def test_the_enrolment_code_is_read_from_stdin_never_from_arguments(
    data_dir: Path, profiles: Any, server: ServerThread
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    base = [sys.executable, "-m", "app", "enrol", "--server", server.url,
            "--password-stdin"]
    run_env = {**env(), "ONESEND_DATA_DIR": str(data_dir), "HOME": str(data_dir / "home")}
    code = server.issue_code()

    def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], input=stdin, capture_output=True, text=True,
                              timeout=120, env=run_env, check=False)

    assert run("--code", code, stdin=PASSWORD + "\n").returncode == 2  # no such option
    refused = run(stdin=PASSWORD + "\n" + code + "\n")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "onesend: Standard input is not a terminal: give the enrolment code with "
        "--code-stdin, on the line after the password.")
    enrolled = run("--code-stdin", stdin=PASSWORD + "\n" + code + "\n")
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.stdout.startswith(f"Enrolled this profile with {server.url}")

    shown = subprocess.run([sys.executable, "-m", "app", "reference-server", "--help"],
                           capture_output=True, text=True, timeout=60, env=env(), check=True)
    assert "keeps payloads in the clear" in " ".join(shown.stdout.split())


def test_the_enrolment_answer_names_the_setting_and_when_to_renew(
    server: ServerThread,
) -> None:
    code = server.issue_code("urn-300003")
    body = requests.post(f"{server.url}/v1/enrol", json={"code": code}, headers=PROTOCOL,
                         timeout=10).json()
    assert body["setting"] == "urn-300003"
    assert body["renew_after"] == server.store.renew_after
    with pytest.raises(ValueError, match="a setting is 1 to 64"):
        server.issue_code("no spaces allowed")
