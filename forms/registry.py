"""The form definitions shipped with the package, found through importlib.resources.

Definitions live at ``forms/definitions/<form id>/<version>.json``. Loading one checks it
fully (schema and semantic rules), so a definition that loads is one the engine can run.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from forms.definition import build_definition
from forms.errors import DefinitionError, FormError
from forms.model import FormDefinition, version_tuple

_VERSION_SUFFIX = ".json"


def _definitions_root() -> Traversable:
    return resources.files("forms").joinpath("definitions")


@functools.cache
def _available() -> dict[str, dict[str, Traversable]]:
    """The shipped definitions by id and version: the package's files, listed once (they do
    not change while the process runs; every load asked the file system before)."""
    found: dict[str, dict[str, Traversable]] = {}
    for form_dir in _definitions_root().iterdir():
        if not form_dir.is_dir():
            continue
        for entry in form_dir.iterdir():
            if entry.name.endswith(_VERSION_SUFFIX):
                version = entry.name.removesuffix(_VERSION_SUFFIX)
                found.setdefault(form_dir.name, {})[version] = entry
    return found


def parse_definition_text(text: str, source: str) -> FormDefinition:
    """Parse and check definition JSON text; ``source`` names it in error messages."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError(
            source, [f"line {error.lineno}, column {error.colno}: the JSON is not valid"]
        ) from None
    except RecursionError:
        raise DefinitionError(source, ["the JSON is nested too deeply"]) from None
    return build_definition(raw, source)


@functools.cache
def _load_shipped(form_id: str, version: str) -> FormDefinition:
    entry = _available()[form_id][version]
    definition = parse_definition_text(
        entry.read_text(encoding="utf-8"), f"forms/definitions/{form_id}/{version}.json"
    )
    if definition.id != form_id or definition.version != version:
        raise DefinitionError(
            definition.source, ["/: the id and version inside do not match the file's name"]
        )
    return definition


def list_definitions() -> list[tuple[str, str, str]]:
    """Every shipped definition as (id, version, title), oldest version first."""
    listed = []
    for form_id, versions in sorted(_available().items()):
        for version in sorted(versions, key=_safe_version):
            listed.append((form_id, version, _load_shipped(form_id, version).title))
    return listed


class Catalogue:
    """Definitions published after this release, fetched and signature-checked by sync, for
    one open profile (shipped definitions always win for the same version).

    The profile's session owns it: it is filled when the profile is opened or forms are
    fetched, and cleared when the profile is locked or closed, so nothing of one profile's
    fetched forms outlives its session.
    """

    def __init__(self) -> None:
        self._fetched: dict[str, dict[str, FormDefinition]] = {}

    def register(self, definition: FormDefinition) -> None:
        """Make a checked definition loadable by id and version."""
        versions = dict(self._fetched.get(definition.id, {}))
        versions[definition.version] = definition
        self._fetched = {**self._fetched, definition.id: versions}  # readers see whole dicts

    def fetched(self, form_id: str) -> dict[str, FormDefinition]:
        return self._fetched.get(form_id, {})

    def every(self) -> list[FormDefinition]:
        """Every fetched definition (to hand to a worker process, which rebuilds them)."""
        return [definition for versions in self._fetched.values()
                for definition in versions.values()]

    def clear(self) -> None:
        self._fetched = {}

    def __len__(self) -> int:
        return sum(len(versions) for versions in self._fetched.values())

    def load(self, form_id: str, version: str | None = None) -> FormDefinition:
        """A shipped definition or one of this catalogue's, as `load_definition`."""
        return load_definition(form_id, version, self)


def _safe_version(version: str) -> tuple[int, ...]:
    try:
        return version_tuple(version)
    except ValueError:
        return (-1,)


def load_definition(
    form_id: str, version: str | None = None, catalogue: Catalogue | None = None
) -> FormDefinition:
    """A shipped (or fetched) definition by id, at a version or (when None) the latest.

    Fetched definitions come only from `catalogue`, the open session's (sync/session.py): there
    is no process-wide list of them, so nothing of one profile's forms outlives its session.
    """
    shipped = _available().get(form_id, {})
    registered = catalogue.fetched(form_id) if catalogue is not None else {}
    if not shipped and not registered:
        raise FormError(f"There is no form called '{form_id}'.")
    if version is None:
        version = max([*shipped, *registered], key=_safe_version)
    if version in shipped:
        return _load_shipped(form_id, version)
    if version in registered:
        return registered[version]
    raise FormError(f"The form '{form_id}' has no version '{version}'.")


def load_definition_file(path: str | Path) -> FormDefinition:
    """A definition from any file, fully checked; raises DefinitionError naming the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError(f"{file}: there is no such file.") from None
    except UnicodeDecodeError:
        raise DefinitionError(str(file), ["/: the file is not UTF-8 text"]) from None
    except OSError as error:
        raise FormError(f"{file}: the file cannot be read ({error.strerror}).") from None
    return parse_definition_text(text, str(file))
