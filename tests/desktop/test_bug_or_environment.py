"""The environment's fault (disk, network, a tampered file) is one sentence; our own bug is a
crash: an unrecognised SQLite error is never reported as a damaged vault."""

from __future__ import annotations

import argparse
import io
import sqlite3
import sys
from pathlib import Path

import pytest

import app.assessment_cmds
import app.cli
import app.common
from desktop.errors import (
    CorruptVault,
    DiskFull,
    EnvironmentFault,
    OneSendError,
    TamperedData,
    UntrustedServer,
)
from desktop.profiles import Profiles
from desktop.vault import Vault, is_our_bug
from forms.errors import FormError, UserError

PASSWORD = "correct horse battery staple"


def test_form_errors_and_onesend_errors_share_one_root() -> None:
    assert issubclass(FormError, UserError)
    assert issubclass(OneSendError, UserError)
    for fault in (CorruptVault, DiskFull, TamperedData, UntrustedServer):
        assert issubclass(fault, EnvironmentFault)


def test_a_statement_of_ours_that_cannot_run_is_a_bug_not_a_damaged_vault(vault: Vault) -> None:
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        vault.read("SELEKT 1")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        vault.read("SELECT * FROM assessmnets")  # a typo in our own SQL
    with pytest.raises(sqlite3.ProgrammingError):
        vault.read("SELECT ?", (1, 2))  # the wrong number of parameters


def test_a_vault_table_gone_from_the_file_is_the_files_fault(vault: Vault) -> None:
    raw = sqlite3.connect(vault.path)
    raw.execute("DROP TABLE sync_heads")  # altered outside OneSEND
    raw.commit()
    raw.close()
    with pytest.raises(CorruptVault):
        vault.read("SELECT * FROM sync_heads")
    assert not is_our_bug(sqlite3.OperationalError("no such table: sync_heads"))
    assert is_our_bug(sqlite3.OperationalError("no such table: sync_head"))


def test_the_command_says_a_bug_is_a_bug_in_one_line_and_saves_a_report(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    Profiles(data_dir).create("alex", PASSWORD)[0].close()

    def buggy_list(args: argparse.Namespace) -> int:  # a mistake in our own SQL
        with app.common.open_vault(args) as vault:
            vault.read("SELECT id FROM assessments WHERE")
        return 0

    monkeypatch.setattr(app.assessment_cmds, "cmd_list", buggy_list)
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = app.cli.main(["--data-dir", str(data_dir), "assessments", "list",
                         "--password-stdin"])
    err = capsys.readouterr().err
    assert code == app.cli.EXIT_BUG
    assert "a bug, not something you did" in err
    assert "Traceback" not in err
    assert "damaged" not in err
    reports = list((data_dir / "crash-reports").glob("crash-*.txt"))
    assert len(reports) == 1
    text = reports[0].read_text("utf-8")
    assert "sqlite3.OperationalError" in text
    assert "WHERE" not in text
