"""CTF import fixtures: generated files (never real pupils), real vaults in tmp_path."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import app.cli
from desktop.assessments import Assessments
from desktop.profiles import Profiles
from desktop.vault import Vault
from tests.conftest import NewProfile

# The generator is shared with bench/bench_ctf.py, so it is a plain module beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from ctf_generator import generate

PASSWORD = "correct horse battery staple"


@pytest.fixture
def vault(profiles: Profiles, new_profile: NewProfile) -> Iterator[Vault]:
    opened, _ = new_profile(profiles, "alex")
    with opened:
        yield opened


@pytest.fixture
def store(vault: Vault) -> Assessments:
    return Assessments(vault)


@pytest.fixture
def write_ctf(tmp_path: Path) -> Callable[..., tuple[Path, list]]:
    """Write a generated CTF to tmp_path; returns its path and the pupils it holds."""

    def write(count: int = 10, name: str = "school.xml", **options: object) -> tuple[Path, list]:
        xml, pupils = generate(count, **options)  # type: ignore[arg-type]
        path = tmp_path / name
        path.write_bytes(xml)
        return path, pupils

    return write


@pytest.fixture
def onesend(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path,
) -> Callable[..., tuple[int, str, str]]:
    """Run `onesend ARGS` in-process with the password on stdin: (exit code, stdout, stderr)."""
    def run(*argv: str, stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = app.cli.main(["--data-dir", str(data_dir), *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
