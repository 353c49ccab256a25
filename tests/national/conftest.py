"""The national service on both backends: SQLite (the laptop reference) and PostgreSQL (a
real cluster the test session starts, tests/pg.py), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests

from contract.canonical import now_iso, payload_hash
from contract.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from national import Faults, ServerConfig, ServerThread

EXAMPLE = json.loads(resources.files("forms").joinpath(
    "examples", "2.0.0", "looked-after-out-of-area.json").read_text(encoding="utf-8"))
HEADERS = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
CHILD_NAME = "Kai"  # the example's child: must never reach an analyst or a log


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    cluster: Any = request.getfixturevalue("postgres")
    url: str = cluster.new_database()
    return url


@pytest.fixture
def service(database: str | None, tmp_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(tmp_path / "national", database=database,
                          faults=Faults(seed=1, retry_after=0), pool_size=4)
    with ServerThread(config) as running:
        yield running


def item(
    *, home_la: str = "204", setting_la: str = "204", sid: str | None = None,
    revision: int = 1, base: int | None = None, kind: str = "ehc_request",
) -> dict[str, Any]:
    """One complete, valid submission of the national form."""
    answers = copy.deepcopy(EXAMPLE["answers"])
    answers["child"]["home_la"] = home_la
    answers["assessment"]["setting_la"] = setting_la
    answers["assessment"]["kind"] = kind
    payload = {"form": EXAMPLE["form"], "form_version": EXAMPLE["form_version"],
               "answers": answers, "sign_off": {"by": "alex", "at": now_iso()}}
    return {"submission_id": sid or uuid.uuid4().hex, "revision": revision,
            "base_revision": base, "payload": payload, "payload_hash": payload_hash(payload)}


class Client:
    """Someone with a token, speaking to the service over HTTP."""

    def __init__(self, url: str, token: str, setting: str | None = None) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers.update(HEADERS)
        self.session.headers["Authorization"] = f"Bearer {token}"
        if setting:
            self.session.headers["OneSEND-Setting"] = setting

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=30)

    def batch(self, *items: dict[str, Any]) -> requests.Response:
        return self.session.post(self.url + "/v1/submissions/batch",
                                 json={"items": list(items)}, timeout=60)


def enrol_device(service: ServerThread, setting: str) -> Client:
    code = service.issue_code(setting)
    answer = requests.post(service.url + "/v1/enrol", headers=HEADERS,
                           json={"code": code, "device_name": "laptop"}, timeout=30)
    assert answer.status_code == 201, answer.text
    return Client(service.url, answer.json()["token"])


def officer(service: ServerThread, role: str, org: str | None, **kwargs: Any) -> Client:
    _id, token = service.store.issue_token(role, org, **kwargs)
    return Client(service.url, token)


def tenants(service: ServerThread) -> None:
    """Two LAs (204, 839), a trust with a school in 204, and a school in 839."""
    store = service.store
    store.ensure_organisation("204", "la", "Hackney")
    store.ensure_organisation("839", "la", "Bournemouth, Christchurch and Poole")
    store.ensure_organisation("trust-1", "trust", "Example Academy Trust")
    store.ensure_organisation("100010", "setting", "Example Junior School", la_code="204",
                              trust="trust-1", urn="100010")
    store.ensure_organisation("100020", "setting", "Another School", la_code="839",
                              urn="100020")
