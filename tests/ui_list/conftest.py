"""The assessment list's fixtures: one vault of 10,000 fictional assessments per test session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from ui.tasks import TaskRunner, vault_opener

# The generator is shared with bench/bench_ui.py, so it is a plain module beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from fictional_children import (
    COUNT,
    DAMAGED_AT,
    STATUS_SLICES,
    BigVault,
    damage_summary,
    documents,
    fill,
    set_status,
)

PASSWORD = "correct horse battery staple"

@pytest.fixture(scope="session")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigVault]:
    """10,000 drafts (a few given other statuses) and one record with a damaged summary."""
    folder = tmp_path_factory.mktemp("big-vault")
    vault, _recovery = Profiles(folder, kdf=FAST_KDF).create("alex", PASSWORD)
    docs = documents(COUNT)
    ids = fill(vault, docs)
    for status, part in STATUS_SLICES.items():
        set_status(vault, ids[part], status)
    damage_summary(vault, ids[DAMAGED_AT])
    yield BigVault(vault, ids, docs)
    vault.close()


@pytest.fixture
def big_tasks(big: BigVault) -> Iterator[TaskRunner]:
    runner = TaskRunner(vault_opener(big.vault))
    yield runner
    runner.shutdown()


