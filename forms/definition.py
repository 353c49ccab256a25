"""Building a form definition from JSON, after schema and semantic checks.

``build_definition`` turns a parsed JSON document into a ``FormDefinition`` (``forms.model``)
or raises one ``DefinitionError`` listing every problem with its JSON pointer. Beyond the
schema it checks what a schema cannot (``forms.semantics``): duplicate ids, expressions that do
not parse or refer to answers that do not exist, code lists referenced but missing, unknown
codes in rules, cycles among computed values and visibility rules, and required questions
that can never be shown. The model itself is forms/model.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema

from forms.errors import DefinitionError, ExpressionError
from forms.expressions import Expression, parse
from forms.model import (
    CHOICE_TYPES,
    DEFAULT_MAX_LENGTH,
    OTHER_SUFFIX,
    TEXT_TYPES,
    CodeItem,
    CodeList,
    Constraint,
    Deadline,
    FormDefinition,
    Question,
    Section,
    Unit,
    form_units,
    unit_key,
)
from forms.semantics import Semantics

__all__ = ["build_definition", "definition_schema"]

_APPLIES_TO: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("min", "max"), frozenset({"integer", "decimal"})),
    (("min_length", "max_length"), TEXT_TYPES),
    (("min_choices", "max_choices"), frozenset({"multi_choice"})),
    (("not_future", "min_date", "min_date_message", "max_date", "max_date_message"),
     frozenset({"date"})),
    (("choices_from",), CHOICE_TYPES),
    (("value_type",), frozenset({"computed"})),
)



@functools.cache
def definition_schema() -> dict[str, Any]:
    """The JSON Schema of the definition format, shipped with the package."""
    text = resources.files("forms").joinpath("definition.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _pointer(parts: list[str | int] | Any) -> str:
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out or "/"


class _Builder:
    """Builds the model while collecting every problem, so the user sees them all at once."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        self.code_lists: dict[str, CodeList] = {}

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append(f"{pointer}: {message}")

    def expression(self, pointer: str, source: str | None) -> Expression | None:
        if source is None:
            return None
        try:
            return parse(source)
        except ExpressionError as error:
            self.problem(pointer, str(error))
            return None

    def constraints(self, pointer: str, raw: list[dict[str, Any]]) -> tuple[Constraint, ...]:
        built = []
        for index, item in enumerate(raw):
            check = self.expression(f"{pointer}/{index}/check", item["check"])
            if check is not None:
                built.append(Constraint(check, item["message"]))
        return tuple(built)

    def question(self, pointer: str, raw: dict[str, Any], in_group: bool) -> Question:
        questions: tuple[Question, ...] = ()
        if raw["type"] == "group":
            if in_group:
                self.problem(pointer, "a repeating group cannot contain another repeating group")
            questions = self.questions(f"{pointer}/questions", raw["questions"], True)
        if raw["type"] == "computed" and in_group:
            self.problem(pointer, "computed values belong at the top level of a section")
        code_list = raw.get("code_list")
        if code_list is not None and code_list not in self.code_lists:
            self.problem(f"{pointer}/code_list", f"the code list '{code_list}' is not defined")
        if code_list is not None and raw["type"] not in CHOICE_TYPES:
            self.problem(f"{pointer}/code_list", "only choice questions take a code list")
        repeat = raw.get("repeat", {})
        if repeat and raw["type"] != "group":
            self.problem(f"{pointer}/repeat", "only a group repeats")
        self.applicable(pointer, raw)
        required = bool(raw.get("required", False))
        if required and raw["type"] == "computed":
            self.problem(f"{pointer}/required", "a computed value cannot be required")
        return Question(
            id=raw["id"],
            type=raw["type"],
            label=raw["label"],
            pointer=pointer,
            help=raw.get("help", ""),
            required=required,
            required_if=self.expression(f"{pointer}/required_if", raw.get("required_if")),
            visible_if=self.expression(f"{pointer}/visible_if", raw.get("visible_if")),
            constraints=self.constraints(f"{pointer}/constraints", raw.get("constraints", [])),
            code_list=code_list,
            choices_from=raw.get("choices_from"),
            min=raw.get("min"),
            max=raw.get("max"),
            min_length=raw.get("min_length"),
            max_length=raw.get("max_length", DEFAULT_MAX_LENGTH.get(raw["type"])),
            min_choices=raw.get("min_choices"),
            max_choices=raw.get("max_choices"),
            not_future=bool(raw.get("not_future", False)),
            min_date=self.expression(f"{pointer}/min_date", raw.get("min_date")),
            min_date_message=raw.get("min_date_message"),
            max_date=self.expression(f"{pointer}/max_date", raw.get("max_date")),
            max_date_message=raw.get("max_date_message"),
            questions=questions,
            min_items=repeat.get("min_items", 0),
            max_items=repeat.get("max_items"),
            item_label=repeat.get("item_label", "Item"),
            expression=self.expression(f"{pointer}/expression", raw.get("expression")),
            value_type=raw.get("value_type"),
            returns=tuple(sorted(raw.get("returns", {}).items())),
        )

    def applicable(self, pointer: str, raw: dict[str, Any]) -> None:
        """A property that does not apply to a question's type is a mistake, not a no-op."""
        kind = raw["type"]
        for names, types in _APPLIES_TO:
            for name in names:
                if name in raw and kind not in types:
                    self.problem(f"{pointer}/{name}", f"'{name}' does not apply to a {kind} "
                                 "question")
        for low, high in (("min", "max"), ("min_length", "max_length"),
                          ("min_choices", "max_choices")):
            if low in raw and high in raw and raw[low] > raw[high]:
                self.problem(f"{pointer}/{low}", f"'{low}' is more than '{high}'")
        self.repeat_bounds(f"{pointer}/repeat", raw.get("repeat", {}))

    def repeat_bounds(self, pointer: str, repeat: dict[str, Any]) -> None:
        if repeat.get("min_items", 0) > repeat.get("max_items", 1000):
            self.problem(pointer, "'min_items' is more than 'max_items'")

    def questions(
        self, pointer: str, raw: list[dict[str, Any]], in_group: bool
    ) -> tuple[Question, ...]:
        built = tuple(
            self.question(f"{pointer}/{index}", item, in_group) for index, item in enumerate(raw)
        )
        seen: set[str] = set()
        for question in built:
            if question.id in seen:
                self.problem(question.pointer, f"the question id '{question.id}' is used twice")
            seen.add(question.id)
        for question in built:
            if question.type == "choice" and question.id + OTHER_SUFFIX in seen:
                self.problem(
                    question.pointer,
                    f"the id '{question.id}{OTHER_SUFFIX}' is kept for 'please specify' text",
                )
        return built

    def build(self, source: str) -> FormDefinition:
        raw = self.raw
        for list_id, item in raw.get("code_lists", {}).items():
            items = tuple(
                CodeItem(
                    code=code["code"],
                    label=code["label"],
                    help=code.get("help", ""),
                    specify=bool(code.get("specify", False)),
                    retired=bool(code.get("retired", False)),
                    returns=tuple(sorted(code.get("returns", {}).items())),
                )
                for code in item["items"]
            )
            codes = [code.code for code in items]
            for duplicate in sorted({c for c in codes if codes.count(c) > 1}):
                self.problem(
                    f"/code_lists/{list_id}", f"the code '{duplicate}' is listed twice"
                )
            self.code_lists[list_id] = CodeList(list_id, item["title"], items, item.get("help", ""))
        sections = []
        seen: set[str] = set()
        for index, raw_section in enumerate(raw["sections"]):
            pointer = f"/sections/{index}"
            if raw_section["id"] in seen:
                self.problem(pointer, f"the section id '{raw_section['id']}' is used twice")
            seen.add(raw_section["id"])
            repeat = raw_section.get("repeat")
            self.repeat_bounds(f"{pointer}/repeat", repeat or {})
            sections.append(
                Section(
                    id=raw_section["id"],
                    title=raw_section["title"],
                    questions=self.questions(
                        f"{pointer}/questions", raw_section["questions"], repeat is not None
                    ),
                    pointer=pointer,
                    help=raw_section.get("help", ""),
                    visible_if=self.expression(
                        f"{pointer}/visible_if", raw_section.get("visible_if")
                    ),
                    repeat=repeat is not None,
                    min_items=(repeat or {}).get("min_items", 0),
                    max_items=(repeat or {}).get("max_items"),
                    item_label=(repeat or {}).get("item_label", "Item"),
                    constraints=self.constraints(
                        f"{pointer}/constraints", raw_section.get("constraints", [])
                    ),
                )
            )
        deadlines = []
        for index, item in enumerate(raw.get("deadlines", [])):
            pointer = f"/deadlines/{index}"
            due = self.expression(f"{pointer}/due", item["due"])
            if due is not None:
                deadlines.append(Deadline(
                    id=item["id"], due=due, because=item["because"], pointer=pointer,
                    applies_if=self.expression(f"{pointer}/applies_if", item.get("applies_if")),
                    each=item.get("each"),
                ))
        definition = FormDefinition(
            id=raw["id"],
            version=raw["version"],
            title=raw["title"],
            sections=tuple(sections),
            code_lists=self.code_lists,
            migrations=tuple(raw.get("migrations", [])),
            source=source,
            raw=raw,
            description=raw.get("description", ""),
            deadlines=tuple(deadlines),
        )
        if self.problems:
            raise DefinitionError(source, self.problems)
        Semantics(definition, self.problem).check()
        if self.problems:
            raise DefinitionError(source, self.problems)
        return FormDefinition(
            id=definition.id,
            version=definition.version,
            title=definition.title,
            sections=definition.sections,
            code_lists=definition.code_lists,
            migrations=definition.migrations,
            source=source,
            raw=raw,
            description=definition.description,
            order=_evaluation_order(definition, self),
            deadlines=definition.deadlines,
        )



