"""The engine on a small definition that uses every question type."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forms.definition import build_definition
from forms.engine import Session
from forms.errors import AnswersError, FormError
from forms.expressions import MISSING
from forms.model import FormDefinition

TODAY = date(2026, 11, 28)

RAW: dict[str, Any] = {
    "format": 1, "id": "every-type", "version": "1.0.0", "title": "Every type",
    "code_lists": {
        "colours": {"title": "Colours", "items": [
            {"code": "R", "label": "Red"}, {"code": "G", "label": "Green"},
            {"code": "OLD", "label": "Mauve", "retired": True},
            {"code": "O", "label": "Other", "specify": True}]},
    },
    "sections": [
        {"id": "main", "title": "Main", "questions": [
            {"id": "name", "type": "text", "label": "Name", "required": True, "max_length": 10},
            {"id": "story", "type": "long_text", "label": "Story", "min_length": 3},
            {"id": "count", "type": "integer", "label": "Count", "min": 1, "max": 5},
            {"id": "weight", "type": "decimal", "label": "Weight", "min": 0.5},
            {"id": "born", "type": "date", "label": "Born", "not_future": True},
            {"id": "met", "type": "date", "label": "Met", "min_date": "main.born",
             "max_date": "add_days(main.born, 30)", "max_date_message": "Too late."},
            {"id": "colour", "type": "choice", "label": "Colour", "code_list": "colours"},
            {"id": "colours", "type": "multi_choice", "label": "Colours", "code_list": "colours",
             "min_choices": 2, "max_choices": 3},
            {"id": "likes", "type": "yes_no", "label": "Likes it", "required": True},
            {"id": "why", "type": "text", "label": "Why", "required": True,
             "visible_if": "coalesce(main.likes, false)"},
            {"id": "upn", "type": "upn", "label": "UPN"},
            {"id": "uln", "type": "uln", "label": "ULN"},
            {"id": "urn", "type": "urn", "label": "URN"},
            {"id": "ukprn", "type": "ukprn", "label": "UKPRN"},
            {"id": "laestab", "type": "laestab", "label": "LAESTAB"},
            {"id": "la", "type": "la_code", "label": "LA", "required_if": "is_answered(main.urn)"},
            {"id": "who", "type": "person", "label": "Who"},
            {"id": "signed", "type": "agreement", "label": "Signed"},
            {"id": "double", "type": "computed", "label": "Double", "expression": "main.count * 2",
             "value_type": "number"},
            {"id": "wrong", "type": "computed", "label": "Wrong", "expression": "main.name + 1",
             "value_type": "number"},
            {"id": "friends", "type": "group", "label": "Friends",
             "repeat": {"min_items": 1, "max_items": 2, "item_label": "Friend"}, "questions": [
                 {"id": "name", "type": "text", "label": "Friend's name", "required": True},
                 {"id": "close", "type": "yes_no", "label": "Close"},
                 {"id": "since", "type": "date", "label": "Since", "visible_if": "this.close",
                  "required": True}]},
            {"id": "check", "type": "integer", "label": "Check",
             "constraints": [{"check": "main.check > main.count", "message": "Bigger please."}]},
        ]},
        {"id": "goals", "title": "Goals", "repeat": {"min_items": 1, "item_label": "Goal"},
         "constraints": [{"check": "count(goals) < 4", "message": "Three goals at most here."}],
         "questions": [
             {"id": "what", "type": "text", "label": "What", "required": True}]},
        {"id": "plans", "title": "Plans", "repeat": {"min_items": 0, "item_label": "Plan"},
         "questions": [
             {"id": "goals", "type": "multi_choice", "label": "Goals", "choices_from": "goals",
              "required": True, "min_choices": 1}]},
        {"id": "extra", "title": "Extra", "visible_if": "main.count >= 3", "questions": [
            {"id": "note", "type": "text", "label": "Note", "required": True}]},
    ],
}


@pytest.fixture(scope="module")
def definition() -> FormDefinition:
    return build_definition(RAW, "every-type.json")


def valid() -> dict[str, Any]:
    return {
        "main": {"name": "Ann", "likes": False, "friends": [{"name": "Bo"}]},
        "goals": [{"_key": "g1", "what": "Read"}],
        "plans": [{"_key": "p1", "goals": ["g1"]}],
    }


def paths(session: Session) -> dict[str, str]:
    return {p.path: p.kind for p in session.problems}


def test_a_valid_record_is_complete(definition: FormDefinition) -> None:
    session = Session(definition, valid(), TODAY)
    assert session.problems == []
    assert session.is_complete
    assert all(status.complete for status in session.sections)


def test_empty_record_lists_what_is_missing(definition: FormDefinition) -> None:
    session = Session(definition, {}, TODAY)
    assert paths(session) == {"main.name": "missing", "main.likes": "missing",
                              "main.friends": "missing", "goals": "missing"}
    assert not session.is_complete
    assert session.section_status("main").missing == 3
    assert session.section_status("plans").complete
    problem = session.problems[0]
    assert problem.message == "Answer 'Name'."
    assert str(problem) == "main.name: Answer 'Name'."


@pytest.mark.parametrize(
    ("question", "value", "fragment"),
    [
        ("name", "x" * 11, "too long"),
        ("name", 12, "should be text"),
        ("story", "ab", "at least 3"),
        ("count", 0, "from 1 to 5"),
        ("count", 2.5, "whole number"),
        ("count", True, "whole number"),
        ("count", "3", "whole number"),
        ("weight", 0.1, "at least 0.5"),
        ("weight", "heavy", "a number"),
        ("born", "2030-01-01", "cannot be in the future"),
        ("born", "2025-02-30", "real date"),
        ("born", "01/02/2025", "real date"),
        ("born", 20250101, "real date"),
        ("colour", "Z", "Choose from the options"),
        ("colour", "OLD", "no longer used"),
        ("colour", ["R"], "Choose one"),
        ("colours", ["R"], "at least 2"),
        ("colours", ["R", "G", "O", "O"], "more than once"),
        ("colours", "R", "list of choices"),
        ("likes", "yes", "yes or no"),
        ("upn", "A801200001001", "check letter"),
        ("uln", "9999999999", "last digit"),
        ("urn", "12345", "6 digits"),
        ("ukprn", "1234567", "8 digits"),
        ("laestab", "123456", "7 digits"),
        ("la", "999", "not the code"),
        ("upn", 123, "should be text"),
        ("who", "Bo", "expected shape"),
        ("who", {"name": 3}, "expected shape"),
        ("friends", {"name": "x"}, "expected shape"),
        ("friends", ["x"], "expected shape"),
    ],
)
def test_invalid_answers_get_plain_messages(definition: FormDefinition, question: str,
                                            value: Any, fragment: str) -> None:
    answers = valid()
    answers["main"][question] = value
    session = Session(definition, answers, TODAY)
    matching = [p for p in session.problems if p.path == f"main.{question}"]
    assert matching, session.problems
    assert fragment in matching[0].message
    # Too few choices is unfinished rather than wrong.
    assert matching[0].kind == ("missing" if fragment == "at least 2" else "invalid")
    if isinstance(value, str) and len(value) > 3:
        assert value not in matching[0].message


def test_max_choices_and_specify(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["colours"] = ["R", "G", "O", "OLD"]
    assert "no longer used" in Session(definition, answers, TODAY).problems[0].message
    answers["main"]["colours"] = ["R", "G"]
    answers["main"]["colour"] = "O"
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.colour_other": "missing"}
    assert "please say what you mean" in session.problems[0].message
    answers["main"]["colour_other"] = 7
    assert paths(Session(definition, answers, TODAY)) == {"main.colour_other": "invalid"}
    answers["main"]["colour_other"] = "Teal"
    session = Session(definition, answers, TODAY)
    assert session.is_complete
    assert session.exported_answers()["main"]["colour_other"] == "Teal"
    answers["main"]["colour"] = "R"
    session = Session(definition, answers, TODAY)
    assert "colour_other" not in session.exported_answers()["main"]


def test_multiple_choice_with_please_specify(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["colours"] = ["R", "G", "O"]
    assert paths(Session(definition, answers, TODAY)) == {"main.colours_other": "missing"}
    answers["main"]["colours_other"] = "Teal"
    assert Session(definition, answers, TODAY).is_complete
    answers["main"]["colours"] = ["R", "G", "O", "R"]
    assert paths(Session(definition, answers, TODAY)) == {"main.colours": "invalid"}


def test_date_bounds_relative_to_other_answers(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"].update(born="2025-01-10", met="2025-01-01")
    problem = Session(definition, answers, TODAY).problems[0]
    assert (problem.path, problem.message) == ("main.met", "This date is too early.")
    answers["main"]["met"] = "2025-03-01"
    assert Session(definition, answers, TODAY).problems[0].message == "Too late."
    answers["main"]["met"] = "2025-01-20"
    assert Session(definition, answers, TODAY).is_complete
    del answers["main"]["born"]
    assert Session(definition, answers, TODAY).is_complete  # no bound without the other answer


def test_today_bounds_use_the_session_today(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["born"] = "2026-12-01"
    assert not Session(definition, answers, TODAY).is_complete
    assert Session(definition, answers, date(2026, 12, 1)).is_complete


def test_person_and_agreement_fields(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["who"] = {"name": "Dee"}
    answers["main"]["signed"] = {"name": "Dee", "decision": "disagree", "date": "2027-01-01"}
    assert paths(Session(definition, answers, TODAY)) == {
        "main.who.role": "missing", "main.signed.role": "missing",
        "main.signed.date": "invalid", "main.signed.comments": "missing"}
    answers["main"]["signed"] = {"name": "Dee", "role": "Parent", "decision": "maybe",
                                 "date": "yesterday"}
    assert paths(Session(definition, answers, TODAY)) == {
        "main.who.role": "missing", "main.signed.date": "invalid",
        "main.signed.decision": "invalid"}
    answers["main"]["who"] = {"name": "Dee", "role": "Aunt", "organisation": ""}
    answers["main"]["signed"] = {"name": "Dee", "role": "Parent",
                                 "decision": "agree_with_comments", "comments": "More time",
                                 "date": "2026-01-01"}
    assert Session(definition, answers, TODAY).is_complete
    answers["main"]["signed"] = {"name": "Dee", "role": "Parent", "decision": "agree"}
    assert paths(Session(definition, answers, TODAY)) == {"main.signed.date": "missing"}


def test_computed_values_and_broken_rules(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["count"] = 2
    session = Session(definition, answers, TODAY)
    assert session.computed["main.double"] == 4
    assert session.computed["main.wrong"] is MISSING
    assert session.rule_errors  # 'text + 1' is the definition's fault, reported apart
    assert session.is_complete
    assert session.exported_answers()["main"]["double"] == 4


def test_constraints_only_judge_what_is_answered(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["check"] = 1
    assert Session(definition, answers, TODAY).is_complete  # count missing: cannot judge
    answers["main"]["count"] = 2
    problem = Session(definition, answers, TODAY).problems[0]
    assert (problem.path, problem.message, problem.kind) == ("main.check", "Bigger please.",
                                                             "invalid")


def test_required_if(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["urn"] = "100000"
    assert paths(Session(definition, answers, TODAY)) == {"main.la": "missing"}


def test_hidden_answers_are_kept_but_not_exported_or_judged(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["likes"] = True
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.why": "missing"}
    session.set_answer("main.why", "Because")
    assert session.is_complete
    session.set_answer("main.likes", False)
    assert session.is_complete
    assert not session.is_visible("main.why")
    assert session.answers["main"]["why"] == "Because"
    assert "why" not in session.exported_answers()["main"]
    assert session.values["main.why"] is MISSING
    session.set_answer("main.likes", True)
    assert session.exported_answers()["main"]["why"] == "Because"


def test_hidden_sections(definition: FormDefinition) -> None:
    answers = valid()
    answers["extra"] = {"note": "kept"}
    session = Session(definition, answers, TODAY)
    assert "extra" not in [s.id for s in session.visible_sections]
    assert "extra" not in session.exported_answers()
    assert session.is_complete
    session.set_answer("main.count", 3)
    assert session.is_visible("extra")
    assert session.exported_answers()["extra"] == {"note": "kept"}
    assert [q.id for q in session.visible_questions("extra")] == ["note"]


def test_groups_items_and_paths(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["friends"] = [{"name": "Bo"}, {"close": True}, {"name": "Cy"}]
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.friends": "invalid", "main.friends[1].name": "missing",
                              "main.friends[1].since": "missing"}
    assert "at most 2 friends" in session.problems[0].message
    assert session.is_visible("main.friends[1].since")
    assert not session.is_visible("main.friends[0].since")
    session.remove_item("main.friends", 2)
    session.set_answer("main.friends[1].name", "Di")
    session.set_answer("main.friends[1].since", "2020-01-01")
    assert session.is_complete
    keys = [item["_key"] for item in session.answers["main"]["friends"]]
    session.move_item("main.friends", 1, 0)
    assert [item["_key"] for item in session.answers["main"]["friends"]] == keys[::-1]
    index = session.add_item("main.friends")
    assert index == 2
    assert paths(session) == {"main.friends": "invalid", "main.friends[2].name": "missing"}


def test_repeat_sections_links_by_key_survive_reordering(definition: FormDefinition) -> None:
    answers = valid()
    answers["goals"].append({"_key": "g2", "what": "Write"})
    answers["plans"] = [{"goals": ["g2"]}]
    session = Session(definition, answers, TODAY)
    assert session.is_complete
    assert session.answers["plans"][0]["_key"]  # a key is given to an item without one
    session.move_item("goals", 1, 0)
    assert session.is_complete
    session.remove_item("goals", 0)
    assert paths(session) == {"plans[0].goals": "invalid"}
    assert "no longer exists" in session.problems[0].message
    session.set_answer("plans[0].goals", [])
    assert paths(session) == {"plans[0].goals": "missing"}


def test_section_constraints_and_minimum_items(definition: FormDefinition) -> None:
    answers = valid()
    answers["goals"] = [{"_key": f"g{n + 1}", "what": str(n)} for n in range(4)]
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"goals": "invalid"}
    assert session.problems[0].message == "Three goals at most here."
    answers["goals"] = []
    messages = [p.message for p in Session(definition, answers, TODAY).problems]
    assert "Add at least 1 goal." in messages


def test_set_answer_normalises_identifiers_and_checks_paths(definition: FormDefinition) -> None:
    session = Session(definition, valid(), TODAY)
    session.set_answer("main.upn", " h801 2000 01001 ")
    assert session.answers["main"]["upn"] == "H801200001001"
    assert session.exported_answers()["main"]["upn"] == "H801200001001"
    session.set_answer("main.upn", None)
    assert "upn" not in session.answers["main"]
    for bad in ["nowhere.x", "main[0].name", "goals.what", "main", "goals[5].what",
                "main.friends[9].name", "MAIN.name"]:
        with pytest.raises(FormError):
            session.set_answer(bad, "x")
    with pytest.raises(FormError):
        session.add_item("main.name")


def test_stored_identifiers_are_normalised_on_load(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["uln"] = "12345 67899"
    session = Session(definition, answers, TODAY)
    assert session.answers["main"]["uln"] == "1234567899"
    assert answers["main"]["uln"] == "12345 67899"  # the caller's dict is not touched


def test_unknown_answers_are_reported_not_exported(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["mystery"] = 1
    answers["nowhere"] = {}
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.mystery": "invalid", "nowhere": "invalid"}
    exported = session.exported_answers()
    assert "mystery" not in exported["main"]
    assert "nowhere" not in exported


def test_wrong_shapes_never_raise(definition: FormDefinition) -> None:
    shapes: list[dict[str, Any]] = [
        {"main": "x"}, {"main": [1]}, {"goals": {"what": 1}}, {"goals": [1, 2]},
        {"plans": [{"goals": "g1"}]}, {"main": {"friends": [[]]}},
    ]
    for answers in shapes:
        session = Session(definition, answers, TODAY)
        assert not session.is_complete
    with pytest.raises(AnswersError):
        Session(definition, [], TODAY)  # type: ignore[arg-type]


def test_session_defaults_today_to_the_current_date(definition: FormDefinition) -> None:
    assert Session(definition, valid()).today >= TODAY


@pytest.mark.parametrize("value", [10**16, float("inf"), float("nan"), -(10**20)])
def test_absurd_numbers_are_invalid_answers_not_crashes(definition: FormDefinition,
                                                        value: float) -> None:
    answers = valid()
    answers["main"]["count"] = value
    answers["main"]["weight"] = value
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.count": "invalid", "main.weight": "invalid"}
    assert not any(error.startswith("main.count") for error in session.rule_errors)
    assert session.computed["main.double"] is MISSING


def test_choices_offered(definition: FormDefinition) -> None:
    answers = valid()
    answers["goals"].append({"_key": "g2", "what": "  "})
    session = Session(definition, answers, TODAY)
    assert session.choices("main", "colour") == [("R", "Red"), ("G", "Green"), ("O", "Other")]
    assert session.choices("plans", "goals") == [("g1", "Goal 1: Read"), ("g2", "Goal 2")]
    with pytest.raises(FormError):
        session.choices("main", "name")


def test_problems_at_a_path(definition: FormDefinition) -> None:
    answers = valid()
    answers["main"]["friends"] = [{"name": "Bo"}, {"close": True}]
    session = Session(definition, answers, TODAY)
    assert [p.path for p in session.problems_at("main.friends[1]")] == [
        "main.friends[1].name", "main.friends[1].since"]
    assert len(session.problems_at("main")) == 2
    assert session.problems_at("main.friends[1].name")[0].kind == "missing"
    assert session.problems_at("goals") == []


def test_a_hostile_definition_cannot_spin_the_cpu() -> None:
    heavy = " and ".join(["(this.a + 1 > 0 or this.a == 2)"] * 35)
    raw = {"format": 1, "id": "heavy", "version": "1.0.0", "title": "Heavy", "sections": [
        {"id": "many", "title": "Many", "repeat": {}, "questions": [
            {"id": "a", "type": "integer", "label": "A"},
            *({"id": f"q{n}", "type": "text", "label": "Q", "visible_if": heavy}
              for n in range(50))]}]}
    definition = build_definition(raw, "heavy.json")
    session = Session(definition, {"many": [{"a": 1} for _ in range(2000)]}, TODAY)
    assert any("too long to evaluate" in error for error in session.rule_errors)


def test_national_examples_raise_no_rule_errors(national: FormDefinition, example: Any) -> None:
    for name in ["early-years", "primary", "secondary", "post-16", "19-25", "draft"]:
        assert Session(national, example(name), TODAY).rule_errors == []


def test_unknown_answers_inside_items_and_groups(definition: FormDefinition) -> None:
    answers = valid()
    answers["goals"][0]["stray"] = 1
    answers["main"]["friends"][0]["nickname"] = "B"
    session = Session(definition, answers, TODAY)
    assert paths(session) == {"main.friends[0].nickname": "invalid", "goals[0].stray": "invalid"}
    assert "stray" not in session.exported_answers()["goals"][0]


def test_problems_come_in_form_order(definition: FormDefinition) -> None:
    answers = valid()
    answers["goals"] = [{"_key": f"g{n}", "what": "x"} for n in range(1, 5)]
    answers["goals"][0].pop("what")
    answers["main"]["name"] = ""
    answers["nowhere"] = 1
    session = Session(definition, answers, TODAY)
    assert [p.path for p in session.problems] == ["main.name", "goals[0].what", "goals",
                                                  "nowhere"]


def test_set_answer_refuses_what_the_form_does_not_ask(definition: FormDefinition) -> None:
    session = Session(definition, valid(), TODAY)
    for path in ["main.nonsense", "main.double", "main.name_other", "goals[0].nope_other"]:
        with pytest.raises(FormError):
            session.set_answer(path, "x")
    session.set_answer("main.colour_other", "Teal")
    assert session.answers["main"]["colour_other"] == "Teal"
    with pytest.raises(FormError, match="no item 5"):
        session.remove_item("goals", 5)
    with pytest.raises(FormError, match="no item 3"):
        session.move_item("goals", 0, 3)
