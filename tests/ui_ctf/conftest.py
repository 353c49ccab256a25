"""The in-app CTF import's fixtures: a real vault in tmp_path, generated (fictional) files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.vault import Vault

# The generator lives beside the CTF tests (shared with bench/): import it, never copy it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ctf"))

from ctf_generator import GeneratedPupil, make_pupils, render

PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(vault: Vault) -> Assessments:
    return Assessments(vault)


@pytest.fixture
def write_ctf(tmp_path: Path) -> Callable[..., tuple[Path, list[GeneratedPupil]]]:
    """Write a generated CTF; `edit` may change the invented pupils before they are written."""

    def write(count: int = 10, name: str = "school.xml", *, seed: int = 0,
              version: str = "25.0",
              edit: Callable[[list[GeneratedPupil]], None] | None = None,
              ) -> tuple[Path, list[GeneratedPupil]]:
        pupils = make_pupils(count, version=version, seed=seed)
        if edit is not None:
            edit(pupils)
        path = tmp_path / name
        path.write_bytes(render(pupils, version=version))
        return path, pupils

    return write
