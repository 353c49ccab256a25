"""The definition format: schema, semantic checks, and the registry of shipped definitions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from forms.definition import build_definition, definition_schema
from forms.errors import DefinitionError, FormError
from forms.registry import list_definitions, load_definition, load_definition_file

MINIMAL: dict[str, Any] = {
    "format": 1,
    "id": "mini",
    "version": "1.0.0",
    "title": "Mini form",
    "code_lists": {"yn": {"title": "Codes", "items": [{"code": "A", "label": "A"},
                                                      {"code": "B", "label": "B"}]}},
    "sections": [
        {"id": "one", "title": "One", "questions": [
            {"id": "pick", "type": "choice", "label": "Pick", "code_list": "yn"},
            {"id": "text", "type": "text", "label": "Text", "required": True,
             "visible_if": "selected(one.pick, 'A')"},
        ]},
    ],
}


def mini(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(MINIMAL)
    raw.update(changes)
    return raw


def questions(*extra: dict[str, Any]) -> dict[str, Any]:
    raw = mini()
    raw["sections"][0]["questions"] += list(extra)
    return raw


def problems_of(raw: Any) -> list[str]:
    with pytest.raises(DefinitionError) as raised:
        build_definition(raw, "test.json")
    assert str(raised.value).startswith("test.json is not a valid form definition")
    return raised.value.problems


def test_minimal_definition_builds() -> None:
    definition = build_definition(mini(), "test.json")
    assert definition.id == "mini"
    assert [unit.key for unit in definition.order] == ["one.pick", "one.text"]


def test_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(definition_schema())


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ([], "/: a form definition is a JSON object"),
        (mini(version="1.0"), "/version"),
        (mini(id="Bad Id"), "/id"),
        (mini(sections=[]), "/sections"),
        (mini(extra=1), "Additional properties"),
        (questions({"id": "q", "type": "colour", "label": "Q"}), "/sections/0/questions/2/type"),
        (questions({"id": "q", "type": "choice", "label": "Q"}), "/sections/0/questions/2"),
        (questions({"id": "q", "type": "computed", "label": "Q"}), "/sections/0/questions/2"),
        (questions({"id": "q", "type": "text", "label": "Q", "questions": []}),
         "/sections/0/questions/2"),
    ],
)
def test_schema_problems_name_a_json_pointer(raw: Any, fragment: str) -> None:
    assert any(fragment in problem for problem in problems_of(raw))


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"id": "pick", "type": "text", "label": "Again"}, "'pick' is used twice"),
        ({"id": "q", "type": "choice", "label": "Q", "code_list": "nope"},
         "code list 'nope' is not defined"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "one.nothing"},
         "'one.nothing' is not a question"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "two.pick"},
         "'two.pick' is not a question"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "this.pick"},
         "'this.pick' is not a question"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "one"},
         "'one' is not a question"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "one.pick =="},
         "expected a value"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "selected(one.pick, 'Z')"},
         "'Z' is not a code of the list 'yn'"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "one.pick == 'Z'"},
         "'Z' is not a code"),
        ({"id": "q", "type": "text", "label": "Q", "required": True, "visible_if": "1 == 2"},
         "never true"),
        ({"id": "q", "type": "text", "label": "Q", "required": True, "visible_if": "false"},
         "never true"),
        ({"id": "q", "type": "computed", "label": "Q", "expression": "one.q + 1",
          "value_type": "number"}, "circle"),
        ({"id": "q", "type": "text", "label": "Q", "visible_if": "is_answered(one.q)"},
         "circle"),
        ({"id": "q", "type": "group", "label": "Q", "questions": [
            {"id": "g", "type": "group", "label": "G", "questions": [
                {"id": "x", "type": "text", "label": "X"}]}]},
         "cannot contain another repeating group"),
        ({"id": "q", "type": "group", "label": "Q", "questions": [
            {"id": "c", "type": "computed", "label": "C", "expression": "1",
             "value_type": "number"}]},
         "computed values belong at the top level"),
        ({"id": "q", "type": "multi_choice", "label": "Q", "choices_from": "one"},
         "not a repeating section or group"),
        ({"id": "q", "type": "text", "label": "Q", "code_list": "yn"},
         "only choice questions take a code list"),
        ({"id": "q", "type": "text", "label": "Q", "repeat": {"min_items": 1}},
         "only a group repeats"),
        ({"id": "q", "type": "computed", "label": "Q", "expression": "1", "value_type": "number",
          "required": True}, "cannot be required"),
        ({"id": "pick_other", "type": "text", "label": "Q"}, "kept for 'please specify'"),
    ],
)
def test_semantic_problems(extra: dict[str, Any], fragment: str) -> None:
    found = problems_of(questions(extra))
    assert any(fragment in problem for problem in found), found
    assert all(problem.startswith("/") for problem in found)


def test_cycle_between_computed_values_is_named() -> None:
    raw = questions(
        {"id": "a", "type": "computed", "label": "A", "expression": "one.b",
         "value_type": "number"},
        {"id": "b", "type": "computed", "label": "B", "expression": "one.a",
         "value_type": "number"},
    )
    (problem,) = problems_of(raw)
    assert "one.a -> one.b -> one.a" in problem


def test_duplicate_sections_and_codes() -> None:
    raw = mini()
    raw["sections"].append(copy.deepcopy(raw["sections"][0]))
    raw["code_lists"]["yn"]["items"].append({"code": "A", "label": "Again"})
    found = problems_of(raw)
    assert any("section id 'one' is used twice" in p for p in found)
    assert any("code 'A' is listed twice" in p for p in found)


def test_this_is_allowed_inside_repeats_only() -> None:
    raw = mini()
    raw["sections"].append({"id": "many", "title": "Many", "repeat": {"min_items": 0},
                            "questions": [
                                {"id": "a", "type": "yes_no", "label": "A"},
                                {"id": "b", "type": "text", "label": "B", "visible_if": "this.a"},
                                {"id": "c", "type": "text", "label": "C",
                                 "visible_if": "count(many) > 1 and selected(one.pick, 'A')"},
                            ]})
    definition = build_definition(raw, "test.json")
    assert definition.sections_by_id["many"].repeat


def test_migration_rules_must_target_this_version() -> None:
    raw = mini(version="1.1.0", migrations=[{"from_version": "1.0.0", "rules": [
        {"rename": "one.old", "to": "one.missing"},
        {"remap": "one.pick", "codes": {"X": "Q"}},
        {"default": "one.pick", "value": "A"},
    ]}, {"from_version": "2.0.0", "rules": []}])
    found = problems_of(raw)
    assert any("'one.missing' is not a question" in p for p in found)
    assert any("'Q' is not a code" in p for p in found)
    assert any("must come from an earlier version" in p for p in found)


def test_error_lists_at_most_a_few_problems_in_its_sentence() -> None:
    raw = questions(*[{"id": f"q{i}", "type": "text", "label": "Q", "visible_if": "x.y"}
                      for i in range(8)])
    with pytest.raises(DefinitionError) as raised:
        build_definition(raw, "test.json")
    assert "(8 problems)" in str(raised.value)
    assert str(raised.value).endswith("; ...")


def test_registry_lists_and_loads_the_national_form() -> None:
    assert ("national-send-assessment", "1.0.0", "National SEND assessment") in list_definitions()
    latest = load_definition("national-send-assessment")
    assert latest.version == "2.0.0"  # what new assessments use
    assert load_definition("national-send-assessment", "2.0.0") is latest
    assert load_definition("national-send-assessment", "1.0.0").version == "1.0.0"


def test_registry_refuses_unknown_forms_and_versions() -> None:
    with pytest.raises(FormError, match="no form called"):
        load_definition("nope")
    with pytest.raises(FormError, match=r"no version '9\.9\.9'"):
        load_definition("national-send-assessment", "9.9.9")


def test_load_definition_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        load_definition_file(broken)
    assert str(broken) in str(raised.value)
    assert "line 1" in str(raised.value)
    with pytest.raises(FormError, match="no such file"):
        load_definition_file(tmp_path / "absent.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DefinitionError, match="not UTF-8"):
        load_definition_file(binary)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(DefinitionError):
        load_definition_file(deep)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert load_definition_file(good).title == "Mini form"


def test_hostile_expressions_in_a_definition_are_refused_cleanly() -> None:
    for hostile in ["(" * 500 + "1" + ")" * 500, "9" * 400, "__import__('os').system('x')",
                    "one.pick.__class__", "+".join(["1"] * 1000)]:
        found = problems_of(questions({"id": "q", "type": "text", "label": "Q",
                                       "visible_if": hostile}))
        assert found


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"id": "q", "type": "text", "label": "Q", "min": 1}, "'min' does not apply to a text"),
        ({"id": "q", "type": "integer", "label": "Q", "not_future": True}, "'not_future'"),
        ({"id": "q", "type": "date", "label": "Q", "max_length": 3}, "'max_length'"),
        ({"id": "q", "type": "choice", "label": "Q", "code_list": "yn", "min_choices": 1},
         "'min_choices'"),
        ({"id": "q", "type": "text", "label": "Q", "value_type": "date"}, "'value_type'"),
        ({"id": "q", "type": "integer", "label": "Q", "min": 5, "max": 1},
         "'min' is more than 'max'"),
        ({"id": "q", "type": "group", "label": "Q", "repeat": {"min_items": 3, "max_items": 2},
          "questions": [{"id": "x", "type": "text", "label": "X"}]},
         "'min_items' is more than 'max_items'"),
        ({"id": "q", "type": "computed", "label": "Q", "value_type": "number",
          "expression": "count_answered(one.pick, 'x')"}, "needs a repeating section"),
    ],
)
def test_properties_must_fit_the_question(extra: dict[str, Any], fragment: str) -> None:
    found = problems_of(questions(extra))
    assert any(fragment in problem for problem in found), found


def test_count_answered_needs_a_field_of_the_group() -> None:
    raw = mini()
    raw["sections"].append({"id": "many", "title": "Many", "repeat": {}, "questions": [
        {"id": "a", "type": "text", "label": "A"}]})
    raw["sections"][0]["questions"].append(
        {"id": "n", "type": "computed", "label": "N", "value_type": "number",
         "expression": "count_answered(many, 'b')"})
    assert any("name of a question" in p for p in problems_of(raw))
    raw["sections"][0]["questions"][-1]["expression"] = "count_answered(many, 'a')"
    assert build_definition(raw, "test.json").sections_by_id["many"].repeat
