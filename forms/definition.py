"""The form definition model, built from JSON after schema and semantic checks.

``build_definition`` turns a parsed JSON document into a ``FormDefinition`` or raises one
``DefinitionError`` listing every problem with its JSON pointer. Beyond the schema it checks
what a schema cannot: duplicate ids, expressions that do not parse or refer to answers that do
not exist, code lists referenced but missing, unknown codes in rules, cycles among computed
values and visibility rules, and required questions that can never be shown.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import jsonschema

from forms.errors import DefinitionError, ExpressionError
from forms.expressions import (
    MISSING,
    Binary,
    Call,
    Context,
    Expression,
    Literal,
    Reference,
    parse,
)

TEXT_TYPES = frozenset({"text", "long_text"})
IDENTIFIER_TYPES = frozenset({"upn", "uln", "urn", "ukprn", "laestab", "la_code", "person_key"})
CHOICE_TYPES = frozenset({"choice", "multi_choice"})
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 20000}
KEY_FIELD = "_key"
OTHER_SUFFIX = "_other"


_APPLIES_TO: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("min", "max"), frozenset({"integer", "decimal"})),
    (("min_length", "max_length"), TEXT_TYPES),
    (("min_choices", "max_choices"), frozenset({"multi_choice"})),
    (("not_future", "min_date", "min_date_message", "max_date", "max_date_message"),
     frozenset({"date"})),
    (("choices_from",), CHOICE_TYPES),
    (("value_type",), frozenset({"computed"})),
)


@dataclass(frozen=True)
class CodeItem:
    code: str
    label: str
    help: str = ""
    specify: bool = False
    retired: bool = False
    returns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CodeList:
    id: str
    title: str
    items: tuple[CodeItem, ...]
    help: str = ""

    @functools.cached_property
    def by_code(self) -> dict[str, CodeItem]:
        return {item.code: item for item in self.items}

    @property
    def offered(self) -> tuple[CodeItem, ...]:
        """The codes a user may choose in a new answer (retired codes are left out)."""
        return tuple(item for item in self.items if not item.retired)


@dataclass(frozen=True)
class Constraint:
    check: Expression
    message: str


@dataclass(frozen=True)
class Question:
    """A question, or a repeatable group of questions, or a computed value."""

    id: str
    type: str
    label: str
    pointer: str
    help: str = ""
    required: bool = False
    required_if: Expression | None = None
    visible_if: Expression | None = None
    constraints: tuple[Constraint, ...] = ()
    code_list: str | None = None
    choices_from: str | None = None
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_choices: int | None = None
    max_choices: int | None = None
    not_future: bool = False
    min_date: Expression | None = None
    min_date_message: str | None = None
    max_date: Expression | None = None
    max_date_message: str | None = None
    questions: tuple[Question, ...] = ()
    min_items: int = 0
    max_items: int | None = None
    item_label: str = "Item"
    expression: Expression | None = None
    value_type: str | None = None
    # The national returns' items this answer feeds, e.g. (("sen2", "Request received date"),).
    returns: tuple[tuple[str, str], ...] = ()

    @property
    def is_group(self) -> bool:
        return self.type == "group"

    @property
    def is_computed(self) -> bool:
        return self.type == "computed"


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]
    pointer: str
    help: str = ""
    visible_if: Expression | None = None
    repeat: bool = False
    min_items: int = 0
    max_items: int | None = None
    item_label: str = "Item"
    constraints: tuple[Constraint, ...] = ()

    @functools.cached_property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}


@dataclass(frozen=True)
class Deadline:
    """A statutory date as data: when ``applies_if`` holds, ``due`` is the date, because of
    the rule ``because`` names. With ``each``, one date per item of that repeating section
    (``this.`` names the item)."""

    id: str
    due: Expression
    because: str
    pointer: str
    applies_if: Expression | None = None
    each: str | None = None


@dataclass(frozen=True)
class Unit:
    """One thing the engine evaluates in dependency order: a question or a repeating section.

    ``key`` is how expressions name it: ``section.question``, or ``section`` when the whole
    section repeats.
    """

    key: str
    section: Section
    question: Question | None
    depends_on: frozenset[str]


@dataclass(frozen=True)
class FormDefinition:
    """A validated form definition, ready for the engine."""

    id: str
    version: str
    title: str
    sections: tuple[Section, ...]
    code_lists: dict[str, CodeList]
    migrations: tuple[dict[str, Any], ...]
    source: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    description: str = ""
    order: tuple[Unit, ...] = field(default=(), repr=False, compare=False)
    deadlines: tuple[Deadline, ...] = ()

    @functools.cached_property
    def sections_by_id(self) -> dict[str, Section]:
        return {s.id: s for s in self.sections}

    @functools.cached_property
    def units(self) -> tuple[Unit, ...]:
        """The units in form order (``order`` is dependency order)."""
        position = {key: index for index, key in enumerate(
            _unit_key(section, question) for section, question in _units(self)
        )}
        return tuple(sorted(self.order, key=lambda unit: position[unit.key]))

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Each unit's place in form order, by key."""
        return {unit.key: index for index, unit in enumerate(self.units)}

    def question(self, section_id: str, question_id: str) -> Question | None:
        """A question of a section, or None."""
        section = self.sections_by_id.get(section_id)
        return section.by_id.get(question_id) if section else None

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return version_tuple(self.version)


