"""Change the password and re-key; rotate the recovery key (real vault files; the commands
in-process, tests/cli_runner.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import ProfileError, TamperedData, WrongPassword, WrongRecoveryKey
from desktop.outbox import Outbox
from desktop.profile_record import ProfileRecord
from desktop.profiles import Profiles
from desktop.secrets import Secrets
from tests.cli_runner import Result, run_onesend

OLD = "correct horse battery staple"
NEW = "a brand new passphrase here"
UPN = "H801200001001"


def complete(first_name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("id", None)
    doc["answers"]["child"]["first_name"] = first_name
    doc["answers"]["child"]["upn"] = UPN
    return doc


def snapshot(profiles: Profiles, password: str) -> dict[str, Any]:
    """Everything readable in the vault: every revision of every record, the outbox, secrets."""
    with profiles.unlock("alex", password) as vault:
        store = Assessments(vault)
        records = {}
        for summary in store.summaries():
            assert not summary.damaged
            history = store.history(summary.id)
            assert not any(entry.damaged for entry in history)
            records[summary.id] = [store.get(summary.id, entry.revision) for entry in history]
        outbox = Outbox(vault)
        items = outbox.items()
        assert not any(item.damaged for item in items)
        payloads = [outbox.payload(item) for item in items]
        assert vault.check_metadata() == []
        return {"records": records, "payloads": payloads,
                "secret": Secrets(vault).get("token"), "upn": store.find_by_upn(UPN)}


@pytest.fixture
def filled(profiles: Profiles) -> tuple[Profiles, str]:
    vault, recovery = profiles.create("alex", OLD)
    with vault:
        store = Assessments(vault)
        first, _ = store.create(complete("First"))
        store.save(first, complete("First, edited"))
        store.finalise(first)
        store.create(complete("Second"))
        with vault.write() as conn:
            Secrets(vault).put(conn, "token", b"device-token-123")
    return profiles, recovery


def test_rekey_reads_everything_back_and_old_copies_open_nothing(
    filled: tuple[Profiles, str],
) -> None:
    profiles, old_recovery = filled
    folder = profiles.folder("alex")
    before = snapshot(profiles, OLD)
    old_profile = (folder / "profile.json").read_bytes()
    db = folder / "vault.db"
    sealed_before = _blobs(db)

    new_recovery = profiles.rekey("alex", OLD, NEW)
    assert new_recovery != old_recovery
    assert snapshot(profiles, NEW) == before
    # Every sealed blob and every MAC changed.
    after = _blobs(db)
    assert not set(sealed_before) & set(after)
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", OLD)
    with pytest.raises(WrongRecoveryKey):
        profiles.recover("alex", old_recovery, "yet another passphrase")

    # An old copy of profile.json, with the old password, no longer opens the vault.
    current = (folder / "profile.json").read_bytes()
    (folder / "profile.json").write_bytes(old_profile)
    with pytest.raises(ProfileError, match="older copy, from before the vault was re-keyed"):
        profiles.unlock("alex", OLD)
    (folder / "profile.json").write_bytes(current)
    # The new recovery key works.
    profiles.recover("alex", new_recovery, "recovered passphrase ok")
    assert snapshot(profiles, "recovered passphrase ok") == before


def _blobs(db: Path) -> list[bytes]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT body FROM revisions UNION ALL SELECT mac FROM revisions UNION ALL "
            "SELECT summary FROM assessments UNION ALL SELECT upn_index FROM assessments "
            "WHERE upn_index IS NOT NULL UNION ALL SELECT mac FROM assessments UNION ALL "
            "SELECT sign_off FROM outbox UNION ALL SELECT value FROM secrets UNION ALL "
            "SELECT mac FROM audit").fetchall()
    finally:
        conn.close()
    return [bytes(row[0]) for row in rows]


def test_a_rekey_interrupted_after_its_commit_finishes_at_the_next_unlock(
    filled: tuple[Profiles, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    profiles, _ = filled
    before = snapshot(profiles, OLD)

    def power_cut(*_args: object) -> None:
        raise KeyboardInterrupt  # the process stops before the profile file is replaced

    monkeypatch.setattr(ProfileRecord, "write", power_cut)
    with pytest.raises(KeyboardInterrupt):
        profiles.rekey("alex", OLD, NEW)
    monkeypatch.undo()
    assert (profiles.folder("alex") / "profile.json.rekey").exists()
    assert snapshot(profiles, OLD) == before  # finished with the password that was current
    assert not (profiles.folder("alex") / "profile.json.rekey").exists()
    assert snapshot(profiles, NEW) == before
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", OLD)


def test_a_tampered_vault_is_not_rekeyed_and_nothing_changes(
    filled: tuple[Profiles, str],
) -> None:
    profiles, _ = filled
    folder = profiles.folder("alex")
    conn = sqlite3.connect(folder / "vault.db", isolation_level=None)
    conn.execute("UPDATE assessments SET status = 'synced' WHERE status = 'draft'")
    conn.close()
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".json", ".db")}
    with pytest.raises(TamperedData, match=r"^The vault was not re-keyed: Assessment "):
        profiles.rekey("alex", OLD, NEW)
    assert {p.name: p.read_bytes() for p in folder.iterdir()
            if p.suffix in (".json", ".db")} == files
    profiles.unlock("alex", OLD).close()


def test_rotating_the_recovery_key_retires_the_old_one(filled: tuple[Profiles, str]) -> None:
    profiles, old_recovery = filled
    before = snapshot(profiles, OLD)
    new_recovery = profiles.rotate_recovery_key("alex", OLD)
    assert new_recovery != old_recovery
    with pytest.raises(WrongRecoveryKey):
        profiles.recover("alex", old_recovery, "yet another passphrase")
    profiles.recover("alex", new_recovery, "yet another passphrase")
    assert snapshot(profiles, "yet another passphrase") == before
    with profiles.unlock("alex", "yet another passphrase") as vault:
        actions = [entry["action"] for entry in vault.audit_log()]
    assert "profile.new-recovery-key" in actions


def test_the_commands_rekey_and_rotate(tmp_path: Path) -> None:
    env = {"ONESEND_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path / "home")}

    def run(*args: str, stdin: str) -> Result:
        return run_onesend(args, stdin=stdin, env=env)

    # The floor key-derivation cost to start with (read back from profile.json).
    vault, first_key = Profiles(tmp_path / "data", kdf=FAST_KDF).create("alex", OLD)
    vault.close()
    saved = tmp_path / "profile-copy.json"
    shutil.copy(tmp_path / "data" / "profiles" / "alex" / "profile.json", saved)
    result = run("profile", "rekey", "--password-stdin", stdin=f"{OLD}\n{NEW}\n")
    assert result.returncode == 0, result.stderr
    assert "re-encrypted its vault under a new key" in result.stdout
    second_key = result.stdout.splitlines()[-1]
    assert len(second_key) == 39
    assert second_key != first_key
    result = run("assessments", "list", "--password-stdin", stdin=NEW + "\n")
    assert result.returncode == 0, result.stderr
    shutil.copy(saved, tmp_path / "data" / "profiles" / "alex" / "profile.json.old")
    result = run("profile", "new-recovery-key", "--password-stdin", stdin=NEW + "\n")
    assert result.returncode == 0, result.stderr
    third_key = result.stdout.splitlines()[-1]
    assert third_key not in (first_key, second_key)
    result = run("profile", "recover", "--password-stdin",
                 stdin=f"{second_key}\nanother long passphrase\n")
    assert result.returncode == 2
    assert result.stderr.startswith("onesend: That recovery key does not belong")
    result = run("profile", "recover", "--password-stdin",
                 stdin=f"{third_key}\nanother long passphrase\n")
    assert result.returncode == 0, result.stderr
