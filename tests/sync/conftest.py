"""Sync fixtures: a real reference server on 127.0.0.1, real vaults in tmp_path, short backoffs."""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.outbox import Outbox
from desktop.profiles import Profiles
from desktop.vault import Vault
from national import Faults, ServerConfig, ServerThread
from sync.device import enrol
from sync.engine import SyncEngine, SyncReport
from sync.http import ApiSettings, Backoff
from tests.conftest import NewProfile

PASSWORD = "correct horse battery staple"
CHILD_NAMES = ("Quillonyx", "Farthingdale")
EXAMPLES = ("primary", "secondary", "early-years", "post-16", "19-25")
# Short but real: every wait is bounded, so the whole suite stays quick on two cores.
FAST = ApiSettings(connect_timeout=2.0, read_timeout=5.0, deadline=10.0, max_attempts=6,
                   backoff_base=0.01, backoff_cap=0.05, max_retry_after=2.0)


def example(name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", f"{name}.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("id", None)
    return doc


def complete_document(n: int) -> dict[str, Any]:
    """A complete, valid assessment; each n gives different content (and a marked child)."""
    doc = copy.deepcopy(example(EXAMPLES[n % len(EXAMPLES)]))
    doc["answers"]["about_me"]["interests"] = f"Trains, maps and swimming (#{n})."
    doc["answers"]["child"]["first_name"] = CHILD_NAMES[0]
    doc["answers"]["child"]["last_name"] = f"{CHILD_NAMES[1]}{chr(65 + n % 26)}"
    return doc


@dataclass
class Device:
    """One laptop: a profile, its vault, and a way to sync it."""

    name: str
    vault: Vault
    server: ServerThread
    settings: ApiSettings = FAST
    ids: list[str] = field(default_factory=list)

    @property
    def store(self) -> Assessments:
        return Assessments(self.vault)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.vault)

    def add(self, count: int, *, start: int = 0, finalise: bool = True) -> list[str]:
        new = []
        for n in range(start, start + count):
            record_id, _ = self.store.create(complete_document(n), record_id=f"{self.name}-{n}")
            if finalise:
                self.store.finalise(record_id)
            new.append(record_id)
        self.ids.extend(new)
        return new

    def engine(self, **kwargs: Any) -> SyncEngine:
        backoff = Backoff(self.settings, rng=random.Random(7),
                          cancel=kwargs.pop("cancel", None) or threading.Event())
        return SyncEngine(self.vault, settings=self.settings, backoff=backoff,
                          cancel=backoff.cancel, **kwargs)

    def sync(self, **kwargs: Any) -> SyncReport:
        return self.engine(**kwargs).run()

    def finalised(self) -> set[tuple[str, int, str]]:
        """What this device finalised and did not set aside: what the server must hold."""
        return {(i.assessment_id, i.revision, i.payload_hash)
                for i in self.outbox.items(["queued", "in_flight", "acknowledged"])}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(tmp_path / "server", faults=Faults(seed=1, retry_after=0))
    with ServerThread(config) as running:
        yield running


@pytest.fixture
def make_device(
    server: ServerThread, data_dir: Path, new_profile: NewProfile,
) -> Iterator[Callable[..., Device]]:
    opened: list[Vault] = []
    profiles = Profiles(data_dir, kdf=FAST_KDF)

    def make(name: str = "alex", *, enrolled: bool = True, setting: str = "default") -> Device:
        vault, _ = new_profile(profiles, name)
        opened.append(vault)
        if enrolled:
            enrol(vault, server.url, server.issue_code(setting), FAST)
        return Device(name, vault, server)

    yield make
    for vault in opened:
        vault.close()


@pytest.fixture
def device(make_device: Callable[..., Device]) -> Device:
    return make_device()


@pytest.fixture
def exactly_once(server: ServerThread) -> Callable[..., None]:
    return lambda *devices: assert_exactly_once(server, *devices)


@pytest.fixture
def new_document() -> Callable[[int], dict[str, Any]]:
    return complete_document


def assert_exactly_once(server: ServerThread, *devices: Device) -> None:
    """The server holds exactly the finalised revisions, each once; each shows acknowledged."""
    held = server.store.holdings()
    assert len(held) == len(set((sid, rev) for sid, rev, _ in held))
    expected = set().union(*(d.finalised() for d in devices))
    assert set(held) == expected
    assert len(held) == len(expected)
    for d in devices:
        counts = d.outbox.counts()
        assert counts["queued"] == counts["in_flight"] == 0
        assert {(i.assessment_id, i.revision) for i in d.outbox.items(["acknowledged"])} == {
            (sid, rev) for sid, rev, _ in d.finalised()}
