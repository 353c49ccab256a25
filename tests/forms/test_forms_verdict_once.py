"""A verdict judged once (`verdict_for`, what finalise and the national service ask for) is the
same as a session's, and leaves the caller's answers exactly as they were: the answers are
judged in place only when nothing in them would be normalised, else copied first."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from forms.engine import Session, check_document, verdict_for, verdict_of
from forms.registry import load_definition

TODAY = date(2026, 11, 28)
EXAMPLES = resources.files("forms").joinpath("examples")
NAMES = sorted(
    [entry.name for entry in EXAMPLES.iterdir() if entry.name.endswith(".json")]
    + [f"2.0.0/{entry.name}" for entry in EXAMPLES.joinpath("2.0.0").iterdir()
       if entry.name.endswith(".json")])


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLES.joinpath(name).read_text("utf-8"))
    return document


@pytest.mark.parametrize("name", NAMES)
def test_a_verdict_judged_once_is_the_sessions_and_changes_no_answer(name: str) -> None:
    document = example(name)
    definition = load_definition(document["form"], document["form_version"])
    before = copy.deepcopy(document)
    once = verdict_for(definition, document["answers"], TODAY)
    assert once == verdict_of(Session(definition, copy.deepcopy(before["answers"]), TODAY))
    assert check_document(document, TODAY) == once
    assert document == before


def test_answers_that_need_normalising_are_judged_on_a_copy() -> None:
    document = example("primary.json")
    answers = document["answers"]
    answers["child"]["upn"] = " " + answers["child"]["upn"].lower() + " "
    for item in answers["outcomes"]:
        item.pop("_key", None)
    before = copy.deepcopy(answers)
    definition = load_definition(document["form"], document["form_version"])
    once = verdict_for(definition, answers, TODAY)
    assert answers == before  # no key added, the UPN as given
    assert once == verdict_of(Session(definition, copy.deepcopy(before), TODAY))
