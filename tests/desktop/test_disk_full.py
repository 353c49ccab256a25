"""A full disk, for real: a small tmpfs mounted for the test (skipped where mounting is not
allowed). Every failure is one sentence, nothing is left half-made, and the profile stays
usable once space is freed."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import DiskFull, WrongPassword
from desktop.profiles import Profiles
from tests.cli_runner import Result, run_onesend

PASSWORD = "correct horse battery staple"
DISK_BYTES = 1024 * 1024


class SmallDisk:
    """A tmpfs of DISK_BYTES and a filler file that takes all but `free` bytes of it."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self, free: int = 0) -> None:
        self.release()
        block = b"\0" * 4096
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with pytest.raises(OSError) as full:  # noqa: PT012 - write until the disk is full
                while os.write(fd, block):
                    pass
        finally:
            os.close(fd)
        assert full.value.errno == errno.ENOSPC
        if free:
            size = self.filler.stat().st_size
            os.truncate(self.filler, max(0, size - free))

    def release(self) -> None:
        self.filler.unlink(missing_ok=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700",
                           "tmpfs", str(mount)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (or CAP_SYS_ADMIN) here")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def onesend(data_dir: Path, *args: str, stdin: str) -> Result:
    """The command in-process (tests/cli_runner.py)."""
    return run_onesend(["--data-dir", str(data_dir), *args], stdin=stdin)


def _one_sentence(result: Result) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("onesend: ")
    assert "(OperationalError)" not in lines[0]
    return lines[0]


def test_wrong_and_right_passwords_on_a_full_disk_say_one_sentence(disk: SmallDisk) -> None:
    data_dir = disk.mount / "data"
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    vault.close()
    disk.fill()
    wrong = onesend(data_dir, "assessments", "list", "--password-stdin", stdin="not it\n")
    assert _one_sentence(wrong).startswith(
        "onesend: That password does not unlock the profile 'alex' (and the disk")
    right = onesend(data_dir, "assessments", "list", "--password-stdin", stdin=PASSWORD + "\n")
    # Opening grows vault.db-shm first: SQLITE_IOERR_SHMSIZE, said as what it is.
    sentence = _one_sentence(right)
    assert "could not create or grow the vault's shared-memory file" in sentence
    assert "disk is full" in sentence
    disk.release()
    assert onesend(data_dir, "assessments", "list", "--password-stdin",
                   stdin=PASSWORD + "\n").returncode == 0


def test_creating_a_profile_on_a_full_disk_is_all_or_nothing(disk: SmallDisk) -> None:
    data_dir = disk.mount / "data"
    profiles = Profiles(data_dir, kdf=FAST_KDF)
    failures = 0
    for free in range(0, 400 * 1024, 8 * 1024):
        disk.fill(free)
        try:
            vault, _ = profiles.create("alex", PASSWORD)
        except DiskFull as exc:
            failures += 1
            sentence = str(exc)
            assert sentence.startswith(f"The disk holding {data_dir} is full")
            # Nothing is half-made: the name is not listed, and nothing of it is left.
            assert profiles.names() == []
            root = data_dir / "profiles"
            assert not root.exists() or list(root.iterdir()) == []
            disk.release()
            # A retry with the same name works (and is listed) once there is room.
            vault, _ = profiles.create("alex", PASSWORD)
            vault.close()
            assert profiles.names() == ["alex"]
            shutil.rmtree(profiles.folder("alex"))
            continue
        vault.close()
        assert profiles.names() == ["alex"]
        break
    else:
        pytest.fail("the profile never fitted on the disk")
    assert failures > 3  # the disk really was too full for several tries
    disk.release()
    with profiles.unlock("alex", PASSWORD) as vault:
        assert vault.read("PRAGMA integrity_check") == [("ok",)]


def test_a_save_on_a_full_disk_says_so_and_the_vault_stays_usable(disk: SmallDisk) -> None:
    data_dir = disk.mount / "data"
    profiles = Profiles(data_dir, kdf=FAST_KDF)
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        document = {"form": "national-send-assessment", "form_version": "1.0.0",
                    "answers": {"about_me": {"text": "first " * 100}}}
        record_id, _ = store.create(document)
        disk.fill()
        # 400,000 characters, each answer within its 40,000-character bound (forms/bounds.py).
        big = {**document, "answers": {"about_me": {
            f"text{i}": os.urandom(20_000).hex() for i in range(10)}}}
        refusals = 0
        for _ in range(3):
            with pytest.raises(DiskFull) as refused:
                store.save(record_id, big)
            refusals += 1
            assert "is full" in str(refused.value)
            assert "(OperationalError)" not in str(refused.value)
        disk.release()
        revision = store.save(record_id, big)
        assert store.get(record_id, revision)["answers"] == big["answers"]
        assert store.get(record_id, 1)["answers"] == document["answers"]
        assert vault.read("PRAGMA integrity_check") == [("ok",)]
    assert refusals == 3
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", "not the password")


def test_a_migration_that_fills_the_disk_says_so_and_changes_nothing(disk: SmallDisk) -> None:
    """SQLite rolls a transaction back itself on a full disk; our ROLLBACK must not then
    replace "disk full" with an error of its own."""
    from desktop.crypto import RecordCipher  # noqa: PLC0415
    from desktop.vault import Vault  # noqa: PLC0415
    from desktop.vault_schema import MIGRATIONS  # noqa: PLC0415

    data_dir = disk.mount / "data"
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    path = vault.path
    vault.close()

    def big_step(conn: object) -> None:
        assert hasattr(conn, "execute")
        conn.execute("CREATE TABLE padding (x BLOB)")
        for _ in range(64):
            conn.execute("INSERT INTO padding VALUES (randomblob(65536))")

    disk.fill(free=256 * 1024)
    with pytest.raises(DiskFull) as refused:
        Vault(path, RecordCipher(os.urandom(32)), "alex", migrations=(*MIGRATIONS, big_step))
    assert "is full" in str(refused.value)
    disk.release()
    with Profiles(data_dir, kdf=FAST_KDF).unlock("alex", PASSWORD) as reopened:
        assert reopened.read("PRAGMA user_version") == [(len(MIGRATIONS),)]
        assert reopened.read("PRAGMA integrity_check") == [("ok",)]
