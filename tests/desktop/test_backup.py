"""Backups a SENCO can use: `onesend backup` → another laptop's data folder → `onesend
restore`, with the password or the recovery key; damaged or altered backups are refused in
one sentence and change nothing; `onesend check` finds a damaged page."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from app import cli
from desktop.assessments import Assessments
from desktop.backup import MANIFEST, backup_is_due, last_backup_at
from desktop.crypto import FAST_KDF
from desktop.owner import OwnerLock
from desktop.profiles import Profiles

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new long password"
FIRST_NAME = "Zebedee-Backup"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path,
        *args: str, stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _document(n: int) -> dict[str, object]:
    return {"form": "national-send-assessment", "form_version": "1.0.0",
            "answers": {"child": {"first_name": FIRST_NAME, "last_name": f"Child {n}"},
                        "about_me": {"what_matters": f"revision text {n} " * 50}}}


@pytest.fixture
def laptop(profiles: Profiles) -> dict[tuple[str, int], dict[str, object]]:
    """A profile with three assessments of several revisions; every revision's document."""
    vault, _key = profiles.create("alex", PASSWORD)
    documents: dict[tuple[str, int], dict[str, object]] = {}
    with vault:
        store = Assessments(vault)
        for n in range(3):
            record_id, _ = store.create(_document(n))
            for m in range(n + 1):
                store.save(record_id, _document(10 * n + m))
            for entry in store.history(record_id):
                documents[record_id, entry.revision] = store.get(record_id, entry.revision)
    return documents


def _everything(profiles: Profiles, password: str) -> dict[tuple[str, int], dict[str, object]]:
    found: dict[tuple[str, int], dict[str, object]] = {}
    with profiles.unlock("alex", password) as vault:
        store = Assessments(vault)
        for summary in store.summaries():
            assert not summary.damaged
            for entry in store.history(summary.id):
                found[summary.id, entry.revision] = store.get(summary.id, entry.revision)
    return found


def _tree(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name != "owner.lock")


