"""Sync-area fixtures: a real reference server on 127.0.0.1, a real vault, a real task runner."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.outbox import Outbox
from desktop.vault import Vault
from national import Faults, ServerConfig, ServerThread
from sync.http import ApiSettings
from ui.sync_panel import SyncPanel
from ui.tasks import TaskRunner

PASSWORD = "correct horse battery staple"
FAST = ApiSettings(connect_timeout=1.0, read_timeout=5.0, deadline=10.0, max_attempts=3,
                   backoff_base=0.01, backoff_cap=0.05, max_retry_after=1.0)
EXAMPLES = ("primary", "secondary", "early-years", "post-16", "19-25")


def example(name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", f"{name}.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("id", None)
    return doc


def complete_document(n: int) -> dict[str, Any]:
    """A complete, valid assessment of a fictional child; each n differs."""
    doc = copy.deepcopy(example(EXAMPLES[n % len(EXAMPLES)]))
    doc["answers"]["about_me"]["interests"] = f"Trains, maps and swimming (#{n})."
    doc["answers"]["child"]["first_name"] = "Quillonyx"
    doc["answers"]["child"]["last_name"] = f"Farthingdale{chr(65 + n % 26)}"
    return doc


def server_config(data: Path) -> ServerConfig:
    return ServerConfig(data, faults=Faults(seed=1, retry_after=0))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_config(tmp_path / "server")) as running:
        yield running


@pytest.fixture
def make_panel(qtbot: QtBot, tasks: TaskRunner) -> Iterator[Callable[..., SyncPanel]]:
    made: list[SyncPanel] = []

    def make(**kwargs: Any) -> SyncPanel:
        kwargs.setdefault("settings", FAST)
        kwargs.setdefault("check_interval_ms", 60_000)
        panel = SyncPanel(tasks, **kwargs)
        qtbot.addWidget(panel)
        panel.resize(1000, 640)
        panel.show()
        made.append(panel)
        qtbot.waitUntil(lambda: bool(panel.counts), timeout=10_000)
        return panel

    yield make
    for panel in made:
        panel.shutdown()


def finalise_new(vault: Vault, *numbers: int, prefix: str = "child") -> list[str]:
    store = Assessments(vault)
    ids = []
    for n in numbers:
        record_id, _ = store.create(complete_document(n), record_id=f"{prefix}-{n}")
        store.finalise(record_id)
        ids.append(record_id)
    return ids


def assert_exactly_once(server: ServerThread, *vaults: Vault) -> None:
    """The server holds exactly the finalised revisions (not set aside), each once."""
    held = server.store.holdings()
    assert len(held) == len({(sid, rev) for sid, rev, _ in held})
    expected: set[tuple[str, int, str]] = set()
    for vault in vaults:
        outbox = Outbox(vault)
        expected |= {(i.assessment_id, i.revision, i.payload_hash)
                     for i in outbox.items(["queued", "in_flight", "acknowledged"])}
        counts = outbox.counts()
        assert counts["queued"] == counts["in_flight"] == 0
    assert set(held) == expected


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for the test modules (conftest is not importable by name)."""
    return SimpleNamespace(FAST=FAST, PASSWORD=PASSWORD, complete_document=complete_document,
                           finalise_new=finalise_new, exactly_once=assert_exactly_once,
                           server_config=server_config)
