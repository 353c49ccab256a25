"""The definition format's deadlines and returns tags: checked like every other rule, and
judged by the engine (per record and per repeat item)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from forms.definition import build_definition
from forms.engine import Session, verdict_of
from forms.errors import DefinitionError

FORM: dict[str, Any] = {
    "format": 1, "id": "due", "version": "1.0.0", "title": "Due dates",
    "code_lists": {"state": {"title": "State", "items": [
        {"code": "open", "label": "Open", "returns": {"sen2": "O"}},
        {"code": "done", "label": "Done"}]}},
    "sections": [
        {"id": "main", "title": "Main", "questions": [
            {"id": "asked", "type": "date", "label": "Asked",
             "returns": {"sen2": "Request received date"}},
            {"id": "key", "type": "person_key", "label": "Person key"},
        ]},
        {"id": "items", "title": "Items", "repeat": {"item_label": "Item"}, "questions": [
            {"id": "state", "type": "choice", "label": "State", "code_list": "state"},
            {"id": "sent", "type": "date", "label": "Sent"},
        ]},
    ],
    "deadlines": [
        {"id": "reply", "due": "add_weeks(main.asked, 6)", "because": "Six weeks (rule 1)."},
        {"id": "item", "each": "items", "applies_if": "selected(this.state, 'open')",
         "due": "add_days(this.sent, 14)", "because": "Two weeks (rule 2)."},
    ],
}


def form(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(FORM)
    raw.update(changes)
    return raw


def test_deadlines_per_record_and_per_item_earliest_first() -> None:
    definition = build_definition(form(), "due.json")
    assert dict(definition.question("main", "asked").returns) == {  # type: ignore[union-attr]
        "sen2": "Request received date"}
    assert dict(definition.code_lists["state"].by_code["open"].returns) == {"sen2": "O"}
    session = Session(definition, {
        "main": {"asked": "2025-01-06"},
        "items": [{"state": "open", "sent": "2025-01-01"}, {"state": "done", "sent": "2025-01-02"},
                  {"state": "open"}],
    }, date(2025, 3, 1))
    assert [(d.id, d.due.isoformat(), d.path) for d in session.deadlines] == [
        ("item", "2025-01-15", "items[0]"), ("reply", "2025-02-17", "")]
    assert verdict_of(session).to_json()["deadlines"] == [
        {"id": "item", "due": "2025-01-15", "because": "Two weeks (rule 2).", "path": "items[0]"},
        {"id": "reply", "due": "2025-02-17", "because": "Six weeks (rule 1)."}]
    assert Session(definition, {}, date(2025, 3, 1)).deadlines == []


@pytest.mark.parametrize(("deadline", "fragment"), [
    ({"id": "x", "due": "add_weeks(main.nope, 6)", "because": "b"},
     "'main.nope' is not a question"),
    ({"id": "x", "each": "main", "due": "this.sent", "because": "b"}, "not a repeating section"),
    ({"id": "x", "due": "add_weeks(", "because": "b"}, "/deadlines/0/due"),
    ({"id": "x", "due": "main.asked", "because": "b",
      "applies_if": "count_where(items, 'state', 'gone') > 0"},
     "count_where() needs a code"),
    ({"id": "x", "due": "main.asked", "because": "b", "applies_if": "is_entered(1)"},
     "is_entered() needs an answer"),
    ({"id": "x", "due": "main.asked"}, "'because' is a required property"),
])
def test_a_bad_deadline_is_refused_with_where(deadline: dict[str, Any], fragment: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        build_definition(form(deadlines=[deadline]), "due.json")
    assert any(fragment in problem for problem in raised.value.problems), raised.value.problems


def test_a_returns_tag_names_a_known_return() -> None:
    raw = form()
    raw["sections"][0]["questions"][0]["returns"] = {"sen3": "Nope"}
    with pytest.raises(DefinitionError):
        build_definition(raw, "due.json")


def test_a_person_key_is_checked_and_normalised() -> None:
    definition = build_definition(form(), "due.json")
    session = Session(definition, {"main": {"key": "os 1234567890 z"}}, date(2025, 3, 1))
    assert [p.path for p in session.problems] == ["main.key"]
    from forms.validators import new_person_key, upn_check_letter  # noqa: PLC0415

    good = "os 12345 67890 " + upn_check_letter("1234567890").lower()
    session = Session(definition, {"main": {"key": good}}, date(2025, 3, 1))
    assert session.problems == []
    assert session.answers["main"]["key"] == good.replace(" ", "").upper()
    assert Session(definition, {"main": {"key": new_person_key()}}, date(2025, 3, 1)).is_complete
