"""Carrying answers from demo 1.0.0 to 1.1.0: renames, remapped codes, defaults, archive."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms.definition import build_definition
from forms.engine import Session
from forms.errors import AnswersError, FormError
from forms.migrations import ArchivedAnswer, migrate, migrate_document
from forms.model import FormDefinition
from forms.registry import load_definition_file

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 11, 28)


@pytest.fixture(scope="module")
def old() -> FormDefinition:
    return load_definition_file(FIXTURES / "demo-1.0.0.json")


@pytest.fixture(scope="module")
def new() -> FormDefinition:
    return load_definition_file(FIXTURES / "demo-1.1.0.json")


def old_answers() -> dict[str, Any]:
    return {
        "about": {"name": "Ann", "colour": "G", "hobby": "Chess", "nickname": "Annie"},
        "items": [{"_key": "i1", "title": "Swim", "when": "2026-01-01"},
                  {"_key": "i2", "title": "Read"}],
    }


def test_a_draft_moves_forward_with_nothing_lost(old: FormDefinition,
                                                 new: FormDefinition) -> None:
    before = old_answers()
    answers, archive = migrate(before, old, new)
    assert answers == {
        "about": {"full_name": "Ann", "colour": "GREEN", "consent": False},
        "items": [{"_key": "i1", "title": "Swim", "due": "2026-01-01"},
                  {"_key": "i2", "title": "Read"}],
    }
    assert archive == [
        ArchivedAnswer("about.hobby", "Chess", "Hobbies are now asked about in a later section.",
                       "1.0.0"),
        ArchivedAnswer("about.nickname", "Annie", "Version 1.1.0 of the form no longer asks this.",
                       "1.0.0"),
    ]
    assert before == old_answers()  # the original is untouched
    assert Session(new, answers, TODAY).is_complete


def test_every_old_value_survives_somewhere(old: FormDefinition, new: FormDefinition) -> None:
    answers, archive = migrate(old_answers(), old, new)
    kept = repr(answers) + repr([entry.value for entry in archive])
    for value in ["Ann", "Chess", "Annie", "Swim", "Read", "2026-01-01"]:
        assert value in kept


def test_unknown_sections_and_extra_answers_are_archived(old: FormDefinition,
                                                         new: FormDefinition) -> None:
    answers = old_answers()
    answers["gone"] = {"x": 1}
    answers["items"][0]["stray"] = "y"
    answers["about"]["colour_other"] = "teal"
    migrated, archive = migrate(answers, old, new)
    assert {entry.path for entry in archive} >= {"gone", "items[0].stray"}
    assert migrated["about"]["colour_other"] == "teal"  # kept beside its question


def test_defaults_do_not_overwrite_answers(old: FormDefinition, new: FormDefinition) -> None:
    answers = old_answers()
    answers["about"]["consent"] = True  # an answer already given wins over the default
    migrated, _ = migrate(answers, old, new)
    assert migrated["about"]["consent"] is True


def test_rename_onto_an_existing_answer_archives_the_old_one(
    old: FormDefinition, new: FormDefinition
) -> None:
    answers = old_answers()
    answers["about"]["full_name"] = "Ann Example"
    migrated, archive = migrate(answers, old, new)
    assert migrated["about"]["full_name"] == "Ann Example"
    assert any(entry.path == "about.name" and entry.value == "Ann" for entry in archive)


def test_remap_of_multiple_choice_answers(new: FormDefinition) -> None:
    raw = copy.deepcopy(new.raw)
    raw["version"] = "1.2.0"
    raw["sections"][0]["questions"][1]["type"] = "multi_choice"
    raw["migrations"] = [{"from_version": "1.1.0", "rules": [
        {"remap": "about.colour", "codes": {"GREEN": "BLUE"}}]}]
    newer = build_definition(raw, "demo-1.2.0.json")
    migrated, archive = migrate({"about": {"full_name": "A", "colour": ["GREEN", "RED"]}},
                                new, newer)
    assert migrated["about"]["colour"] == ["BLUE", "RED"]
    assert archive == []


def test_document_migration_carries_the_archive(old: FormDefinition,
                                                new: FormDefinition) -> None:
    doc = {"id": "a1", "form": "demo", "form_version": "1.0.0", "answers": old_answers(),
           "archive": [{"path": "earlier", "value": 1, "reason": "r", "from_version": "0.9.0"}]}
    moved = migrate_document(doc, old, new)
    assert moved["form_version"] == "1.1.0"
    assert moved["id"] == "a1"
    assert [entry["path"] for entry in moved["archive"]] == [
        "earlier", "about.hobby", "about.nickname"]
    assert doc["form_version"] == "1.0.0"


def test_same_version_is_a_copy(old: FormDefinition) -> None:
    answers, archive = migrate(old_answers(), old, old)
    assert answers == old_answers()
    assert archive == []


def test_refusals(old: FormDefinition, new: FormDefinition) -> None:
    with pytest.raises(FormError, match="cannot be moved back"):
        migrate({}, new, old)
    other = build_definition({**copy.deepcopy(old.raw), "id": "other"}, "other.json")
    with pytest.raises(FormError, match="cannot be moved to the form"):
        migrate({}, other, new)
    no_rules = build_definition({**copy.deepcopy(new.raw), "migrations": []}, "x.json")
    with pytest.raises(FormError, match="does not say how"):
        migrate({}, old, no_rules)
    with pytest.raises(AnswersError):
        migrate([], old, new)  # type: ignore[arg-type]


def test_rename_across_sections() -> None:
    def form(version: str, sections: list[dict[str, Any]],
             rules: list[dict[str, Any]] | None = None) -> FormDefinition:
        raw: dict[str, Any] = {"format": 1, "id": "move", "version": version, "title": "Move",
                               "sections": sections}
        if rules is not None:
            raw["migrations"] = [{"from_version": "1.0.0", "rules": rules}]
        return build_definition(raw, f"move-{version}.json")

    text = {"type": "text", "label": "T"}
    before = form("1.0.0", [{"id": "a", "title": "A", "questions": [{"id": "x", **text}]}])
    after = form("2.0.0", [{"id": "a", "title": "A", "questions": [{"id": "z", **text}]},
                           {"id": "b", "title": "B", "questions": [{"id": "x2", **text}]}],
                 [{"rename": "a.x", "to": "b.x2"}])
    answers, archive = migrate({"a": {"x": "words"}}, before, after)
    assert answers == {"a": {}, "b": {"x2": "words"}}
    assert archive == []
    answers, archive = migrate({"a": {"x": "words"}, "b": ["odd"]}, before, after)
    assert [entry.path for entry in archive] == ["a.x", "b"]
