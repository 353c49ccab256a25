"""The published form definitions: the ones shipped with the forms package and any an
operator adds, each signed with the service's form key, and kept built in memory for judging.
"""

from __future__ import annotations

import hashlib
import json
import threading
from importlib import resources
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from contract.canonical import canonical_json
from contract.protocol import b64, form_message
from forms.definition import build_definition
from forms.model import FormDefinition
from forms.registry import list_definitions
from national import schema

_RACE_RETRIES = 5


def shipped_definitions() -> list[dict[str, Any]]:
    """The form definitions that come with the package, as published JSON."""
    root = resources.files("forms").joinpath("definitions")
    found = []
    for form_id, version, _title in list_definitions():
        text_ = root.joinpath(form_id, f"{version}.json").read_text(encoding="utf-8")
        found.append(json.loads(text_))
    return found


class FormCatalogue:
    """The published forms of a ServerStore (which provides the engine, key and cache)."""

    engine: Engine
    form_key: Ed25519PrivateKey
    _lock: threading.Lock
    _definitions: dict[tuple[str, str], FormDefinition]

    def publish(self, raw: dict[str, Any]) -> None:
        """Publish (or re-publish identically) a form definition, signed with the form key."""
        definition = build_definition(raw, f"published {raw.get('id')}@{raw.get('version')}")
        signature = b64(self.form_key.sign(form_message(raw)))
        stored = canonical_json(raw).decode()
        forms = schema.forms
        for _ in range(_RACE_RETRIES):
            try:
                with self.engine.begin() as conn:
                    held = conn.execute(select(forms.c.definition).where(
                        forms.c.form == definition.id, forms.c.version == definition.version)
                    ).first()
                    if held is None:
                        seq = conn.execute(select(func.coalesce(
                            func.max(forms.c.published_seq), 0))).scalar_one() + 1
                        conn.execute(forms.insert().values(
                            form=definition.id, version=definition.version, definition=stored,
                            signature=signature, published_seq=seq))
                    elif held[0] != stored:
                        conn.execute(update(forms).where(
                            forms.c.form == definition.id,
                            forms.c.version == definition.version).values(
                            definition=stored, signature=signature))
                break
            except IntegrityError:
                continue
        with self._lock:
            self._definitions[(definition.id, definition.version)] = definition

    def forms(self) -> list[dict[str, str]]:
        forms = schema.forms
        with self.engine.connect() as conn:
            rows = conn.execute(select(forms.c.form, forms.c.version, forms.c.definition)
                                .order_by(forms.c.form, forms.c.published_seq)).all()
        return [
            {"form": form, "version": version,
             "sha256": hashlib.sha256(text_.encode()).hexdigest()}
            for form, version, text_ in rows
        ]

    def form(self, form: str, version: str) -> dict[str, Any] | None:
        forms = schema.forms
        with self.engine.connect() as conn:
            row = conn.execute(select(forms.c.definition, forms.c.signature).where(
                forms.c.form == form, forms.c.version == version)).first()
        if row is None:
            return None
        return {"form": form, "version": version, "definition": json.loads(row[0]),
                "signature": row[1]}

    def tamper_form(self, form: str, version: str) -> None:
        """For tests and demos: alter a published definition but keep the old signature."""
        forms = schema.forms
        with self.engine.begin() as conn:
            stored = conn.execute(select(forms.c.definition).where(
                forms.c.form == form, forms.c.version == version)).scalar_one()
            raw = json.loads(stored)
            raw["title"] = str(raw.get("title", "")) + " (altered)"
            conn.execute(update(forms).where(forms.c.form == form, forms.c.version == version)
                         .values(definition=canonical_json(raw).decode()))

    def definition(self, form: str, version: str) -> FormDefinition | None:
        with self._lock:
            return self._definitions.get((form, version))
