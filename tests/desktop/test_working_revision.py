"""Storage follows editing sessions, not keystrokes.

An editing session's first autosave appends a revision; its later autosaves replace that
working revision in place (re-MAC'd on the same chain link, one durable transaction each).
Every other revision stays append-only, a kill keeps the last completed save, and a damaged
working revision is refused, never overwritten, while the revisions before it still read.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.errors import TamperedData
from desktop.profiles import Profiles
from desktop.vault import Vault
from tests.desktop.test_crash import WRITER

PASSWORD = "correct horse battery staple"


def doc(text: str, size: int = 0) -> dict[str, Any]:
    return {"form": "national-send-assessment", "form_version": "1.0.0",
            "answers": {"about_me": {"what_matters": text, "interests": "x" * size}}}


@pytest.fixture
def vault(profiles: Profiles) -> Vault:
    opened, _ = profiles.create("alex", PASSWORD)
    return opened


def test_autosaves_of_one_session_make_one_revision_and_history_per_session(
    vault: Vault,
) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(doc("start"))
    for n in range(25):
        assert store.save(record_id, doc(f"first session {n}"), session="s1") == 2
    assert store.get(record_id)["answers"]["about_me"]["what_matters"] == "first session 24"
    # A new editing session starts a new revision; the first session's last save is kept.
    for n in range(5):
        assert store.save(record_id, doc(f"second session {n}"), session="s2") == 3
    assert store.get(record_id, 2)["answers"]["about_me"]["what_matters"] == "first session 24"
    # Restore (not an autosave) appends; the session then starts a revision of its own.
    assert store.restore(record_id, 2) == 4
    assert store.save(record_id, doc("after restore"), session="s2") == 5
    assert store.save(record_id, doc("after restore 2"), session="s2") == 5
    actions = [(entry.revision, entry.action) for entry in store.history(record_id)]
    assert sorted(actions) == [(1, "create"), (2, "edit"), (3, "edit"), (4, "restore-from-2"),
                               (5, "edit")]
    assert not any(entry.damaged for entry in store.history(record_id))
    head = store.verified_head(vault.conn, record_id)
    store.verified_chain(head)
    assert vault.check_metadata() == []
    vault.close()


def test_only_a_sessions_newest_edit_revision_can_be_rewritten(vault: Vault) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(doc("start"))
    store.save(record_id, doc("edit"), session="s1")
    store.save(record_id, doc("import"), action="import")
    for revision in (1, 2, 3):  # create, an earlier edit, the newest (an import)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            vault.conn.execute("UPDATE revisions SET status = 'draft' WHERE assessment_id = ? "
                               "AND revision = ?", (record_id, revision))
    # s1's revision is no longer the newest: its next autosave appends, never rewrites.
    assert store.save(record_id, doc("again"), session="s1") == 4
    assert store.get(record_id, 2)["answers"]["about_me"]["what_matters"] == "edit"
    vault.close()


def test_a_damaged_working_revision_is_refused_and_the_last_revision_still_reads(
    vault: Vault,
) -> None:
    store = Assessments(vault)
    record_id, _ = store.create(doc("start"))
    store.save(record_id, doc("kept"), session="s1")
    store.save(record_id, doc("working"), session="s2")
    store.save(record_id, doc("working 2"), session="s2")
    raw = sqlite3.connect(vault.path, isolation_level=None)
    raw.execute("UPDATE revisions SET author = 'mallory' WHERE assessment_id = ? AND "
                "revision = 3", (record_id,))
    raw.close()
    with pytest.raises(TamperedData):
        store.save(record_id, doc("working 3"), session="s2")
    assert store.get(record_id, 2)["answers"]["about_me"]["what_matters"] == "kept"
    vault.close()


def test_two_thousand_autosaves_of_a_30_kb_record_grow_the_vault_by_under_three_records(
    profiles: Profiles,
) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    store = Assessments(vault)
    record_id, _ = store.create(doc("start", 30_000))
    path = vault.path
    vault.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    for n in range(2000):
        store.save(record_id, doc(f"autosave {n}", 30_000), session="one session")
    vault.close()  # the last connection's close checkpoints and removes the WAL
    assert not Path(f"{path}-wal").exists()
    assert path.stat().st_size - before < 3 * 30_000
    with profiles.unlock("alex", PASSWORD) as reopened:
        latest = Assessments(reopened).get(record_id)
        assert latest["revision"] == 2
        assert latest["answers"]["about_me"]["what_matters"] == "autosave 1999"


@pytest.mark.slow
def test_sigkill_mid_session_keeps_the_last_completed_autosave(
    profiles: Profiles, tmp_path: Path,
) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).create(doc("start"))
    script = tmp_path / "writer.py"
    script.write_text(WRITER.replace("store.save(record_id, doc)",
                                     "store.save(record_id, doc, session=round_no)"))
    rng = random.Random(20261130)
    # revision -> (digest of the last save reported committed, its round, saves reported)
    last: dict[int, tuple[str, int, int]] = {}
    for round_no in range(8):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(profiles.data_dir), PASSWORD, record_id,
             str(round_no)],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        lines = writer.stdout.read().splitlines()
        writer.stdout.close()
        assert len({line.split()[1] for line in lines}) <= 1  # one session, one revision
        for line in lines:
            _, revision, digest = line.split()
            last[int(revision)] = (digest, round_no, len(lines))
        with profiles.unlock("alex", PASSWORD) as reopened:
            assert reopened.read("PRAGMA integrity_check") == [("ok",)]
            store = Assessments(reopened)
            for revision, (digest, made_in, reported) in last.items():
                answers = store.get(record_id, revision)["answers"]
                actual = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()
                                        ).hexdigest()
                if actual != digest:
                    # Only possible answer: the save after the last one reported, committed
                    # just before the kill (so never said); nothing committed went missing.
                    assert answers["about_me"]["round"] == str(made_in), revision
                    assert answers["about_me"]["n"] == reported, revision
    assert len(last) >= 4
