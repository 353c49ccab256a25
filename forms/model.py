"""The form definition model: sections, questions, code lists, deadlines and the evaluation
units, as ``forms.definition.build_definition`` builds them (after its schema and semantic
checks) and the engine reads them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from forms.expressions import Expression

TEXT_TYPES = frozenset({"text", "long_text"})
IDENTIFIER_TYPES = frozenset({"upn", "uln", "urn", "ukprn", "laestab", "la_code", "person_key"})
CHOICE_TYPES = frozenset({"choice", "multi_choice"})
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 20000}
KEY_FIELD = "_key"
OTHER_SUFFIX = "_other"


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
            unit_key(section, question) for section, question in form_units(self)
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



def unit_key(section: Section, question: Question | None) -> str:
    """How expressions name a unit: ``section.question``, or a repeating ``section``."""
    return section.id if question is None else f"{section.id}.{question.id}"



def form_units(definition: FormDefinition) -> list[tuple[Section, Question | None]]:
    """The units of a definition in form order: each question, or a repeating section."""
    units: list[tuple[Section, Question | None]] = []
    for section in definition.sections:
        if section.repeat:
            units.append((section, None))
        else:
            units.extend((section, question) for question in section.questions)
    return units

