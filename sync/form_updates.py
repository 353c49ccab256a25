"""Published form definitions: fetched, signature-checked, and kept in the vault.

A definition whose Ed25519 signature (by the key learnt at enrolment) does not verify is
refused and nothing is stored; one that verifies must also pass the forms package's own
checks before it is kept. The signature is checked again whenever a stored one is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from desktop.errors import UntrustedServer
from desktop.vault import Vault, now_iso
from forms.definition import FormDefinition, build_definition
from forms.errors import FormError
from forms.registry import list_definitions
from sync.device import Credentials, load_credentials
from sync.http import Api, ApiSettings
from sync.protocol import canonical_json, form_message, verify

MAX_FORMS = 500


@dataclass
class FormsUpdate:
    """What an update found: new definitions kept, and those already known."""

    fetched: list[tuple[str, str]] = field(default_factory=list)
    known: list[tuple[str, str]] = field(default_factory=list)


def _refused(form: str, version: str, why: str) -> UntrustedServer:
    return UntrustedServer(
        f"The form definition {form} version {version} from the server was refused ({why}); "
        "nothing was changed."
    )


def checked_definition(
    credentials: Credentials, form: str, version: str, body: Any
) -> tuple[dict[str, Any], str]:
    """The raw definition and its signature, or UntrustedServer when either is wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("definition"), dict):
        raise _refused(form, version, "the answer was not a signed definition")
    raw: dict[str, Any] = body["definition"]
    signature = body.get("signature")
    if not verify(credentials.form_public_key(), signature, form_message(raw)):
        raise _refused(form, version, "its signature does not verify")
    if raw.get("id") != form or raw.get("version") != version:
        raise _refused(form, version, "it names another form or version")
    try:
        build_definition(raw, f"{form}@{version} from the server")
    except FormError as exc:
        raise _refused(form, version, "it is not a valid form definition") from exc
    return raw, str(signature)


def update_forms(vault: Vault, settings: ApiSettings | None = None) -> FormsUpdate:
    """Fetch every published definition this device does not have yet."""
    credentials = load_credentials(vault)
    shipped = {(form, version) for form, version, _ in list_definitions()}
    stored = {(str(f), str(v)) for f, v in vault.read(
        "SELECT form, version FROM form_definitions")}
    result = FormsUpdate()
    api = Api(credentials.server_url, credentials.settings(settings), token=credentials.token)
    try:
        listing = api.call("GET", "/v1/forms").body
        entries = listing.get("forms") if isinstance(listing, dict) else None
        for entry in (entries if isinstance(entries, list) else [])[:MAX_FORMS]:
            if not isinstance(entry, dict):
                continue
            key = (str(entry.get("form")), str(entry.get("version")))
            if key in shipped or key in stored:
                result.known.append(key)
                continue
            body = api.call("GET", f"/v1/forms/{key[0]}/{key[1]}").body
            raw, signature = checked_definition(credentials, key[0], key[1], body)
            with vault.write() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO form_definitions (form, version, definition, "
                    "signature, fetched_at) VALUES (?, ?, ?, ?, ?)",
                    (key[0], key[1], canonical_json(raw).decode(), signature, now_iso()),
                )
                vault.audit(conn, "forms.fetch", None)
            result.fetched.append(key)
    finally:
        api.close()
    return result


def stored_definitions(vault: Vault) -> list[FormDefinition]:
    """The fetched definitions, each re-checked against its signature before use."""
    credentials = load_credentials(vault)
    found = []
    for form, version, text, signature in vault.read(
            "SELECT form, version, definition, signature FROM form_definitions "
            "ORDER BY form, version"):
        raw, _ = checked_definition(credentials, str(form), str(version),
                                    {"definition": json.loads(text), "signature": signature})
        found.append(build_definition(raw, f"{form}@{version} (stored)"))
    return found