def _value_dependencies(section: Section, question: Question | None) -> set[str]:
    """Top-level answers that decide a unit's value: its visibility and computed expression."""
    expressions = [section.visible_if]
    if question is not None:
        expressions += [question.visible_if, question.expression]
    inner = section.questions if question is None else question.questions
    expressions += [sub.visible_if for sub in inner]
    keys: set[str] = set()
    for expression in expressions:
        if expression is not None:
            keys.update(".".join(ref) for ref in expression.references if ref[0] != "this")
    return keys



def _evaluation_order(definition: FormDefinition, builder: _Builder) -> tuple[Unit, ...]:
    units = {
        unit_key(section, question): Unit(
            unit_key(section, question),
            section,
            question,
            frozenset(_value_dependencies(section, question)),
        )
        for section, question in form_units(definition)
    }
    order: list[Unit] = []
    state: dict[str, int] = {}  # 1 = being visited, 2 = done
    for start, unit in units.items():
        if state.get(start):
            continue
        # Iterative depth-first search, so a long chain of rules cannot exhaust the stack.
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(unit.depends_on)))]
        state[start] = 1
        while stack:
            key, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                stack.pop()
                state[key] = 2
                order.append(units[key])
                continue
            if following not in units or (following == key and units[key].question is None):
                continue
            if state.get(following) == 1:
                cycle = [k for k, _ in stack]
                cycle = [*cycle[cycle.index(following):], following]
                builder.problem(
                    units[key].section.pointer,
                    "computed values or visibility rules depend on each other in a circle: "
                    + " -> ".join(cycle),
                )
                raise DefinitionError(definition.source, builder.problems)
            if not state.get(following):
                state[following] = 1
                stack.append((following, iter(sorted(units[following].depends_on))))
    return tuple(order)



def build_definition(raw: Any, source: str) -> FormDefinition:
    """Check a parsed definition document against the schema and semantic rules, and build it.

    A document checked once in this process is not checked again: the national service
    publishes the same shipped definitions at every start, and a client meets the same ones at
    every sync. The built definition is immutable and owns its own copy of the document.
    """
    if not isinstance(raw, dict):
        raise DefinitionError(source, ["/: a form definition is a JSON object"])
    try:
        text = json.dumps(raw, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return _checked_and_built(raw, source)  # not JSON: the schema check says where
    return _built_from_text(text, source)


@functools.lru_cache(maxsize=32)
def _built_from_text(text: str, source: str) -> FormDefinition:
    return _checked_and_built(json.loads(text), source)


def _checked_and_built(raw: dict[str, Any], source: str) -> FormDefinition:
    validator = jsonschema.Draft202012Validator(definition_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        problems = [f"{_pointer(e.absolute_path)}: {_schema_message(e)}" for e in errors]
        raise DefinitionError(source, problems[:50])
    return _Builder(raw).build(source)


def _schema_message(error: jsonschema.ValidationError) -> str:
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return message
