"""The reference server checked against `contract/openapi.yaml` by a property-based API tester.

Schemathesis generates requests from the contract (valid ones and edge cases) and checks
every answer: documented status, documented content type, body matching its schema, and no
server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from national import ServerConfig, ServerThread


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    folder: Path = tmp_path_factory.mktemp("contract")
    with ServerThread(ServerConfig(folder / "server")) as server:
        yield server


@pytest.fixture(scope="module")
def token(contract_server: ServerThread) -> str:
    reply = requests.post(contract_server.url + "/v1/enrol",
                          json={"code": contract_server.issue_code()},
                          headers={"OneSEND-Protocol": "1"}, timeout=10)
    value: str = reply.json()["token"]
    return value


# A schema-valid submission may still be judged (409 stale base, 422 incomplete answers,
# 426 protocol too old, 400 a protocol this server does not speak): those are answers, not
# rejections of valid data.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "426", "429"]}}})
schema = schemathesis.openapi.from_path(
    str(resources.files("contract").joinpath("openapi.yaml")), config=CONFIG)


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_server_keeps_the_contract(
    case: Any, contract_server: ServerThread, token: str
) -> None:
    # A valid device token, except where the case deliberately breaks its headers: adding the
    # token back would turn a request that must be refused into a valid one.
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    headers = {} if negative_headers else {"Authorization": f"Bearer {token}"}
    case.call_and_validate(base_url=contract_server.url, headers=headers, timeout=10)
