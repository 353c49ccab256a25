"""The hard bounds of answers, derived from any definition's question types (forms/bounds.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from forms.bounds import (
    CODE_CHARS,
    DATE_CHARS,
    GENERIC_CHARS,
    MAX_DEPTH,
    SHORT_CHARS,
    OutOfBounds,
    answers_bound,
    check_value,
    clip_answers,
)
from forms.definition import build_definition
from forms.model import FormDefinition


def test_the_national_form_gets_a_bound_for_every_question(national: FormDefinition) -> None:
    bound = answers_bound(national)
    assert bound.fields is not None
    assert set(bound.fields) == {section.id for section in national.sections}
    child = bound.fields["child"].fields
    assert child is not None
    assert child["first_name"].chars == SHORT_CHARS
    assert child["date_of_birth"].chars == DATE_CHARS
    assert child["upn"].chars == CODE_CHARS
    assert child["communication_notes"].chars == GENERIC_CHARS
    assert bound.fields["outcomes"].items == 60  # the section's own max_items
    for section in national.sections:
        fields = (bound.fields[section.id].item or bound.fields[section.id]).fields
        assert fields is not None
        assert {q.id for q in section.questions} <= set(fields)


def test_a_new_definition_derives_its_own_bounds() -> None:
    raw = {"format": 1, "id": "tiny", "version": "2.0.0", "title": "Tiny", "sections": [
        {"id": "s", "title": "S", "questions": [
            {"id": "short", "type": "text", "label": "Short", "max_length": 50},
            {"id": "people", "type": "group", "label": "People",
             "repeat": {"max_items": 3, "item_label": "Person"},
             "questions": [{"id": "who", "type": "person", "label": "Who"}]},
        ]}]}
    definition = build_definition(raw, "tiny")
    check_value({"s": {"short": "x" * 100}}, answers_bound(definition))
    with pytest.raises(OutOfBounds, match=r"s\.short is 101 characters long, more than the 100"):
        check_value({"s": {"short": "x" * 101}}, answers_bound(definition))
    with pytest.raises(OutOfBounds, match=r"s\.people has 4 entries"):
        check_value({"s": {"people": [{}] * 4}}, answers_bound(definition))
    with pytest.raises(OutOfBounds, match=r"s\.people\[1\]\.who\.name is 401"):
        check_value({"s": {"people": [{}, {"who": {"name": "n" * 401}}]}},
                    answers_bound(definition))


def test_depth_numbers_and_surrogates_without_recursion(national: FormDefinition) -> None:
    deep: Any = "x"
    for _ in range(200_000):
        deep = [deep]
    with pytest.raises(OutOfBounds, match=f"nested more than {MAX_DEPTH} levels deep"):
        check_value({"about_me": {"deep": deep}}, answers_bound(national))
    with pytest.raises(OutOfBounds, match="not finite"):
        check_value({"child": {"x": float("inf")}}, answers_bound(national))
    with pytest.raises(OutOfBounds, match="larger than OneSEND accepts"):
        check_value({"child": {"x": 10**16}}, answers_bound(None))
    with pytest.raises(OutOfBounds, match="not valid Unicode"):
        check_value({"child": {"first_name": "a\ud800b"}}, answers_bound(national))


def test_clipping_cuts_to_the_bounds_and_names_what_it_cut(
    national: FormDefinition, example: Callable[[str], dict[str, Any]],
) -> None:
    answers = copy.deepcopy(example("primary"))
    answers["child"]["first_name"] = "A" * 10_000
    deep: Any = "x"
    for _ in range(50):
        deep = [deep]
    answers["about_me"]["deep"] = deep
    clipped, paths = clip_answers(answers, national)
    assert clipped["child"]["first_name"] == "A" * SHORT_CHARS
    assert "child.first_name" in paths
    assert any(path.startswith("about_me.deep") for path in paths)
    check_value(clipped, answers_bound(national))  # what is shown is within every bound
    untouched, none = clip_answers(example("primary"), national)
    assert none == []
    assert untouched == example("primary")
