"""Profiles under attack (issue 15): racing the delay, weak passwords, an altered profile.json."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.crypto import FAST_KDF
from desktop.errors import InvalidInput, TamperedData, TooManyAttempts, WrongPassword
from desktop.passwords import password_problem
from desktop.profiles import FREE_ATTEMPTS, PROFILE_FILE, THROTTLE_FILE, Profiles
from tests.cli_runner import Result, run_onesend

PASSWORD = "correct horse battery staple"
WEAK = ["aaaaaaaaaa", "1234567890", "password12", " " * 10, "alexalexalex"]


def _env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
    env.update(ONESEND_DATA_DIR=str(data_dir), HOME=str(tmp_path / "home"))
    return env


def _script() -> str:
    return str(Path(sys.executable).with_name("onesend"))


def _failures(profiles: Profiles) -> int:
    path = profiles.folder("alex") / THROTTLE_FILE
    if not path.exists():
        return 0
    return int(json.loads(path.read_bytes())["failures"])


@pytest.mark.slow  # eight real processes racing for the profile
def test_eight_concurrent_wrong_passwords_are_counted_and_tried_one_per_window(
    profiles: Profiles, data_dir: Path, tmp_path: Path,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    # Nine wrong passwords so far, the last long ago: the next attempt may be tried now, and
    # after it the delay is 128 seconds, far longer than eight processes take to start.
    seeded = FREE_ATTEMPTS + 6
    (profiles.folder("alex") / THROTTLE_FILE).write_text(
        json.dumps({"failures": seeded, "last_failure": 0.0}), encoding="utf-8")
    env = _env(data_dir, tmp_path)
    runs = [subprocess.Popen([_script(), "assessments", "list", "--password-stdin"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(8)]
    for run in runs:
        assert run.stdin is not None
        run.stdin.write("not the password at all\n")
        run.stdin.close()
    errors = []
    for run in runs:
        assert run.stderr is not None
        errors.append(run.stderr.read())
        assert run.wait(timeout=120) == 2
        assert run.stdout is not None
        run.stdout.close()
        run.stderr.close()
    tried = [e for e in errors if "does not unlock" in e]
    refused = [e for e in errors if "Too many wrong passwords" in e]
    assert len(tried) == 1, errors  # one guess per window, however many processes race
    assert len(refused) == 7, errors
    assert _failures(profiles) == seeded + 1  # every try counted, none lost


def test_the_attempt_is_counted_before_the_try_and_reset_by_success(data_dir: Path) -> None:
    clock = [1_000_000.0]
    profiles = Profiles(data_dir, kdf=FAST_KDF, clock=lambda: clock[0])
    profiles.create("alex", PASSWORD)[0].close()
    for expected in range(1, FREE_ATTEMPTS + 1):
        with pytest.raises(WrongPassword):
            profiles.unlock("alex", "not the password at all")
        assert _failures(profiles) == expected
    with pytest.raises(TooManyAttempts):
        profiles.unlock("alex", PASSWORD)
    assert _failures(profiles) == FREE_ATTEMPTS  # refused unread: not a guess
    clock[0] += 60
    profiles.unlock("alex", PASSWORD).close()
    assert _failures(profiles) == 0
    assert not (profiles.folder("alex") / THROTTLE_FILE).exists()


@pytest.mark.parametrize("weak", WEAK)
def test_weak_passwords_are_refused_with_the_three_words_advice(
    profiles: Profiles, weak: str,
) -> None:
    with pytest.raises(InvalidInput, match="three random words") as refused:
        profiles.create("alex", weak)
    assert "NCSC" in str(refused.value)
    assert profiles.names() == []
    assert password_problem(PASSWORD) == ""


def test_weak_passwords_are_refused_by_the_command_too(
    profiles: Profiles, data_dir: Path, tmp_path: Path,
) -> None:
    env = {"ONESEND_DATA_DIR": str(data_dir), "HOME": str(tmp_path / "home")}

    def run(*args: str, stdin: str) -> Result:
        return run_onesend(args, stdin=stdin, env=env)

    for weak in WEAK[:4]:
        result = run("profile", "create", "sam", "--password-stdin", stdin=weak + "\n")
        assert result.returncode == 2
        assert "three random words" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert profiles.names() == []
    vault, recovery_key = profiles.create("alex", PASSWORD)
    vault.close()
    before = (profiles.folder("alex") / PROFILE_FILE).read_bytes()
    result = run("profile", "change-password", "--password-stdin",
                 stdin=f"{PASSWORD}\npassword12\n")
    assert result.returncode == 2
    assert "three random words" in result.stderr
    result = run("profile", "recover", "--password-stdin", stdin=f"{recovery_key}\n1234567890\n")
    assert result.returncode == 2
    assert "three random words" in result.stderr
    assert (profiles.folder("alex") / PROFILE_FILE).read_bytes() == before


def _edit_profile(profiles: Profiles, field: str, value: object) -> None:
    path = profiles.folder("alex") / PROFILE_FILE
    data = json.loads(path.read_bytes())
    if field.startswith("kdf."):
        data["kdf"][field[4:]] = value
    else:
        data[field] = value
    path.write_text(json.dumps(data), encoding="utf-8")


def _flipped(profiles: Profiles, field: str) -> str:
    data = json.loads((profiles.folder("alex") / PROFILE_FILE).read_bytes())
    raw = bytearray(base64.b64decode(data[field]))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(("field", "value"), [
    ("wrapped_by_password", None),  # one bit flipped
    ("profile_id", "0123456789abcdef0123456789abcdef"),
    ("kdf.memory_kib", FAST_KDF.memory_kib + 1024),
    ("kdf.iterations", FAST_KDF.iterations + 1),
])
def test_an_altered_profile_is_said_so_and_not_counted_as_a_wrong_password(
    profiles: Profiles, field: str, value: object,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    _edit_profile(profiles, field, _flipped(profiles, field) if value is None else value)
    with pytest.raises(TamperedData, match="has been altered"):
        profiles.unlock("alex", PASSWORD)
    assert _failures(profiles) == 0
    # A wrong password on the altered file is still a wrong password (nothing tells them
    # apart without the right one), and counts.
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", "not the password at all")
    assert _failures(profiles) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("wrapped_by_password", base64.b64encode(b"\x00" * 59).decode()),  # shortened
    ("password_salt", base64.b64encode(b"\x00" * 17).decode()),
    ("profile_id", "not-a-profile-id"),
    ("password_check", base64.b64encode(b"\x00" * 3).decode()),
])
def test_a_malformed_profile_is_said_so_before_any_password_is_tried(
    profiles: Profiles, field: str, value: str,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    _edit_profile(profiles, field, value)
    for password in (PASSWORD, "not the password at all"):
        with pytest.raises(TamperedData, match="altered"):
            profiles.unlock("alex", password)
    assert _failures(profiles) == 0


def test_the_command_says_the_profile_was_altered(
    profiles: Profiles, data_dir: Path, tmp_path: Path,
) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    _edit_profile(profiles, "wrapped_by_password", _flipped(profiles, "wrapped_by_password"))
    result = run_onesend(["assessments", "list", "--password-stdin"], stdin=PASSWORD + "\n",
                         env={"ONESEND_DATA_DIR": str(data_dir), "HOME": str(tmp_path / "home")})
    assert result.returncode == 2
    assert "has been altered" in result.stderr
    assert "not counted as a wrong password" in result.stderr
    assert _failures(profiles) == 0


def test_a_stale_check_value_never_refuses_the_right_password(profiles: Profiles) -> None:
    """The check value only explains a failure: a key that opens is never refused by it."""
    profiles.create("alex", PASSWORD)[0].close()
    _edit_profile(profiles, "password_check", base64.b64encode(b"\x07" * 16).decode())
    profiles.unlock("alex", PASSWORD).close()
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", "not the password at all")
    assert _failures(profiles) == 1
