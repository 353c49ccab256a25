"""The in-process runner of the `onesend` command (tests/cli_runner.py) gives back what the
process would have: argparse's own exits as exit codes, and the test's environment and streams
as they were."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_onesend


def test_argparse_exits_are_exit_codes() -> None:
    version = run_onesend(["--version"])
    assert version.returncode == 0
    assert re.fullmatch(r"onesend \d+\.\d+\.\d+\n", version.stdout)
    unknown = run_onesend(["no-such-command"])
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert "invalid choice: 'no-such-command'" in unknown.stderr


def test_environment_and_streams_are_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONESEND_SOMETHING_ELSE", "kept")
    streams = sys.stdin, sys.stdout, sys.stderr
    folder = tmp_path / "data"
    result = run_onesend(["profile", "list", "--json"], env={"ONESEND_DATA_DIR": str(folder)})
    assert (result.returncode, result.stdout) == (0, "[]\n")
    assert os.environ["ONESEND_SOMETHING_ELSE"] == "kept"
    assert os.environ.get("ONESEND_DATA_DIR") != str(folder)
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