def test_backup_then_restore_on_another_laptop_with_the_password(
    laptop: dict[tuple[str, int], dict[str, object]], profiles: Profiles, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "usb" / "alex.onesend-backup"
    out.parent.mkdir()
    code, stdout, _ = run(monkeypatch, capsys, profiles.data_dir, "backup", "--out", str(out),
                          "--password-stdin")
    assert code == 0
    assert "(3 assessments, 9 revisions)" in stdout
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["alex.onesend-backup"]  # no temporary left
    raw = out.read_bytes()
    assert FIRST_NAME.encode() not in raw  # still encrypted
    assert b"revision text" not in raw
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == sorted([MANIFEST, "profile.json", "vault.db"])
    # The time of the last backup is recorded in the profile's vault (no child data).
    with profiles.unlock("alex", PASSWORD) as vault:
        assert last_backup_at(vault) is not None

    other = Profiles(tmp_path / "other-laptop", kdf=FAST_KDF)
    code, stdout, err = run(monkeypatch, capsys, other.data_dir, "restore", str(out),
                            "--password-stdin")
    assert code == 0, err
    assert stdout.startswith("Restored the profile 'alex' from the backup made ")
    assert other.names() == ["alex"]
    assert _everything(other, PASSWORD) == laptop
    assert (other.folder("alex") / "vault.db").stat().st_mode & 0o777 == 0o600


def test_restore_with_the_recovery_key_sets_a_new_password(
    laptop: dict[tuple[str, int], dict[str, object]], profiles: Profiles, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.rmtree(profiles.root)
    vault, recovery_key = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).create(_document(1))
        Assessments(vault).save(record_id, _document(2))
    expected = _everything(profiles, PASSWORD)
    out = tmp_path / "alex.onesend-backup"
    assert run(monkeypatch, capsys, profiles.data_dir, "backup", "--out", str(out),
               "--password-stdin")[0] == 0

    other = Profiles(tmp_path / "other-laptop", kdf=FAST_KDF)
    code, _, err = run(monkeypatch, capsys, other.data_dir, "restore", str(out),
                       "--recovery-key", "--password-stdin",
                       stdin=f"{recovery_key}\n{NEW_PASSWORD}\n")
    assert code == 0, err
    assert _everything(other, NEW_PASSWORD) == expected
    del laptop


def test_restore_never_overwrites_a_profile_silently(
    laptop: dict[tuple[str, int], dict[str, object]], profiles: Profiles, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "alex.onesend-backup"
    assert run(monkeypatch, capsys, profiles.data_dir, "backup", "--out", str(out),
               "--password-stdin")[0] == 0
    with profiles.unlock("alex", PASSWORD) as vault:  # a change after the backup
        newer, _ = Assessments(vault).create(_document(99))
    before = _tree(profiles.data_dir)
    code, _, err = run(monkeypatch, capsys, profiles.data_dir, "restore", str(out),
                       "--password-stdin")
    assert code == 2
    assert err == ("onesend: A profile called 'alex' already exists here: nothing was "
                   "restored; to replace it with this backup add --replace (the current one is "
                   "kept aside, not deleted).\n")
    assert _tree(profiles.data_dir) == before

    # While a window holds the profile, not even --replace takes it from under it.
    with OwnerLock.acquire(profiles.folder("alex"), "alex"):
        code, _, err = run(monkeypatch, capsys, profiles.data_dir, "restore", str(out),
                           "--replace", "--password-stdin")
        assert code == 2
        assert "already open in another OneSEND window" in err
    assert _tree(profiles.data_dir) == before

    code, stdout, err = run(monkeypatch, capsys, profiles.data_dir, "restore", str(out),
                            "--replace", "--password-stdin")
    assert code == 0, err
    assert _everything(profiles, PASSWORD) == laptop
    kept = [p for p in (profiles.data_dir / "replaced").iterdir()]
    assert len(kept) == 1
    assert str(kept[0]) in stdout
    # The replaced profile is whole, with the change made after the backup.
    aside = Profiles(kept[0].parent.parent / "aside", kdf=FAST_KDF)
    aside.root.mkdir(parents=True)
    shutil.copytree(kept[0], aside.folder("alex"))
    with aside.unlock("alex", PASSWORD) as vault:
        assert Assessments(vault).get(newer)["revision"] == 1


def _rezip(source: Path, dest: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(dest, "w") as new:
        for name in old.namelist():
            new.writestr(name, change.get(name, old.read(name)))


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "altered record",
                                    "not a backup", "wrong profile file"])
def test_a_damaged_or_altered_backup_is_refused_and_changes_nothing(
    damage: str, laptop: dict[tuple[str, int], dict[str, object]], profiles: Profiles,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    good = tmp_path / "good.onesend-backup"
    assert run(monkeypatch, capsys, profiles.data_dir, "backup", "--out", str(good),
               "--password-stdin")[0] == 0
    bad = tmp_path / "bad.onesend-backup"
    raw = good.read_bytes()
    if damage == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped byte":
        middle = len(raw) // 2
        bad.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0x40]) + raw[middle + 1:])
    elif damage == "not a backup":
        bad.write_text("hello")
    else:
        with zipfile.ZipFile(good) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            vault_db = bytearray(archive.read("vault.db"))
            profile_json = archive.read("profile.json")
        if damage == "altered record":
            # A byte inside a sealed blob, with the manifest's hash made to match: only
            # decrypting every record finds it.
            import hashlib  # noqa: PLC0415
            import sqlite3  # noqa: PLC0415

            copy = tmp_path / "copy.db"
            copy.write_bytes(vault_db)
            with sqlite3.connect(copy) as conn:
                (blob,) = conn.execute("SELECT body FROM revisions LIMIT 1").fetchone()
            at = bytes(vault_db).index(blob[:40]) + 30
            vault_db[at] ^= 0x01

            manifest["files"]["vault.db"]["sha256"] = hashlib.sha256(vault_db).hexdigest()
            _rezip(good, bad, {"vault.db": bytes(vault_db),
                               MANIFEST: json.dumps(manifest).encode()})
        else:
            _rezip(good, bad, {"profile.json": profile_json.replace(b'"alex"', b'"sam"')})
    other = tmp_path / "other-laptop"
    code, _, err = run(monkeypatch, capsys, other, "restore", str(bad), "--password-stdin")
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"onesend: The file {bad} is ")
    assert lines[0].endswith("nothing was restored or changed.")
    assert [p for p in _tree(other) if not p.startswith("profiles")] == []
    assert not (other / "profiles").exists() or list((other / "profiles").iterdir()) == []


