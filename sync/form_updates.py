"""Published form definitions: fetched, signature-checked, kept in the vault; drafts migrated.

A definition whose Ed25519 signature (by the key learnt at enrolment) does not verify is
refused and nothing is stored; one that verifies must also pass the forms package's own
checks before it is kept. Every new definition of an update is checked before any is stored,
so a refused one changes nothing. The signature is checked again whenever a stored one is read.

After an update, each draft (status draft or amended) answering an older version of a form
is carried to the newest version known (shipped or fetched) by the form's own migrations, as
a new revision: answers the new version no longer asks are kept in the document's `archive`,
never dropped. Finalised records (queued, synced, in conflict) are not touched: what was
signed off is what is sent.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from contract.protocol import canonical_json, form_message, verify
from desktop.assessments import Assessments
from desktop.errors import OneSendError, TamperedData, UntrustedServer
from desktop.form_store import FormStore
from desktop.record_status import EDITABLE_DRAFTS
from desktop.vault import Vault
from forms.definition import build_definition
from forms.errors import FormError
from forms.migrations import migrate_document
from forms.model import FormDefinition
from forms.registry import Catalogue, list_definitions, load_definition
from sync.device import Credentials, load_credentials
from sync.http import Api, ApiSettings

MAX_FORMS = 500
MIGRATABLE = EDITABLE_DRAFTS


@dataclass(frozen=True)
class MigratedDraft:
    """One draft carried to a newer form version, as a new revision."""

    id: str
    from_version: str
    to_version: str
    revision: int
    archived: int


@dataclass
class FormsUpdate:
    """What an update found: new definitions kept, those already known, drafts migrated, and
    drafts left on their version because no migration leads from it (with why)."""

    fetched: list[tuple[str, str]] = field(default_factory=list)
    known: list[tuple[str, str]] = field(default_factory=list)
    migrated: list[MigratedDraft] = field(default_factory=list)
    not_migrated: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched": [{"form": f, "version": v} for f, v in self.fetched],
            "known": [{"form": f, "version": v} for f, v in self.known],
            "migrated": [asdict(entry) for entry in self.migrated],
            "not_migrated": [{"id": i, "reason": r} for i, r in self.not_migrated],
        }


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


def update_forms(
    vault: Vault, settings: ApiSettings | None = None, *, migrate: bool = True,
    catalogue: Catalogue | None = None,
) -> FormsUpdate:
    """Fetch every published definition this device does not have yet, then migrate drafts.

    All new definitions are fetched and checked first and stored in one transaction, so a
    refused one (UntrustedServer) leaves the vault exactly as it was. They are registered in
    `catalogue` (the open session's, `vault.catalogue`, when None).
    """
    credentials = load_credentials(vault)
    shipped = {(form, version) for form, version, _ in list_definitions()}
    store = FormStore(vault)
    stored = store.keys()
    result = FormsUpdate()
    checked: list[tuple[str, str, dict[str, Any], str]] = []
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
            checked.append((key[0], key[1], raw, signature))
    finally:
        api.close()
    if checked:
        store.put_all([(form, version, canonical_json(raw).decode(), signature)
                       for form, version, raw, signature in checked])
        result.fetched.extend((form, version) for form, version, _, _ in checked)
    register_stored_definitions(vault, catalogue)
    if migrate:
        result.migrated, result.not_migrated = migrate_drafts(vault)
    return result


def register_stored_definitions(vault: Vault, catalogue: Catalogue | None = None) -> int:
    """Let the forms engine load the fetched definitions (after unlock): each is registered in
    `catalogue` (the open session's, `vault.catalogue`, when None; with neither, nothing is
    registered).

    Each is checked against its signature again; one that fails is left out, so a damaged
    row can never stop the profile from opening. Returns how many were registered.
    """
    catalogue = catalogue if catalogue is not None else vault.catalogue
    if catalogue is None or not FormStore(vault).any():
        return 0
    try:
        found = stored_definitions(vault)
    except (OneSendError, FormError):
        return 0
    for definition in found:
        catalogue.register(definition)
    return len(found)


def known_definitions(vault: Vault) -> dict[tuple[str, str], FormDefinition]:
    """Every definition this profile can use: shipped with the app, or fetched and verified."""
    known = {(form, version): load_definition(form, version)
             for form, version, _ in list_definitions()}
    if FormStore(vault).any():
        for definition in stored_definitions(vault):
            known.setdefault((definition.id, definition.version), definition)
    return known


def _path(
    definitions: dict[tuple[str, str], FormDefinition], form: str, version: str
) -> list[FormDefinition] | None:
    """The steps from `version` to the newest version of `form`, each a declared migration;
    [] when it is already the newest, None when no migration leads on from some version."""
    versions = sorted((d for (f, _), d in definitions.items() if f == form),
                      key=lambda d: d.version_tuple)
    current = definitions[(form, version)]
    steps: list[FormDefinition] = []
    while versions and current.version_tuple < versions[-1].version_tuple:
        onward = [d for d in versions if d.version_tuple > current.version_tuple and any(
            m.get("from_version") == current.version for m in d.migrations)]
        if not onward:
            return None
        current = onward[-1]
        steps.append(current)
    return steps


def migrate_drafts(vault: Vault) -> tuple[list[MigratedDraft], list[tuple[str, str]]]:
    """Carry every draft on an older form version to the newest one, a revision each."""
    definitions = known_definitions(vault)
    store = Assessments(vault)
    rows = store.heads_with_status(MIGRATABLE)
    migrated: list[MigratedDraft] = []
    stranded: list[tuple[str, str]] = []
    for record_id, revision, form, version in rows:
        if (form, version) not in definitions:
            stranded.append((record_id, f"version {version} of the form {form} is unknown"))
            continue
        steps = _path(definitions, form, version)
        if steps is None:
            stranded.append((record_id, f"no migration leads on from version {version} of "
                                        f"the form {form}"))
            continue
        if not steps:
            continue
        try:
            document = store.get(record_id, int(revision))
        except TamperedData:
            stranded.append((record_id, "it was altered or damaged outside OneSEND"))
            continue
        body: dict[str, Any] = {key: document[key] for key in (
            "form", "form_version", "answers", "archive") if key in document}
        before = len(body.get("archive", []))
        source = definitions[(form, version)]
        try:
            for target in steps:
                body = migrate_document(body, source, target)
                source = target
        except FormError as exc:
            stranded.append((record_id, f"its answers could not be migrated ({exc})"))
            continue
        if store.current_revision_of(record_id) != revision:
            continue  # edited meanwhile: the next update migrates the newer revision
        new_revision = store.save(record_id, body, action="migrate-form")
        migrated.append(MigratedDraft(record_id, version, source.version, new_revision,
                                      len(body["archive"]) - before))
    return migrated, stranded


def stored_definitions(vault: Vault) -> list[FormDefinition]:
    """The fetched definitions, each re-checked against its signature before use."""
    credentials = load_credentials(vault)
    found = []
    for form, version, text, signature in FormStore(vault).rows():
        raw, _ = checked_definition(credentials, form, version,
                                    {"definition": json.loads(text), "signature": signature})
        found.append(build_definition(raw, f"{form}@{version} (stored)"))
    return found
