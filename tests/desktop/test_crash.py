"""Crash safety: a writer killed with SIGKILL at random moments never costs a committed revision."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.profiles import Profiles

PASSWORD = "correct horse battery staple"
KILLS = 20

WRITER = r"""
import hashlib, json, sys
from pathlib import Path
from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles

data_dir, password, record_id, round_no = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with Profiles(data_dir, kdf=FAST_KDF).unlock("alex", password) as vault:
    store = Assessments(vault)
    sys.stdout.write("ready\n"); sys.stdout.flush()
    n = 0
    while True:
        answers = {"about_me": {"round": round_no, "n": n, "text": f"{round_no}-{n} " * 5000}}
        doc = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": answers}
        revision = store.save(record_id, doc)
        digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
        sys.stdout.write(f"committed {revision} {digest}\n"); sys.stdout.flush()
        n += 1
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_committed_revision(
    profiles: Profiles, tmp_path: Path
) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).create(
            {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}}
        )
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(20261128)
    reported: dict[int, str] = {}
    for round_no in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(profiles.data_dir), PASSWORD, record_id,
             str(round_no)],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))  # a random moment: the point is to land mid-write
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        for line in writer.stdout.read().splitlines():
            _, revision, digest = line.split()
            reported[int(revision)] = digest
        writer.stdout.close()

        with profiles.unlock("alex", PASSWORD) as vault:
            assert vault.read("PRAGMA integrity_check") == [("ok",)]
            store = Assessments(vault)
            for revision, digest in reported.items():
                answers = store.get(record_id, revision)["answers"]
                actual = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
                assert actual == digest, f"revision {revision} differs after kill {round_no}"
            assert store.history(record_id)[-1].revision >= max(reported, default=1)
    assert len(reported) > KILLS  # the writer really was committing when it was killed
