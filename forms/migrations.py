"""Carrying answers forward from an earlier version of a form, dropping nothing silently.

A definition declares, for each earlier version it accepts, rules applied in order:

- ``{"rename": "section.question", "to": "section.question"}`` moves an answer;
- ``{"remap": "section.question", "codes": {"OLD": "NEW"}}`` changes choice codes;
- ``{"default": "section.question", "value": ...}`` fills an unanswered question;
- ``{"archive": "section.question", "reason": "..."}`` moves an answer to the archive.

In a repeating section a rule applies to every item. After the rules, any answer the new
version does not ask is archived too, so every word typed under the old version survives
either as an answer or in the archive, which the window shows read-only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from forms.errors import AnswersError, FormError
from forms.model import KEY_FIELD, OTHER_SUFFIX, FormDefinition, Section
from forms.paths import parse_answer_path


@dataclass(frozen=True)
class ArchivedAnswer:
    """An answer kept out of the form after a migration, with where it came from and why."""

    path: str
    value: Any
    reason: str
    from_version: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value, "reason": self.reason,
                "from_version": self.from_version}


def _section_question(path: str) -> tuple[str, str]:
    """The section and question a rule names (``section.question``, by the path grammar)."""
    parsed = parse_answer_path(path)
    if parsed is None or parsed.question is None or parsed.item is not None \
            or parsed.group_item is not None:
        raise FormError(f"The migration names '{path}', which is not a section's question.")
    return parsed.section, parsed.question


def _rules(from_def: FormDefinition, to_def: FormDefinition) -> list[dict[str, Any]]:
    if from_def.id != to_def.id:
        raise FormError(f"Answers to '{from_def.id}' cannot be moved to the form '{to_def.id}'.")
    if from_def.version == to_def.version:
        return []
    if to_def.version_tuple < from_def.version_tuple:
        raise FormError(f"Answers cannot be moved back from version {from_def.version} to "
                        f"{to_def.version} of '{to_def.id}'.")
    for migration in to_def.migrations:
        if migration["from_version"] == from_def.version:
            rules: list[dict[str, Any]] = migration["rules"]
            return rules
    raise FormError(f"Version {to_def.version} of '{to_def.id}' does not say how to carry "
                    f"answers forward from version {from_def.version}.")


class _Migration:
    def __init__(self, answers: dict[str, Any], from_def: FormDefinition,
                 to_def: FormDefinition) -> None:
        self.answers = answers
        self.from_def = from_def
        self.to_def = to_def
        self.archive: list[ArchivedAnswer] = []

    def containers(self, section_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The dicts holding a section's answers: the section, or each of its items."""
        value = self.answers.get(section_id)
        if isinstance(value, dict):
            return [(section_id, value)]
        if isinstance(value, list):
            return [(f"{section_id}[{i}]", item) for i, item in enumerate(value)
                    if isinstance(item, dict)]
        return []

    def keep(self, path: str, value: Any, reason: str) -> None:
        self.archive.append(ArchivedAnswer(path, value, reason, self.from_def.version))

    def rename(self, source: str, target: str) -> None:
        from_section, from_question = _section_question(source)
        to_section, to_question = _section_question(target)
        for prefix, container in self.containers(from_section):
            for suffix in ("", OTHER_SUFFIX):
                if from_question + suffix not in container:
                    continue
                value = container.pop(from_question + suffix)
                if from_section == to_section:
                    destination = container
                else:
                    destination = self.answers.setdefault(to_section, {})
                    if not isinstance(destination, dict):
                        self.keep(f"{prefix}.{from_question}{suffix}", value,
                                  f"It could not be moved to {target}.")
                        continue
                if to_question + suffix in destination:
                    self.keep(f"{prefix}.{from_question}{suffix}", value,
                              f"{target} already had an answer.")
                    continue
                destination[to_question + suffix] = value

    def remap(self, path: str, codes: dict[str, str]) -> None:
        section_id, question_id = _section_question(path)
        for _prefix, container in self.containers(section_id):
            value = container.get(question_id)
            if isinstance(value, str):
                container[question_id] = codes.get(value, value)
            elif isinstance(value, list):
                container[question_id] = [
                    codes.get(code, code) if isinstance(code, str) else code for code in value
                ]

    def default(self, path: str, value: Any) -> None:
        section_id, question_id = _section_question(path)
        section = self.to_def.sections_by_id.get(section_id)
        if section is not None and section.repeat:
            for _prefix, container in self.containers(section_id):
                container.setdefault(question_id, copy.deepcopy(value))
            return
        container = self.answers.setdefault(section_id, {})
        if isinstance(container, dict) and container.get(question_id) in (None, "", []):
            container[question_id] = copy.deepcopy(value)

    def archive_answer(self, path: str, reason: str) -> None:
        section_id, question_id = _section_question(path)
        for prefix, container in self.containers(section_id):
            for suffix in ("", OTHER_SUFFIX):
                if question_id + suffix in container:
                    self.keep(f"{prefix}.{question_id}{suffix}",
                              container.pop(question_id + suffix), reason)

    def sweep(self) -> None:
        """Archive whatever the new version does not ask, so nothing is lost unseen."""
        reason = f"Version {self.to_def.version} of the form no longer asks this."
        for section_id in list(self.answers):
            section = self.to_def.sections_by_id.get(section_id)
            value = self.answers[section_id]
            if section is None or not isinstance(value, dict | list) or (
                isinstance(value, list) != section.repeat
            ):
                self.keep(section_id, self.answers.pop(section_id), reason)
                continue
            for prefix, container in self.containers(section_id):
                self.sweep_container(prefix, container, section, reason)

    def sweep_container(self, prefix: str, container: dict[str, Any], section: Section,
                        reason: str) -> None:
        for name in list(container):
            if name == KEY_FIELD and section.repeat:
                continue
            base = name.removesuffix(OTHER_SUFFIX)
            if name in section.by_id or (name != base and base in section.by_id):
                continue
            self.keep(f"{prefix}.{name}", container.pop(name), reason)


def migrate(
    answers: dict[str, Any], from_def: FormDefinition, to_def: FormDefinition
) -> tuple[dict[str, Any], list[ArchivedAnswer]]:
    """Answers given under ``from_def`` carried to ``to_def``, and what was archived."""
    if not isinstance(answers, dict):
        raise AnswersError("The answers must be a JSON object of sections.")
    migration = _Migration(copy.deepcopy(answers), from_def, to_def)
    for rule in _rules(from_def, to_def):
        if "rename" in rule:
            migration.rename(rule["rename"], rule["to"])
        elif "remap" in rule:
            migration.remap(rule["remap"], rule["codes"])
        elif "default" in rule:
            migration.default(rule["default"], rule["value"])
        else:
            migration.archive_answer(
                rule["archive"], rule.get("reason", "This question was removed from the form.")
            )
    migration.sweep()
    return migration.answers, migration.archive


def migrate_document(doc: dict[str, Any], from_def: FormDefinition,
                     to_def: FormDefinition) -> dict[str, Any]:
    """An assessment document moved to a new version; the archive travels with it."""
    answers, archived = migrate(doc.get("answers", {}), from_def, to_def)
    moved = copy.deepcopy(doc)
    moved["form_version"] = to_def.version
    moved["answers"] = answers
    earlier = moved.get("archive")
    moved["archive"] = (earlier if isinstance(earlier, list) else []) + [
        entry.to_json() for entry in archived
    ]
    return moved
