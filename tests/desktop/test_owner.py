"""One safe owner per vault: processes sharing a profile never lose a save reported as saved.

Real processes throughout: a window-like process (the unlock worker's connection, the database
thread's long-lived connection, and the sync panel's short-lived ones, exactly as the window
opens them) beside `onesend` commands in other processes, then SIGKILL.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.profiles import Profiles

PASSWORD = "correct horse battery staple"
REPO = Path(__file__).parents[2]
DOCUMENT = {"form": "national-send-assessment", "form_version": "1.0.0",
            "answers": {"child": {"first_name": "Ada", "last_name": "Example"}}}

# The window's connections, as ui/profile_pages, ui/tasks and ui/sync_panel open them.
WINDOW_LIKE = r"""
import hashlib, json, sys, time
from pathlib import Path
from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from desktop.vault import Vault

data_dir, password, record_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
panel = not (len(sys.argv) > 4 and sys.argv[4] == "no-panel")
unlocked = Profiles(data_dir, kdf=FAST_KDF).unlock("alex", password)   # the unlock worker
path, cipher = unlocked.path, unlocked.cipher
unlocked.conn.close()                                                 # release_connection
db = Vault(path, cipher, "alex")                                      # the database thread
store = Assessments(db)
sys.stdout.write("ready\n"); sys.stdout.flush()
n = 0
while True:
    if panel and n % 3 == 0:  # the sync panel checks the status on a connection of its own
        try:
            other = Vault(path, cipher, "alex")
            other.read("SELECT count(*) FROM outbox")
            other.conn.close()
        except Exception as exc:  # the panel says so quietly and carries on
            sys.stdout.write(f"panel {type(exc).__name__}\n"); sys.stdout.flush()
    answers = {"about_me": {"n": n, "text": f"save {n} " * 200}}
    doc = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": answers}
    try:
        revision = store.save(record_id, doc)
    except Exception as exc:
        sys.stdout.write(f"failed {type(exc).__name__}: {exc}\n"); sys.stdout.flush()
    else:
        digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
        sys.stdout.write(f"saved {revision} {digest}\n"); sys.stdout.flush()
    n += 1
    time.sleep(0.01)
"""


def _digest(answers: object) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()


def onesend(data_dir: Path, *args: str, stdin: str = PASSWORD + "\n",
            check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


class WindowLike:
    """The window-like process, its reported saves, and its refusals."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.saved: dict[int, str] = {}
        self.failed: list[str] = []

    def _take(self, line: str) -> None:
        if line.startswith("saved "):
            _, revision, digest = line.split()
            self.saved[int(revision)] = digest
        elif line.startswith("failed "):
            self.failed.append(line)

    def wait(self, *, saves: int = 0, failures: int = 0) -> None:
        """Read its output until `saves` more saves (or `failures` more refusals) are reported."""
        assert self.process.stdout is not None
        want_saves, want_failures = len(self.saved) + saves, len(self.failed) + failures
        for _ in range(200 + 10 * (saves + failures)):
            if len(self.saved) >= want_saves and len(self.failed) >= want_failures:
                return
            line = self.process.stdout.readline()
            assert line, "the window-like process ended"
            self._take(line.strip())
        pytest.fail(f"expected {saves} saves and {failures} refusals; saw "
                    f"{len(self.saved)} saves and {len(self.failed)} refusals in all")

    def kill(self) -> tuple[dict[int, str], list[str]]:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        for line in self.process.stdout.read().splitlines():
            self._take(line)
        self.process.stdout.close()
        return self.saved, self.failed


def start_window_like(profiles: Profiles, record_id: str, tmp_path: Path,
                      *extra: str) -> WindowLike:
    script = tmp_path / "window_like.py"
    script.write_text(WINDOW_LIKE)
    process = subprocess.Popen(
        [sys.executable, str(script), str(profiles.data_dir), PASSWORD, record_id, *extra],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return WindowLike(process)


def kill_and_collect(window: WindowLike) -> tuple[dict[int, str], list[str]]:
    return window.kill()


def assert_every_save_is_there(profiles: Profiles, record_id: str,
                               saved: dict[int, str]) -> None:
    with profiles.unlock("alex", PASSWORD) as vault:
        assert vault.read("PRAGMA integrity_check") == [("ok",)]
        store = Assessments(vault)
        have = {entry.revision for entry in store.history(record_id)}
        lost = sorted(set(saved) - have)
        assert not lost, f"{len(lost)} of {len(saved)} saves reported as saved were lost"
        for revision, digest in saved.items():
            assert _digest(store.get(record_id, revision)["answers"]) == digest


def _new_record(profiles: Profiles) -> str:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).create(DOCUMENT)
    return record_id


@pytest.mark.slow
def test_commands_beside_the_window_then_a_crash_lose_no_save(
    profiles: Profiles, tmp_path: Path
) -> None:
    record_id = _new_record(profiles)
    data_dir = profiles.data_dir
    imported = tmp_path / "import.json"
    imported.write_text(json.dumps(DOCUMENT))
    window = start_window_like(profiles, record_id, tmp_path)
    imports = []
    try:
        for _ in range(3):
            onesend(data_dir, "assessments", "list", "--json", "--password-stdin")
            result = onesend(data_dir, "assessments", "import", str(imported), "--json",
                             "--password-stdin")
            imports.append(json.loads(result.stdout)["id"])
            window.wait(saves=3)
        window.wait(saves=10)  # the window keeps saving after the last command has closed
    finally:
        saved, failed = kill_and_collect(window)
    assert len(saved) > 10
    assert not failed
    assert_every_save_is_there(profiles, record_id, saved)
    with profiles.unlock("alex", PASSWORD) as vault:
        ids = {summary.id for summary in Assessments(vault).summaries()}
    assert set(imports) <= ids


@pytest.mark.slow
def test_a_command_killed_beside_the_window_loses_nothing_either(
    profiles: Profiles, tmp_path: Path
) -> None:
    """The other way round: the window-like process keeps going; a command is killed mid-way."""
    record_id = _new_record(profiles)
    window = start_window_like(profiles, record_id, tmp_path)
    second = start_window_like(profiles, record_id, tmp_path)  # a command's long connection
    try:
        window.wait(saves=5)
        second.wait(saves=5)
        first_saved, first_failed = kill_and_collect(second)
        onesend(profiles.data_dir, "assessments", "list", "--password-stdin")
        window.wait(saves=10)
    finally:
        saved, failed = kill_and_collect(window)
    assert not failed
    assert not first_failed
    assert_every_save_is_there(profiles, record_id, {**first_saved, **saved})


@pytest.mark.slow
def test_a_wal_deleted_under_the_window_is_noticed_and_no_save_is_lost(
    profiles: Profiles, tmp_path: Path
) -> None:
    """Finding 6: another program deletes vault.db-wal mid-session, then the window crashes."""
    record_id = _new_record(profiles)
    window = start_window_like(profiles, record_id, tmp_path, "no-panel")
    wal = profiles.folder("alex") / "vault.db-wal"
    try:
        window.wait(saves=5)
        wal.unlink()
        window.wait(failures=5)  # noticed at each save from then on
    finally:
        saved, failed = kill_and_collect(window)
    assert len(saved) >= 5
    # Every save after the deletion was refused as "saved", with the reason.
    assert failed
    assert all("VaultFilesChanged" in line for line in failed)
    assert "deleted a file OneSEND keeps beside" in failed[0]
    assert_every_save_is_there(profiles, record_id, saved)
