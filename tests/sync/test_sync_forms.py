"""Published form definitions: fetched when new, refused when their signature fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.errors import UntrustedServer
from sync.form_updates import stored_definitions, update_forms

FIXTURES = Path(__file__).parents[1] / "forms" / "fixtures"


def demo(version: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((FIXTURES / f"demo-{version}.json").read_text("utf-8"))
    return raw


def test_a_new_definition_is_fetched_once_and_kept_signed(device: Any, server: Any) -> None:
    server.store.publish(demo("1.0.0"))
    first = update_forms(device.vault, device.settings)
    assert first.fetched == [("demo", "1.0.0")]
    assert ("national-send-assessment", "1.0.0") in first.known  # shipped with the app
    (definition,) = stored_definitions(device.vault)
    assert (definition.id, definition.version) == ("demo", "1.0.0")
    again = update_forms(device.vault, device.settings)
    assert again.fetched == []


def test_a_tampered_definition_is_refused_and_nothing_is_stored(
    device: Any, server: Any
) -> None:
    server.store.publish(demo("1.1.0"))
    server.store.tamper_form("demo", "1.1.0")
    with pytest.raises(UntrustedServer, match=(
            r"^The form definition demo version 1\.1\.0 from the server was refused \(its "
            r"signature does not verify\); nothing was changed\.$")):
        update_forms(device.vault, device.settings)
    assert stored_definitions(device.vault) == []


def test_a_definition_altered_in_the_vault_is_refused_on_load(device: Any, server: Any) -> None:
    server.store.publish(demo("1.0.0"))
    update_forms(device.vault, device.settings)
    with device.vault.write() as conn:
        conn.execute("UPDATE form_definitions SET definition = replace(definition, "
                     "'Demo form', 'Evil form')")
    with pytest.raises(UntrustedServer, match="signature does not verify"):
        stored_definitions(device.vault)