def version_tuple(version: str) -> tuple[int, ...]:
    """A semantic version as a tuple that sorts correctly."""
    return tuple(int(part) for part in version.split("."))


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
        _Semantics(definition, self).check()
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


def _expressions_of(question: Question) -> Iterator[tuple[str, Expression]]:
    named = (
        ("visible_if", question.visible_if),
        ("required_if", question.required_if),
        ("min_date", question.min_date),
        ("max_date", question.max_date),
        ("expression", question.expression),
    )
    for name, expression in named:
        if expression is not None:
            yield f"{question.pointer}/{name}", expression
    for index, constraint in enumerate(question.constraints):
        yield f"{question.pointer}/constraints/{index}/check", constraint.check


def _unit_key(section: Section, question: Question | None) -> str:
    return section.id if question is None else f"{section.id}.{question.id}"


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


def _units(definition: FormDefinition) -> list[tuple[Section, Question | None]]:
    units: list[tuple[Section, Question | None]] = []
    for section in definition.sections:
        if section.repeat:
            units.append((section, None))
        else:
            units.extend((section, question) for question in section.questions)
    return units


def _evaluation_order(definition: FormDefinition, builder: _Builder) -> tuple[Unit, ...]:
    units = {
        _unit_key(section, question): Unit(
            _unit_key(section, question),
            section,
            question,
            frozenset(_value_dependencies(section, question)),
        )
        for section, question in _units(definition)
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


class _Semantics:
    """Checks of references, codes and reachability across the whole definition."""

    def __init__(self, definition: FormDefinition, builder: _Builder) -> None:
        self.definition = definition
        self.builder = builder

    def check(self) -> None:
        for section in self.definition.sections:
            if section.visible_if is not None:
                self.expression(f"{section.pointer}/visible_if", section.visible_if, None)
                self.reachable(section.pointer, section.visible_if, section.questions)
            # A section's own rules judge it as a whole, so 'this' has no item to name.
            for index, constraint in enumerate(section.constraints):
                self.expression(f"{section.pointer}/constraints/{index}/check",
                                constraint.check, None)
            siblings = section.by_id if section.repeat else None
            for question in section.questions:
                self.question(question, siblings)
        self.deadlines()
        self.migrations()

    def deadlines(self) -> None:
        """A deadline's rules name answers of the form; with 'each', a repeating section."""
        for deadline in self.definition.deadlines:
            siblings = None
            if deadline.each is not None:
                section = self.definition.sections_by_id.get(deadline.each)
                if section is None or not section.repeat:
                    self.builder.problem(f"{deadline.pointer}/each",
                                         f"'{deadline.each}' is not a repeating section")
                    continue
                siblings = section.by_id
            for name, expression in (("due", deadline.due), ("applies_if", deadline.applies_if)):
                if expression is not None:
                    self.expression(f"{deadline.pointer}/{name}", expression, siblings)

    def migrations(self) -> None:
        """Rules must land answers on questions this version asks, with codes it knows."""
        for index, migration in enumerate(self.definition.migrations):
            if version_tuple(migration["from_version"]) >= self.definition.version_tuple:
                self.builder.problem(f"/migrations/{index}/from_version",
                                     "a migration must come from an earlier version")
            for number, rule in enumerate(migration["rules"]):
                pointer = f"/migrations/{index}/rules/{number}"
                target = rule.get("to") or rule.get("default") or rule.get("remap")
                if target is None:
                    continue
                section_id, _, question_id = target.partition(".")
                section = self.definition.sections_by_id.get(section_id)
                question = section.by_id.get(question_id) if section else None
                if question is None:
                    self.builder.problem(pointer, f"'{target}' is not a question of this form")
                elif "remap" in rule:
                    codes = self.definition.code_lists.get(question.code_list or "")
                    known = set(codes.by_code) if codes else set()
                    unknown = sorted(set(rule["codes"].values()) - known)
                    if unknown:
                        self.builder.problem(
                            pointer, f"'{unknown[0]}' is not a code of the question's list"
                        )

    def question(self, question: Question, siblings: dict[str, Question] | None) -> None:
        for pointer, expression in _expressions_of(question):
            self.expression(pointer, expression, siblings)
        if question.visible_if is not None:
            self.reachable(question.pointer, question.visible_if, (question,))
        if question.choices_from is not None:
            self.choices_from(question)
        if question.is_group:
            inner = {q.id: q for q in question.questions}
            for sub in question.questions:
                self.question(sub, inner)

    def choices_from(self, question: Question) -> None:
        target = question.choices_from or ""
        section_id, _, group_id = target.partition(".")
        section = self.definition.sections_by_id.get(section_id)
        ok = section is not None and (
            (not group_id and section.repeat)
            or (bool(group_id) and group_id in section.by_id and section.by_id[group_id].is_group)
        )
        if not ok:
            self.builder.problem(
                f"{question.pointer}/choices_from",
                f"'{target}' is not a repeating section or group",
            )

    def reachable(
        self, pointer: str, expression: Expression, questions: tuple[Question, ...]
    ) -> None:
        """A required question whose visibility rule is always false can never be answered."""
        if expression.references or "today" in expression.functions:
            return
        try:
            shown = expression.evaluate(Context({}, _EPOCH))
        except ExpressionError:
            return
        if shown is MISSING or not shown:
            required = [q for q in questions if q.required]
            if required:
                self.builder.problem(
                    f"{pointer}/visible_if",
                    "this rule is never true, so a required question can never be shown",
                )

    def expression(
        self, pointer: str, expression: Expression, siblings: dict[str, Question] | None
    ) -> None:
        for ref in sorted(expression.references):
            target = self.resolve(ref, siblings)
            if target is None:
                self.builder.problem(pointer, f"'{'.'.join(ref)}' is not a question of this form")
        for node in expression.nodes():
            self.codes(pointer, node, siblings)

    def resolve(
        self, ref: tuple[str, ...], siblings: dict[str, Question] | None
    ) -> Question | Section | None:
        if ref[0] == "this":
            return None if siblings is None else siblings.get(ref[1])
        section = self.definition.sections_by_id.get(ref[0])
        if section is None:
            return None
        if len(ref) == 1:
            return section if section.repeat else None
        if section.repeat:
            return None
        return section.by_id.get(ref[1])

    def codes(self, pointer: str, node: Any, siblings: dict[str, Question] | None) -> None:
        """A rule that compares a coded answer with a code not in its list can never be true."""
        if isinstance(node, Call) and node.name in ("count_answered", "count_where"):
            self.item_field(pointer, node, siblings)
        pairs: list[tuple[Any, Any]] = []
        if isinstance(node, Call) and node.name == "selected":
            pairs.append((node.args[0], node.args[1]))
        if isinstance(node, Binary) and node.op in ("==", "!="):
            pairs += [(node.left, node.right), (node.right, node.left)]
        for ref, literal in pairs:
            if not (isinstance(ref, Reference) and isinstance(literal, Literal)):
                continue
            target = self.resolve(ref.parts, siblings)
            if not isinstance(target, Question) or target.code_list is None:
                continue
            codes = self.definition.code_lists.get(target.code_list)
            if codes is not None and literal.value not in codes.by_code:
                self.builder.problem(
                    pointer,
                    f"'{literal.value}' is not a code of the list '{target.code_list}'",
                )


    def item_field(self, pointer: str, node: Call, siblings: dict[str, Question] | None) -> None:
        group, name = node.args[0], node.args[1]
        function = node.name
        target = self.resolve(group.parts, siblings) if isinstance(group, Reference) else None
        if isinstance(target, Section) and target.repeat:
            fields = set(target.by_id)
        elif isinstance(target, Question) and target.is_group:
            fields = {q.id for q in target.questions}
        else:
            self.builder.problem(pointer, f"{function}() needs a repeating section or group")
            return
        if not isinstance(name, Literal) or name.value not in fields:
            self.builder.problem(pointer, f"{function}() needs the name of a question "
                                 "in that section or group, in quotes")
            return
        if function == "count_where":
            inner = target.by_id if isinstance(target, Section) else {
                q.id: q for q in target.questions}
            question = inner[name.value]
            code = node.args[2]
            codes = self.definition.code_lists.get(question.code_list or "")
            if codes is None or not isinstance(code, Literal) or code.value not in codes.by_code:
                self.builder.problem(pointer, "count_where() needs a code of that question's "
                                     "list, in quotes")


_EPOCH = date(2000, 1, 1)


def build_definition(raw: Any, source: str) -> FormDefinition:
    """Check a parsed definition document against the schema and semantic rules, and build it."""
    if not isinstance(raw, dict):
        raise DefinitionError(source, ["/: a form definition is a JSON object"])
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
