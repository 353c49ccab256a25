"""An edited session says exactly what a session built afresh from the same answers says.

The engine re-evaluates only what depends on an edit; these tests make many random edits
(answers set and cleared, items added, removed and moved) to one session and, after every
step, compare everything it says with a new session of the same answers.
"""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Any

import pytest

from forms.definition import build_definition
from forms.engine import Session
from forms.errors import FormError
from forms.model import FormDefinition, Question
from forms.registry import load_definition
from tests.forms.golden import examples, observe_session

TODAY = date(2026, 11, 28)
STEPS = 60


def _paths(session: Session) -> list[tuple[str, Question]]:
    """Every question path of the session's answers as they are now (items included)."""
    found: list[tuple[str, Question]] = []
    for section in session.definition.sections:
        prefixes = [f"{section.id}[{i}]" for i in range(session.item_count(section.id))] \
            if section.repeat else [section.id]
        for prefix in prefixes:
            for question in section.questions:
                if question.is_computed:
                    continue
                path = f"{prefix}.{question.id}"
                if not question.is_group:
                    found.append((path, question))
                    continue
                for index in range(session.item_count(path)):
                    found += [(f"{path}[{index}].{sub.id}", sub) for sub in question.questions]
    return found


def _lists(session: Session) -> list[str]:
    """Every repeating section and group the answers could hold items in now."""
    found: list[str] = []
    for section in session.definition.sections:
        if section.repeat:
            found.append(section.id)
            groups = [(f"{section.id}[{i}]", q) for i in range(session.item_count(section.id))
                      for q in section.questions if q.is_group]
        else:
            groups = [(section.id, q) for q in section.questions if q.is_group]
        found += [f"{prefix}.{group.id}" for prefix, group in groups]
    return found


def _value(rng: random.Random, definition: FormDefinition, session: Session,
           question: Question, n: int) -> Any:
    codes = definition.code_lists.get(question.code_list or "")
    offered = [c for c, _label in session.choices(*_choice_args(question, definition))] \
        if question.choices_from else [item.code for item in codes.items] if codes else []
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.25:
        return rng.choice(("", "odd", 7, True, ["x"], "2025-13-01"))
    kind = question.type
    if kind == "choice" and offered:
        return rng.choice(offered)
    if kind == "multi_choice" and offered:
        return rng.sample(offered, rng.randint(1, min(3, len(offered))))
    if kind == "date":
        return rng.choice(("2012-05-01", "2019-09-01", "2026-01-15", "2027-06-30"))
    if kind == "yes_no":
        return rng.random() < 0.5
    if kind in ("integer", "decimal"):
        return rng.choice((0, 1, 3, 30, 120, -1))
    if kind in ("person", "agreement"):
        return {"name": "A Person", "role": rng.choice(("Parent", "")),
                "decision": rng.choice(("agree", "disagree", "")), "date": "2026-01-02"}
    return f"Typed text {n}"


def _choice_args(question: Question, definition: FormDefinition) -> tuple[str, str, str | None]:
    for section in definition.sections:
        for top in section.questions:
            if top is question:
                return section.id, top.id, None
            if question in top.questions:
                return section.id, top.id, question.id
    raise AssertionError(question.id)


def _edit(rng: random.Random, session: Session, n: int) -> None:
    roll = rng.random()
    lists = _lists(session)
    if roll < 0.7:
        paths = _paths(session)
        if paths:
            path, question = rng.choice(paths)
            session.set_answer(path, _value(rng, session.definition, session, question, n))
            return
    path = rng.choice(lists)
    count = session.item_count(path)
    if roll < 0.82 or count == 0:
        session.add_item(path)
    elif roll < 0.91:
        session.remove_item(path, rng.randrange(count))
    else:
        session.move_item(path, rng.randrange(count), rng.randrange(count))


@pytest.mark.parametrize("name", sorted(examples()))
def test_random_edits_give_what_a_fresh_session_gives(name: str) -> None:
    document = examples()[name]
    definition = load_definition(document["form"], document["form_version"])
    session = Session(definition, document["answers"], TODAY)
    rng = random.Random(name)
    for n in range(STEPS):
        try:
            _edit(rng, session, n)
        except FormError:
            continue  # a value the form refuses changes nothing; the next step goes on
        fresh = Session(definition, session.answers, TODAY)
        assert observe_session(session) == observe_session(fresh), (n, json.dumps(
            session.answers)[:0])


def _heavy_definition() -> FormDefinition:
    """A form whose rule overruns the evaluation budget over a few thousand items."""
    group = "(" + " or ".join(["this.a == 'x'"] * 8) + ")"
    rule = " or ".join([group] * 12)  # 383 parts: about 2,600 evaluations fit the budget
    raw = {
        "format": 1, "id": "heavy", "version": "1.0.0", "title": "Heavy",
        "sections": [
            {"id": "about", "title": "About", "questions": [
                {"id": "name", "type": "text", "label": "Name"}]},
            {"id": "things", "title": "Things", "repeat": {"min_items": 0},
             "questions": [
                {"id": "a", "type": "text", "label": "A"},
                {"id": "b", "type": "text", "label": "B", "required_if": rule}]},
        ],
    }
    return build_definition(raw, "heavy.json")


def test_an_overrun_of_the_rules_budget_falls_where_a_fresh_session_has_it() -> None:
    definition = _heavy_definition()
    answers = {"things": [{"a": "x" if n % 3 else "y"} for n in range(2700)]}
    session = Session(definition, answers, TODAY)
    overrun = [e for e in session.rule_errors if "took too long" in e]
    assert overrun  # the budget runs out part way through the items
    # Answering b spares its rule, so the overrun moves: an item past it must be judged again.
    for path, value in (("things[4].b", "done"), ("things[7].b", "done"), ("about.name", "N"),
                        ("things[2650].a", "y"), ("things[4].b", None)):
        session.set_answer(path, value)
        fresh = Session(definition, session.answers, TODAY)
        assert session.rule_errors == fresh.rule_errors
        assert session.problems == fresh.problems
        assert session.is_complete == fresh.is_complete
