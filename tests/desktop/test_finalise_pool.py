"""Finalising many records with the forms engine's judging on every core (worker processes).

Real processes throughout: the pool's `spawn`ed workers judge, and are killed for real; a real
small disk fills up mid-run. The pooled run leaves exactly what finalising one by one leaves;
a worker's death or a failure of the vault rolls back only the batch it hit, says so in one
sentence, and a second run finishes the job. (Full tier: each test starts worker processes.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import DiskFull, WorkerStopped
from desktop.judging import POOL_MIN
from desktop.outbox import Outbox
from desktop.profiles import Profiles
from desktop.vault import Vault
from tests.cli_runner import onesend_script
from tests.desktop.test_bulk_finalise import (
    PASSWORD,
    SCENE,
    _outcome,
    build_scene,
    complete,
    one_by_one,
    state_of,
)
from tests.desktop.test_disk_full import SmallDisk
from tests.desktop.test_disk_full import disk as disk  # noqa: PLC0414 - the fixture, shared


def workers_of(parent: int) -> list[int]:
    """The pool's worker processes started by `parent` (spawned: `spawn_main` in their
    command line), found in /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines()
                    if line.startswith("PPid:"))
        if int(ppid) == parent and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def kill_workers(parent: int) -> int:
    killed = 0
    for pid in workers_of(parent):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def records(vault: Vault, count: int) -> list[str]:
    store = Assessments(vault)
    return [store.create(complete(f"Child{n}"), record_id=f"c{n:04d}")[0]
            for n in range(count)]


def each_finalised_whole_or_not_at_all(vault: Vault, ids: list[str]) -> set[str]:
    """The records finalised: each either signed off and queued (revision 2, one queued
    outbox row) or untouched (a draft at revision 1, nothing queued); the vault's own
    checks clean."""
    store = Assessments(vault)
    queued = {item.assessment_id: item for item in Outbox(vault).items()}
    done = set()
    for record_id in ids:
        document = store.get(record_id)
        if document["status"] == "queued":
            assert document["revision"] == 2
            assert queued[record_id].revision == 2
            assert queued[record_id].state == "queued"
            done.add(record_id)
        else:
            assert (document["status"], document["revision"]) == ("draft", 1)
            assert record_id not in queued
    assert set(queued) == done
    assert vault.check_metadata() == []
    return done


def test_a_pooled_run_leaves_what_finalising_one_by_one_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judged in two worker processes (the session's fetched form given to them): a not-ready
    record, a tampered revision and an out-of-bounds body in the middle of batches are each
    reported, the others finalised, with the same revisions, statuses, payloads (hashes
    checked) and audit entries as `finalise` one record at a time."""
    single = build_scene(tmp_path / "one", monkeypatch)
    expected = one_by_one(single, SCENE)
    pooled = build_scene(tmp_path / "pooled", monkeypatch)
    # The answers go to the workers through pipes only: no temp file, here or in a worker.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    got = [_outcome(*result) for result in
           Assessments(pooled).finalise_many(SCENE, batch=4, workers=2)]
    assert list(temp.iterdir()) == []
    assert got == expected
    assert {outcome[0]: outcome[3] for outcome in got if outcome[3]} == {
        "unready": "NotReady", "tampered": "TamperedData", "bounds": "BadDocument"}
    assert state_of(pooled) == state_of(single)
    assert workers_of(os.getpid()) == []  # the pool is gone with the run


def test_a_worker_killed_mid_run_undoes_its_batch_and_a_second_run_finishes(
    tmp_path: Path,
) -> None:
    vault, _ = Profiles(tmp_path, kdf=FAST_KDF).create("alex", PASSWORD)
    ids = records(vault, 24)
    run = Assessments(vault).finalise_many(ids, batch=3, workers=2)
    first = [next(run) for _ in range(3)]  # the first batch is committed
    assert all(newly for _, _, newly, _ in first)
    assert kill_workers(os.getpid()) >= 1
    with pytest.raises(WorkerStopped) as stopped:
        list(run)
    assert workers_of(os.getpid()) == []  # the others stopped too, none left running
    told = str(stopped.value)
    assert "\n" not in told
    assert told.count(". ") == 0
    assert told.endswith("run the command again to finish.")
    done = each_finalised_whole_or_not_at_all(vault, ids)
    assert {record_id for record_id, *_ in first} <= done < set(ids)
    again = list(Assessments(vault).finalise_many(ids, batch=3, workers=2))
    assert {record_id for record_id, _, newly, _ in again if newly} == set(ids) - done
    assert each_finalised_whole_or_not_at_all(vault, ids) == set(ids)


def test_a_full_disk_mid_run_rolls_back_only_that_batch(disk: SmallDisk) -> None:
    """The disk fills while the workers judge: the batch being written is rolled back (one
    sentence), the batches before it stay, and once space is freed a second run finishes."""
    vault, _ = Profiles(disk.mount / "data", kdf=FAST_KDF).create("alex", PASSWORD)
    ids = records(vault, 12)
    run = Assessments(vault).finalise_many(ids, batch=3, workers=2)
    first = [next(run) for _ in range(3)]
    disk.fill()
    with pytest.raises(DiskFull):
        list(run)
    disk.release()
    done = each_finalised_whole_or_not_at_all(vault, ids)
    assert done == {record_id for record_id, *_ in first}
    list(Assessments(vault).finalise_many(ids, batch=3, workers=2))
    assert each_finalised_whole_or_not_at_all(vault, ids) == set(ids)
    vault.close()


@pytest.fixture
def many(tmp_path: Path) -> tuple[Path, list[str]]:
    """A data folder with enough complete records for the command to start its pool."""
    data_dir = tmp_path / "data"
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    vault.conn.execute("PRAGMA synchronous = OFF")  # setup only
    ids = records(vault, POOL_MIN + 20)
    vault.close()
    return data_dir, ids


def test_the_command_says_in_one_sentence_that_a_worker_died(
    many: tuple[Path, list[str]], tmp_path: Path,
) -> None:
    """`onesend assessments finalise --all-complete`, a real process, its workers killed as
    they start: one sentence on stderr (no traceback, no answer), nothing half-finalised,
    and the same command run again finalises every record."""
    data_dir, ids = many
    env = {key: value for key, value in os.environ.items() if not key.startswith("ONESEND_")}
    env.update({"ONESEND_DATA_DIR": str(data_dir), "HOME": str(tmp_path / "home")})
    command = [onesend_script(), "assessments", "finalise", "--all-complete",
               "--password-stdin"]
    killed = threading.Event()
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as process:

        def killer() -> None:
            while process.poll() is None and not killed.is_set():
                if kill_workers(process.pid):
                    killed.set()
                time.sleep(0.005)

        watcher = threading.Thread(target=killer)
        watcher.start()
        try:
            out, err = process.communicate(PASSWORD + "\n", timeout=60)
        finally:
            killed.set()
            watcher.join()
    assert process.returncode == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("onesend: A worker process"), err
    assert "Traceback" not in err
    assert "Child" not in err
    with Profiles(data_dir, kdf=FAST_KDF).unlock("alex", PASSWORD) as vault:
        each_finalised_whole_or_not_at_all(vault, ids)
    again = subprocess.run([*command, "--json"], input=PASSWORD + "\n", capture_output=True,
                           text=True, env=env, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["skipped"] == []
    with Profiles(data_dir, kdf=FAST_KDF).unlock("alex", PASSWORD) as vault:
        assert each_finalised_whole_or_not_at_all(vault, ids) == set(ids)
    assert sys.platform.startswith("linux")  # /proc, as the rest of this module