def test_check_finds_an_overwritten_page_and_a_whole_vault_passes(
    laptop: dict[tuple[str, int], dict[str, object]], profiles: Profiles,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    code, stdout, _ = run(monkeypatch, capsys, profiles.data_dir, "check", "--password-stdin")
    assert code == 0
    assert stdout == ("The vault is whole: SQLite's quick_check found no damage, and all 3 "
                      "assessments and 9 revisions decrypt.\n")
    path = profiles.folder("alex") / "vault.db"
    with profiles.unlock("alex", PASSWORD) as vault:
        (page,) = vault.read("SELECT rootpage FROM sqlite_master WHERE name = 'revisions'")[0]
        page_size = vault.read("PRAGMA page_size")[0][0]
    with path.open("r+b") as handle:
        handle.seek((page - 1) * page_size + 8)
        handle.write(os.urandom(200))
    code, stdout, err = run(monkeypatch, capsys, profiles.data_dir, "check", "--json",
                            "--password-stdin")
    assert code == 1, err
    assert json.loads(stdout)["quick_check"] == "damaged"
    code, stdout, _ = run(monkeypatch, capsys, profiles.data_dir, "check", "--password-stdin")
    assert code == 1
    assert "damaged (SQLite's quick_check failed): restore your last backup" in stdout
    assert "'onesend restore FILE --replace'" in stdout
    del laptop


def test_a_reminder_is_due_a_week_after_the_last_backup() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert backup_is_due(None, "2026-11-22T12:00:00.000Z", now)
    assert not backup_is_due(None, "2026-11-29T12:00:00.000Z", now)
    assert not backup_is_due("2026-11-25T12:00:00.000Z", "2026-01-01T00:00:00.000Z", now)
    assert backup_is_due("2026-11-20T12:00:00.000Z", "2026-01-01T00:00:00.000Z", now)


@pytest.mark.slow
def test_a_backup_taken_while_the_window_saves_is_consistent(
    profiles: Profiles, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.desktop.test_owner import (  # noqa: PLC0415
        _new_record,
        kill_and_collect,
        start_window_like,
    )

    record_id = _new_record(profiles)
    window = start_window_like(profiles, record_id, tmp_path)
    out = tmp_path / "online.onesend-backup"
    window.wait(saves=5)
    try:
        code, stdout, err = run(monkeypatch, capsys, profiles.data_dir, "backup", "--out",
                                str(out), "--password-stdin")
    finally:
        saved, failed = kill_and_collect(window)
    assert code == 0, err
    assert saved
    assert not failed
    other = Profiles(tmp_path / "other-laptop", kdf=FAST_KDF)
    assert run(monkeypatch, capsys, other.data_dir, "restore", str(out),
               "--password-stdin")[0] == 0
    with other.unlock("alex", PASSWORD) as vault:
        assert vault.read("PRAGMA integrity_check") == [("ok",)]
        store = Assessments(vault)
        revisions = [entry.revision for entry in store.history(record_id)]
        assert revisions == list(range(1, len(revisions) + 1))  # a prefix, nothing torn
        for revision in revisions:
            store.get(record_id, revision)
    assert "revisions) to" in stdout
