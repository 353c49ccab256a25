"""The engine: judges an answers document against a form definition.

A ``Session`` holds one assessment's answers and, after every edit, says which sections and
questions are visible, what is computed, which required answers are missing and which answers
are invalid and why (each with its field path, e.g. ``outcomes[2].by_when``), how complete
each section is, and what may be exported. Answers to hidden questions are kept, so toggling
back restores them, but they count as unanswered in rules and are left out of the export.

Answers are ``{section_id: {question_id: value}}``. A repeating section's value is a list of
item dicts; so is a repeating group's. Every item carries a stable ``_key`` so that other
answers (a provision item's outcomes) can link to it and items can be reordered safely. A
choice whose code asks to "please specify" keeps its text beside it as ``<question>_other``.

After an edit a session re-evaluates only what the edit reaches: the unit (question, or
repeating section) whose answers changed, or only the item edited inside a repeating section
or group, then whatever names a value that changed (each rule names its inputs, so the
definition gives the dependency graph); everything else is kept from the last pass. What it
says is always exactly what a session built afresh from the same answers would say.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from forms import validators
from forms.errors import AnswersError, ExpressionError, FormError
from forms.expressions import MAX_MAGNITUDE, MISSING, Context, Expression, truth
from forms.model import (
    CHOICE_TYPES,
    IDENTIFIER_TYPES,
    KEY_FIELD,
    OTHER_SUFFIX,
    TEXT_TYPES,
    FormDefinition,
    Question,
    Section,
    Unit,
)
from forms.paths import parse_answer_path
from forms.registry import Catalogue, load_definition

MISSING_KIND = "missing"
INVALID_KIND = "invalid"
# A date that is not a real one, in the stored form's words (a JSON file holds year-month-day);
# the window says it in its date box's own format (ui.form.navigation.as_shown).
NOT_A_REAL_DATE = "Enter a real date as year-month-day, such as 2025-09-01."

_IDENTIFIER_CHECKS = {
    "upn": validators.check_upn,
    "uln": validators.check_uln,
    "urn": validators.check_urn,
    "ukprn": validators.check_ukprn,
    "laestab": validators.check_laestab,
    "la_code": validators.check_la_code,
    "person_key": validators.check_person_key,
}
AGREEMENT_DECISIONS = {
    "agree": "Agree",
    "agree_with_comments": "Agree, with comments",
    "disagree": "Disagree, with reasons",
}


def _today() -> date:
    return datetime.now(tz=UTC).date()


@dataclass(frozen=True)
class Problem:
    """A missing or invalid answer: where it is and what to do, in plain English."""

    path: str
    message: str
    kind: str
    section: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class SectionStatus:
    """How far a section has got: visible or not, and its missing and invalid answers."""

    id: str
    title: str
    visible: bool
    missing: int
    invalid: int

    @property
    def complete(self) -> bool:
        return self.missing == 0 and self.invalid == 0


@dataclass(frozen=True)
class DueDate:
    """A statutory date that applies to the record on its own answers, and the rule behind it.

    ``path`` names the repeat item it belongs to (``advice[1]``), or is empty.
    """

    id: str
    due: date
    because: str
    path: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"id": self.id, "due": self.due.isoformat(), "because": self.because}
        if self.path:
            out["path"] = self.path
        return out


@dataclass
class _Judged:
    """What one evaluation pass found; replaced wholesale after every edit."""

    values: dict[str, Any] = field(default_factory=dict)
    visible_sections: set[str] = field(default_factory=set)
    visible: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    rule_errors: list[str] = field(default_factory=list)
    deadlines: list[DueDate] = field(default_factory=list)


def _answered(value: Any) -> bool:
    """Whether a raw answer says anything; one level deep, so odd input cannot recurse."""
    if value is None:
        return False
    if type(value) is str or isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(v is not None and not (isinstance(v, str) and not v.strip())
                   for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return True


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _copied(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """``copy.deepcopy`` of answers, quicker for what answers are made of (dicts, lists and
    JSON scalars); a container met twice is copied once, as deepcopy does."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if memo is None:
        memo = {}
    if kind is dict or kind is list:
        done = memo.get(id(value))
        if done is not None:
            return done
        if kind is dict:
            out: Any = {}
            memo[id(value)] = out
            for key, inner in value.items():
                out[key] = inner if type(inner) in _SCALARS else _copied(inner, memo)
        else:
            out = []
            memo[id(value)] = out
            out.extend(inner if type(inner) in _SCALARS else _copied(inner, memo)
                       for inner in value)
        return out
    return copy.deepcopy(value, memo)


def _plain_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_MAGNITUDE
    )


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class Session:
    """One assessment's answers judged against a definition; cheap to re-run on every edit."""

    def __init__(
        self, definition: FormDefinition, answers: dict[str, Any] | None = None,
        today: date | None = None, *, borrowed: bool = False,
    ) -> None:
        """With ``borrowed`` (a session judged once and never edited or read back, as
        ``verdict_for`` makes), the caller's answers are judged in place when they need no
        normalising; the caller must not change them while the session lives."""
        if answers is not None and not isinstance(answers, dict):
            raise AnswersError("The answers must be a JSON object of sections.")
        self.definition = definition
        self.today = today or _today()
        if borrowed and answers is not None and not self._needs_normalising(answers):
            # A one-off verdict (verdict_for): the pass only reads the answers, and nothing
            # would be normalised in them, so they are judged where they are, not copied.
            self._answers: dict[str, Any] = answers
        else:
            self._answers = _copied(answers or {})
            self._normalise()
        # What the last pass found, and what has been edited since (the next pass reuses
        # everything else: an edit re-evaluates only what depends on the changed answer).
        self._last: _Evaluation | None = None
        self._dirty: set[str] = set()
        self._dirty_sections: set[str] = set()
        self._dirty_items: dict[str, set[int]] = {}  # units edited inside some items only
        self._edited = False
        self._judged = self._evaluate()

    # --- reading --------------------------------------------------------------------------

    @property
    def answers(self) -> dict[str, Any]:
        """Everything entered, hidden answers included (a copy)."""
        copied: dict[str, Any] = _copied(self._answers)
        return copied

    def answer(self, path: str) -> Any:
        """A copy of the raw answer stored at a question path, or None (no copy of the rest)."""
        section, index, question, qindex, sub = self._locate(path)
        container: Any = self._answers.get(section)
        for key in (index, question, qindex, sub):
            if key is None:
                continue
            if isinstance(key, int):
                container = container[key] if isinstance(container, list) and \
                    0 <= key < len(container) else None
            else:
                container = container.get(key) if isinstance(container, dict) else None
        return _copied(container)

    def item_count(self, path: str) -> int:
        """How many items a repeating section or group holds (without copying them)."""
        section, index, question, _qindex, _sub = self._locate(path)
        raw: Any = self._answers.get(section)
        if question is not None:
            if index is not None:
                raw = raw[index] if isinstance(raw, list) and 0 <= index < len(raw) else None
            raw = raw.get(question) if isinstance(raw, dict) else None
        return len(raw) if isinstance(raw, list) else 0

    def has_section_answers(self, section_id: str) -> bool:
        """Whether the answers hold anything (even an empty object) for a section."""
        return section_id in self._answers

    def drop_empty_section(self, section_id: str) -> None:
        """Forget a section's answers if they are an empty object or list (after an undo)."""
        if self._answers.get(section_id, None) in ({}, []):
            self._touch(section_id, None)
            del self._answers[section_id]
            self._judged = self._evaluate()

    def first_answers(self, section_id: str, names: tuple[str, ...]) -> dict[str, Any]:
        """Some answers of a non-repeating section, without copying the record (for titles)."""
        raw = self._answers.get(section_id)
        if not isinstance(raw, dict):
            return {}
        return {name: raw.get(name) for name in names}

    @property
    def values(self) -> dict[str, Any]:
        """Effective typed values by ``section.question`` (hidden or invalid are MISSING)."""
        return dict(self._judged.values)

    @property
    def computed(self) -> dict[str, Any]:
        """The computed values, by ``section.question``."""
        values = self._judged.values
        return {key: values.get(key, MISSING) for key in _plan(self.definition).computed}

    @property
    def problems(self) -> list[Problem]:
        """Missing and invalid answers, in form order."""
        return list(self._judged.problems)

    @property
    def rule_errors(self) -> list[str]:
        """Rules of the definition that could not be evaluated (a fault of the definition)."""
        return list(self._judged.rule_errors)

    @property
    def visible_sections(self) -> list[Section]:
        return [s for s in self.definition.sections if s.id in self._judged.visible_sections]

    def visible_questions(self, section_id: str, index: int | None = None) -> list[Question]:
        """Visible questions of a section (of one item, for a repeating section)."""
        section = self.definition.sections_by_id[section_id]
        prefix = section_id if index is None else f"{section_id}[{index}]"
        return [q for q in section.questions if self.is_visible(f"{prefix}.{q.id}")]

    def is_visible(self, path: str) -> bool:
        """Whether a section, question or item field (by path) is shown."""
        if path in self._judged.visible_sections:
            return True
        return path in self._judged.visible

    def section_status(self, section_id: str) -> SectionStatus:
        section = self.definition.sections_by_id[section_id]
        problems = [p for p in self._judged.problems if p.section == section_id]
        return SectionStatus(
            id=section.id,
            title=section.title,
            visible=section_id in self._judged.visible_sections,
            missing=sum(p.kind == MISSING_KIND for p in problems),
            invalid=sum(p.kind == INVALID_KIND for p in problems),
        )

    @property
    def sections(self) -> list[SectionStatus]:
        """Every section's status (as ``section_status``), the problems counted in one pass."""
        missing: dict[str, int] = {}
        invalid: dict[str, int] = {}
        for problem in self._judged.problems:
            if problem.kind == MISSING_KIND:
                missing[problem.section] = missing.get(problem.section, 0) + 1
            elif problem.kind == INVALID_KIND:
                invalid[problem.section] = invalid.get(problem.section, 0) + 1
        visible = self._judged.visible_sections
        return [SectionStatus(s.id, s.title, s.id in visible, missing.get(s.id, 0),
                              invalid.get(s.id, 0)) for s in self.definition.sections]

    @property
    def deadlines(self) -> list[DueDate]:
        """The statutory dates that apply to this record, earliest first."""
        return list(self._judged.deadlines)

    @property
    def is_complete(self) -> bool:
        """Every required answer given and every answer valid."""
        return not self._judged.problems

    def problems_at(self, path: str) -> list[Problem]:
        """Problems of one field, or of everything under a section, item or group path."""
        return [
            p for p in self._judged.problems
            if p.path == path or p.path.startswith((f"{path}.", f"{path}["))
        ]

    def choices(self, section_id: str, question_id: str,
                sub_id: str | None = None) -> list[tuple[str, str]]:
        """The (code, label) pairs a choice question offers now; retired codes left out.

        For a question whose choices are the items of a repeating section or group (a
        provision item's outcomes), the codes are the items' keys and the labels name them
        by number and first answer, for example "Outcome 2: Sam will ask for help".
        """
        question = self._question_for(section_id, question_id, sub_id)
        if question is None or question.type not in CHOICE_TYPES:
            raise FormError(f"'{section_id}.{question_id}' is not a choice question.")
        if question.choices_from is not None:
            # Every provision item asks for the same outcomes: work them out once per change.
            key = (question.choices_from, question.code_list)
            memo = self._choices_memo.get(key)
            if memo is None:
                memo = self._choices_memo[key] = self._item_choices(question)
            return list(memo)
        codes = self.definition.code_lists[question.code_list or ""]
        return [(item.code, item.label) for item in codes.offered]

    def _item_choices(self, question: Question) -> list[tuple[str, str]]:
        if question.code_list is not None:
            codes = self.definition.code_lists[question.code_list]
            return [(item.code, item.label) for item in codes.offered]
        parsed = parse_answer_path(question.choices_from or "")
        if parsed is None:
            return []  # never: the definition's checks made sure it names items
        target, group_id = parsed.section, parsed.question
        source = self.definition.sections_by_id[target]
        items = self._answers.get(target)
        fields = source.questions
        label = source.item_label
        if group_id:
            group = source.by_id[group_id]
            fields, label = group.questions, group.item_label
            items = items.get(group_id) if isinstance(items, dict) else None
        offered = []
        for number, item in enumerate(items if isinstance(items, list) else [], start=1):
            if not isinstance(item, dict) or not isinstance(item.get(KEY_FIELD), str):
                continue
            text = next((item[q.id] for q in fields if q.type in TEXT_TYPES
                         and isinstance(item.get(q.id), str) and item[q.id].strip()), "")
            shown = f"{label} {number}: {text.strip()}" if text else f"{label} {number}"
            offered.append((item[KEY_FIELD], shown[:120]))
        return offered

    # --- editing --------------------------------------------------------------------------

    def set_answer(self, path: str, value: Any) -> None:
        """Store one answer (identifiers normalised) and judge the record again."""
        section, index, question, qindex, sub = self._locate(path)
        name = sub or question
        if name is None:
            raise FormError(f"The path '{path}' does not name a question.")
        meta = self._question_for(section, question, sub)
        if meta is None and name.endswith(OTHER_SUFFIX):
            base_name = name.removesuffix(OTHER_SUFFIX)
            base = (self._question_for(section, base_name, None) if sub is None
                    else self._question_for(section, question, base_name))
            if base is None or base.type not in CHOICE_TYPES:
                raise FormError(f"The path '{path}' does not name a question of this form.")
        elif meta is None:
            raise FormError(f"The path '{path}' does not name a question of this form.")
        elif meta.is_computed:
            raise FormError(f"'{path}' is worked out by the form and cannot be set.")
        self._touch(section, question, index if index is not None else (
            qindex if sub is not None else None))
        target = self._container(section, index, question, qindex)
        if meta is not None and meta.type in IDENTIFIER_TYPES and isinstance(value, str):
            value = validators.normalise_identifier(value)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = _copied(value)
        self._judged = self._evaluate()

    def add_item(self, path: str) -> int:
        """Append an empty item to a repeating section or group; returns its index."""
        items = self._items(path)
        items.append({KEY_FIELD: self._new_key(path, items)})
        self._judged = self._evaluate()
        return len(items) - 1

    def remove_item(self, path: str, index: int) -> None:
        items = self._items(path)
        if not 0 <= index < len(items):
            raise FormError(f"There is no item {index} in '{path}'.")
        del items[index]
        self._judged = self._evaluate()

    def move_item(self, path: str, index: int, to: int) -> None:
        """Reorder items; links to them are by key, so nothing else changes."""
        items = self._items(path)
        if not (0 <= index < len(items) and 0 <= to < len(items)):
            raise FormError(f"There is no item {max(index, to)} in '{path}'.")
        items.insert(to, items.pop(index))
        self._judged = self._evaluate()

    def exported_answers(self) -> dict[str, Any]:
        """The answers to send: visible questions only, with computed values, in ISO form."""
        out: dict[str, Any] = {}
        values = self._judged.values
        for section in self.definition.sections:
            if section.id not in self._judged.visible_sections:
                continue
            raw = self._answers.get(section.id)
            if section.repeat:
                if isinstance(raw, list):
                    out[section.id] = [
                        self._export_item(section.questions, item, f"{section.id}[{i}]")
                        for i, item in enumerate(raw)
                        if isinstance(item, dict)
                    ]
                continue
            raw = raw if isinstance(raw, dict) else {}
            exported: dict[str, Any] = {}
            for question in section.questions:
                path = f"{section.id}.{question.id}"
                if path not in self._judged.visible:
                    continue
                if question.is_computed:
                    value = values.get(path, MISSING)
                    if value is not MISSING:
                        exported[question.id] = _json_value(value)
                    continue
                self._export_answer(question, raw, exported, path)
            if exported:
                out[section.id] = exported
        return out

    # --- internals ------------------------------------------------------------------------

    def _export_item(self, questions: tuple[Question, ...], item: dict[str, Any],
                     prefix: str) -> dict[str, Any]:
        exported: dict[str, Any] = {}
        if KEY_FIELD in item:
            exported[KEY_FIELD] = item[KEY_FIELD]
        for question in questions:
            path = f"{prefix}.{question.id}"
            if path in self._judged.visible:
                self._export_answer(question, item, exported, path)
        return exported

    def _export_answer(self, question: Question, raw: dict[str, Any], out: dict[str, Any],
                       path: str) -> None:
        value = raw.get(question.id)
        if not _answered(value):
            return
        if question.is_group and isinstance(value, list):
            out[question.id] = [
                self._export_item(question.questions, item, f"{path}[{i}]")
                for i, item in enumerate(value)
                if isinstance(item, dict)
            ]
            return
        out[question.id] = copy.deepcopy(value)
        other = raw.get(question.id + OTHER_SUFFIX)
        if question.type in CHOICE_TYPES and _answered(other) and self._specified(question, value):
            out[question.id + OTHER_SUFFIX] = other

    def _specified(self, question: Question, value: Any) -> bool:
        codes = self.definition.code_lists.get(question.code_list or "")
        if codes is None:
            return False
        chosen = value if isinstance(value, list) else [value]
        return any(
            isinstance(c, str) and c in codes.by_code and codes.by_code[c].specify for c in chosen
        )

    def _locate(self, path: str) -> tuple[str, int | None, str | None, int | None, str | None]:
        parsed = parse_answer_path(path) if isinstance(path, str) else None
        if parsed is None or parsed.section not in self.definition.sections_by_id:
            raise FormError(f"The path '{path}' does not name a question of this form.")
        section = self.definition.sections_by_id[parsed.section]
        if section.repeat != (parsed.item is not None) and parsed.question is not None:
            raise FormError(f"The path '{path}' does not match the shape of the form.")
        return parsed.section, parsed.item, parsed.question, parsed.group_item, parsed.field

    def _question_for(self, section_id: str, question_id: str | None,
                      sub: str | None) -> Question | None:
        section = self.definition.sections_by_id.get(section_id)
        if section is None:
            return None
        question = section.by_id.get(question_id or "")
        if question is not None and sub is not None:
            return next((q for q in question.questions if q.id == sub), None)
        return question

    def _container(self, section: str, index: int | None, question: str | None,
                   qindex: int | None) -> dict[str, Any]:
        if index is not None:
            items = self._answers.setdefault(section, [])
            if not isinstance(items, list) or index >= len(items):
                raise FormError(f"There is no item {index} in '{section}'.")
            target = items[index]
        else:
            target = self._answers.setdefault(section, {})
        if not isinstance(target, dict):
            raise FormError(f"The answers of '{section}' are not in the expected shape.")
        if qindex is not None and question is not None:
            items = target.get(question)
            if not isinstance(items, list) or qindex >= len(items):
                raise FormError(f"There is no item {qindex} in '{section}.{question}'.")
            target = items[qindex]
            if not isinstance(target, dict):
                raise FormError(f"The answers of '{section}.{question}' are not in the "
                                "expected shape.")
        return target

    def _items(self, path: str) -> list[Any]:
        section, index, question, qindex, sub = self._locate(path)
        self._touch(section, question)
        meta = self.definition.sections_by_id[section]
        if question is None and meta.repeat:
            items = self._answers.setdefault(section, [])
        else:
            group = meta.by_id.get(question or "")
            if group is None or not group.is_group or qindex is not None or sub is not None:
                raise FormError(f"'{path}' is not a repeating section or group.")
            container = self._container(section, index, None, None)
            items = container.setdefault(group.id, [])
        if not isinstance(items, list):
            raise FormError(f"The answers of '{path}' are not a list of items.")
        return items

    @staticmethod
    def _new_key(path: str, items: list[Any]) -> str:
        used = {item.get(KEY_FIELD) for item in items if isinstance(item, dict)}
        stem = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
        number = len(items) + 1
        while f"{stem}-{number}" in used:
            number += 1
        return f"{stem}-{number}"

    def _normalise(self) -> None:
        """Give every repeat item a key and store identifiers normalised."""
        for section in self.definition.sections:
            raw = self._answers.get(section.id)
            if section.repeat:
                if isinstance(raw, list):
                    self._normalise_items(section.id, section.questions, raw)
            elif isinstance(raw, dict):
                self._normalise_answers(section.id, section.questions, raw)

    def _needs_normalising(self, answers: dict[str, Any]) -> bool:
        """Whether ``_normalise`` would change anything in these answers (read only)."""
        for section in _plan(self.definition).normalising:
            raw = answers.get(section.id)
            if section.repeat:
                if isinstance(raw, list) and self._items_need(section.questions, raw):
                    return True
            elif isinstance(raw, dict) and self._answers_need(section.questions, raw):
                return True
        return False

    def _items_need(self, questions: tuple[Question, ...], items: list[Any]) -> bool:
        for item in items:
            if isinstance(item, dict):
                key = item.get(KEY_FIELD)
                if not isinstance(key, str) or not key or self._answers_need(questions, item):
                    return True
        return False

    def _answers_need(self, questions: tuple[Question, ...], raw: dict[str, Any]) -> bool:
        for question in _plan(self.definition).normalised[id(questions)]:
            value = raw.get(question.id)
            if question.type in IDENTIFIER_TYPES and isinstance(value, str):
                if validators.normalise_identifier(value) != value:
                    return True
            elif question.is_group and isinstance(value, list) and \
                    self._items_need(question.questions, value):
                return True
        return False

    def _normalise_items(self, path: str, questions: tuple[Question, ...],
                         items: list[Any]) -> None:
        for item in items:
            if isinstance(item, dict):
                if not isinstance(item.get(KEY_FIELD), str) or not item[KEY_FIELD]:
                    item[KEY_FIELD] = self._new_key(path, items)
                self._normalise_answers(path, questions, item)

    def _normalise_answers(self, path: str, questions: tuple[Question, ...],
                           raw: dict[str, Any]) -> None:
        for question in _plan(self.definition).normalised[id(questions)]:
            value = raw.get(question.id)
            if question.type in IDENTIFIER_TYPES and isinstance(value, str):
                raw[question.id] = validators.normalise_identifier(value)
            elif question.is_group and isinstance(value, list):
                self._normalise_items(f"{path}.{question.id}", question.questions, value)

    # --- evaluation -----------------------------------------------------------------------

    def _touch(self, section_id: str, question_id: str | None, item: int | None = None) -> None:
        """Note, before an edit, which answers it changes: the next pass works them out. With
        ``item``, the edit is inside that item of a repeating section or group (its items
        stay where they are, so the others' findings still hold)."""
        self._dirty_sections.add(section_id)
        section = self.definition.sections_by_id.get(section_id)
        base = (question_id or "").removesuffix(OTHER_SUFFIX)
        keys = [section_id] if section is not None and section.repeat else [
            f"{section_id}.{question_id}", f"{section_id}.{base}"]
        for key in keys:
            if key in self.definition.position:
                if item is None:
                    self._dirty.add(key)
                else:
                    self._dirty_items.setdefault(key, set()).add(item)
                return
        self._dirty.update(_plan(self.definition).units_of.get(section_id, ()))

    def _evaluate(self) -> _Judged:
        self._choices_memo: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        evaluation = _Evaluation(self.definition, self._answers, self.today,
                                 previous=self._last, dirty=frozenset(self._dirty),
                                 dirty_sections=frozenset(self._dirty_sections),
                                 dirty_items={key: frozenset(items) for key, items
                                              in self._dirty_items.items()})
        # A session judged once and never edited (a verdict) keeps nothing for a next pass;
        # from the first edit on, each pass keeps what the next can reuse.
        judged = evaluation.run(record=self._edited)
        self._last = evaluation if self._edited else None
        self._edited = True
        self._dirty.clear()
        self._dirty_sections.clear()
        self._dirty_items.clear()
        return judged


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Whether two typed values are equal in kind as well as value (1 is not True, 1.0)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


_NOT_PLAIN = frozenset({"computed", "group"})  # question types value_of works out its own way
_NEVER = 2**62  # more than any budget: a record that overran it is never reused


def _spent(before: int, after: int) -> int:
    """The budget a record used, which a pass reusing it must have left; a record during which
    the budget ran out is never reused (where the overrun fell depended on the exact budget),
    so its cost is put past any budget."""
    return before - after if after >= 0 else _NEVER


def _outer_refs(expressions: list[Expression | None]) -> set[str]:
    """The answers (``section.question`` or a repeating ``section``) expressions name, other
    than the current item's (``this.``)."""
    return {".".join(ref) for expression in expressions if expression is not None
            for ref in expression.references if ref[0] != "this"}


def _check_dependencies(unit: Unit) -> frozenset[str]:
    """What a unit's checks read beyond its own value and answers: the answers its rules name
    (required_if, constraints, date limits, its items' too) and the items it links to."""
    questions = unit.section.questions if unit.question is None else (
        unit.question, *unit.question.questions)
    expressions: list[Expression | None] = []
    keys: set[str] = set()
    for question in questions:
        expressions += [question.required_if, question.min_date, question.max_date]
        expressions += [constraint.check for constraint in question.constraints]
        if question.choices_from is not None:
            keys.add(question.choices_from)
    return frozenset(keys | _outer_refs(expressions))


class _Plan:
    """What the engine works out once per definition: each unit's dependencies, the first
    unit of each section (where its visibility is decided), known names, section ranks."""

    def __init__(self, definition: FormDefinition) -> None:
        self.check_depends_on = {unit.key: _check_dependencies(unit) for unit in definition.order}
        self.section_depends_on = {
            section.id: frozenset(_outer_refs([c.check for c in section.constraints]))
            for section in definition.sections}
        self.units_of: dict[str, list[str]] = {}
        for unit in definition.order:
            self.units_of.setdefault(unit.section.id, []).append(unit.key)
        self.rank = {section.id: index for index, section in enumerate(definition.sections)}
        self.groups = {section.id: tuple(q for q in section.questions if q.is_group)
                       for section in definition.sections}
        self.computed = tuple(unit.key for unit in definition.order
                              if unit.question is not None and unit.question.is_computed)
        # The pass's pending checks come in dependency order, one per unit that is not
        # computed; their order in the form is this fixed permutation of them.
        checked = [unit for unit in definition.order
                   if unit.question is None or not unit.question.is_computed]
        self.check_order = tuple(sorted(range(len(checked)),
                                        key=lambda i: definition.position[checked[i].key]))
        # By the questions tuple of a section or group: their names, and every name an
        # answer may have beside them (the item's key, a 'please specify' text).
        self.known: dict[int, frozenset[str]] = {}
        self.accepted: dict[int, frozenset[str]] = {}
        self.normalised: dict[int, tuple[Question, ...]] = {}
        # Questions with no rules of their own whose valid answer can only be too long:
        # their length limit (-1: none, for yes or no), by the question's id().
        # A single choice's 'please specify' codes, by the question's id().
        self.plain: dict[int, int] = {}
        self.plain_choice: dict[int, frozenset[str]] = {}
        for section in definition.sections:
            for top in section.questions:
                for q in (top, *top.questions):
                    if q.constraints:
                        continue
                    if q.type in TEXT_TYPES and q.min_length is None:
                        self.plain[id(q)] = q.max_length if q.max_length is not None else 10**9
                    elif q.type in IDENTIFIER_TYPES or q.type == "yes_no" or (
                            q.type == "date" and not q.not_future and q.min_date is None
                            and q.max_date is None):
                        self.plain[id(q)] = -1
                    elif q.type == "choice" and q.choices_from is None and q.code_list:
                        self.plain_choice[id(q)] = frozenset(
                            item.code for item in definition.code_lists[q.code_list].items
                            if item.specify)
        # Items whose visibility rules ask is_entered(this.…), by their questions tuple.
        self.asks_entered: set[int] = set()
        for section in definition.sections:
            for questions in (section.questions, *(q.questions for q in section.questions
                                                   if q.is_group)):
                known = frozenset(q.id for q in questions)
                self.known[id(questions)] = known
                self.accepted[id(questions)] = known | {KEY_FIELD} | {
                    name + OTHER_SUFFIX for name in known}
                # The questions whose answers a session normalises (identifiers, groups).
                self.normalised[id(questions)] = tuple(
                    q for q in questions if q.type in IDENTIFIER_TYPES or q.is_group)
                if any(q.visible_if is not None and "is_entered" in q.visible_if.functions
                       for q in questions):
                    self.asks_entered.add(id(questions))
        # The sections in which a session may normalise something (item keys, identifiers).
        self.normalising = tuple(section for section in definition.sections
                                 if section.repeat or self.normalised[id(section.questions)])


def _plan(definition: FormDefinition) -> _Plan:
    """The definition's plan, built on first use and kept with it (as a cached_property is)."""
    plan: _Plan | None = definition.__dict__.get("_engine_plan")
    if plan is None:
        plan = definition.__dict__["_engine_plan"] = _Plan(definition)
    return plan


@dataclass
class _Worked:
    """What one unit's value pass found, kept so the next pass can reuse it unchanged."""

    value: Any
    entered: bool
    paths: list[str]
    typed: Any
    error: str | None
    visible: bool
    item_errors: list[dict[str, str]] | None
    rule_errors: list[str]
    cost: int
    section_shown: bool | None  # the section's visibility, when decided at this unit


@dataclass
class _ItemWorked:
    """What one item of a repeating section or group was found to be."""

    effective: dict[str, Any]
    errors: dict[str, str]
    paths: list[str]
    rule_errors: list[str]
    cost: int


@dataclass
class _Checked:
    """What one unit's (or section's) checks found."""

    problems: list[Problem]
    rule_errors: list[str]
    cost: int


class _Evaluation:
    """One pass: values and visibility in dependency order, then every check.

    Given the previous pass and what changed since (``dirty``: unit keys whose answers were
    edited; ``dirty_sections``: sections whose answers were), a pass reuses every unit whose
    answers and inputs are unchanged and works out only the rest, so it ends exactly where a
    pass from nothing would: the same values, problems, rule errors and evaluation budget.
    """

    def __init__(self, definition: FormDefinition, answers: dict[str, Any], today: date, *,
                 previous: _Evaluation | None = None, dirty: frozenset[str] = frozenset(),
                 dirty_sections: frozenset[str] = frozenset(),
                 dirty_items: dict[str, frozenset[int]] | None = None) -> None:
        self.definition = definition
        self.plan = _plan(definition)
        self.answers = answers
        self.judged = _Judged()
        self.entered: set[str] = set()
        self.ctx = Context(self.judged.values, today, entered=self.entered)
        self.section_visible: dict[str, bool] = {}
        # What the check pass needs, gathered while computing values.
        self.pending: list[tuple[Unit, bool, Any, Any, str | None]] = []
        self.item_errors: dict[str, list[dict[str, str]]] = {}
        self.previous = previous
        self.dirty = dirty
        self.dirty_sections = dirty_sections
        self.worked: dict[str, _Worked] = {}
        self.checked: dict[str, _Checked] = {}
        self.section_checked: dict[str, _Checked] = {}
        self.recomputed: set[str] = set()  # units worked out again in this pass
        self.changed: set[str] = set()  # units whose value or 'entered' changed
        self.paths: list[str] = []  # where value_of puts the paths it finds visible
        self.keys_memo: dict[str, set[Any]] = {}
        # Item by item, for repeating sections and groups edited inside an item: what each
        # item's value and checks found, and (while a unit is worked out) what may be reused.
        self.dirty_items = dirty_items or {}
        self.recording = False
        self.item_worked: dict[str, list[_ItemWorked]] = {}
        self.item_checked: dict[str, list[_Checked]] = {}
        self.item_only: set[str] = set()  # units worked out again for some items only
        self.reuse_items: tuple[list[_ItemWorked], frozenset[int], bool] | None = None
        self.reuse_checks: tuple[str, list[_Checked], frozenset[int]] | None = None

    def rule(self, expression: Expression | None, item: dict[str, Any] | None = None,
             default: Any = True) -> Any:
        if expression is None:
            return default
        ctx = self.ctx
        ctx.item = item
        try:
            # Expression.evaluate, inlined: the budget, then the compiled rule.
            ctx.budget -= expression.size
            if ctx.budget < 0:
                raise ExpressionError("The form's rules took too long to evaluate.")
            return expression.compiled(ctx)
        except ExpressionError as error:
            self.judged.rule_errors.append(f"{expression.source}: {error}")
            return MISSING

    def run(self, *, record: bool = True) -> _Judged:
        """The pass; with ``record=False`` nothing is kept for a next pass (a one-off verdict)."""
        if not record:
            return self.run_once()
        self.recording = True
        for unit in self.definition.order:
            self.work(unit)
        pending = self.pending
        self.pending = [pending[index] for index in self.plan.check_order]
        previous = self.previous
        for unit, visible, raw, typed, error in self.pending:
            if visible:
                key = unit.key
                inputs = bool(self.plan.check_depends_on[key] & self.changed)
                fresh = previous is None or key in self.recomputed or inputs
                earlier_items = previous.item_checked.get(key) if previous is not None else None
                if key in self.item_only and not inputs and earlier_items is not None:
                    self.reuse_checks = (key, earlier_items, self.dirty_items[key])
                self.checked[key] = self.reuse_or(
                    None if fresh or previous is None else previous.checked.get(key),
                    functools.partial(self.check_unit, unit, raw, typed, error))
                self.reuse_checks = None
        for section in self.definition.sections:
            if section.id in self.judged.visible_sections:
                fresh = previous is None or section.id in self.dirty_sections or \
                    self.plan.units_of[section.id][0] in self.recomputed or \
                    bool(self.plan.section_depends_on[section.id] & self.changed)
                self.section_checked[section.id] = self.reuse_or(
                    None if fresh or previous is None else previous.section_checked.get(
                        section.id),
                    functools.partial(self.check_section, section))
        self.finish()
        self.previous = None  # the next pass starts from this one; keep no chain
        return self.judged

    def run_once(self) -> _Judged:
        """A pass from nothing that keeps nothing for the next (the quickest)."""
        paths = self.paths
        # value_of, inlined for a plain question (most of a form): the same steps in order.
        values, answers, section_visible = self.judged.values, self.answers, self.section_visible
        add_pending, add_path, add_entered = self.pending.append, paths.append, self.entered.add
        rule, typed_of, ctx = self.rule, self.typed, self.ctx
        rule_errors = self.judged.rule_errors
        for unit in self.definition.order:
            question = unit.question
            if question is None or question.type in _NOT_PLAIN:
                self.value_of(unit)
                continue
            section = unit.section
            shown = section_visible.get(section.id)
            if shown is None:
                shown = self.is_section_visible(section)
            raw_section = answers.get(section.id)
            key = unit.key
            if shown and (expression := question.visible_if) is not None:
                # rule(), inlined for the common case (the budget holds, no error).
                ctx.budget -= expression.size
                if ctx.budget >= 0:
                    ctx.item = None
                    try:
                        shown = bool(expression.compiled(ctx))
                    except ExpressionError as failed:  # as rule() reports it
                        rule_errors.append(f"{expression.source}: {failed}")
                        shown = bool(MISSING)
                else:  # the budget runs out here: rule() reports it, exactly as before
                    ctx.budget += expression.size
                    shown = bool(rule(expression))
            if not shown:
                values[key] = MISSING
                add_pending((unit, False, raw_section, MISSING, None))
                continue
            add_path(key)
            raw = raw_section.get(question.id) if isinstance(raw_section, dict) else None
            if (raw.strip() != "") if type(raw) is str else _answered(raw):
                add_entered(key)
                typed, error = typed_of(question, raw)
            else:
                typed, error = MISSING, None
            values[key] = typed
            add_pending((unit, True, raw_section, typed, error))
        self.judged.visible.update(paths)
        pending = self.pending
        plain, plain_choice = self.plan.plain, self.plan.plain_choice
        for index in self.plan.check_order:
            unit, visible, raw, typed, error = pending[index]
            if not visible:
                continue
            question = unit.question
            if question is not None and error is None and (raw is None or isinstance(raw, dict)):
                if typed is MISSING:
                    # Unanswered and never required: check_answer would find nothing.
                    if not question.required and question.required_if is None and \
                            question.type not in _NOT_PLAIN:
                        continue
                else:
                    # check_unit's quick way out (``fine``), inlined: nothing more to check.
                    limit = plain.get(id(question), -2)
                    if limit == -2:
                        specify = plain_choice.get(id(question))
                        if specify is not None and typed not in specify:
                            continue
                    elif limit == -1 or len(typed) <= limit:
                        continue
            self.check_unit(unit, raw, typed, error)
        for section in self.definition.sections:
            if section.id in self.judged.visible_sections:
                self.check_section(section)
        self.finish()
        return self.judged

    def finish(self) -> None:
        """Sections the form does not have, problems in section order, and the deadlines."""
        for section_id in self.answers:
            if section_id not in self.definition.sections_by_id:
                self.problem(section_id, "This is not a section of this form version.",
                             INVALID_KIND, section_id)
        # Field problems are already in form order; keep them so, section by section.
        rank = self.plan.rank
        self.judged.problems.sort(key=lambda problem: rank.get(problem.section, len(rank)))
        self.due_dates()

    def reuse_or(self, earlier: _Checked | None, check: Callable[[], None]) -> _Checked:
        """The previous pass's findings of a check when they still hold (and fit the budget
        left, so an overrun happens where it would have), else the check done now."""
        judged, ctx = self.judged, self.ctx
        if earlier is not None and ctx.budget - earlier.cost >= 0:
            judged.problems += earlier.problems
            judged.rule_errors += earlier.rule_errors
            ctx.budget -= earlier.cost
            return earlier
        problems, errors, budget = len(judged.problems), len(judged.rule_errors), ctx.budget
        check()
        return _Checked(judged.problems[problems:], judged.rule_errors[errors:],
                        _spent(budget, ctx.budget))

    def work(self, unit: Unit) -> None:
        """A unit's value and visibility: the previous pass's when nothing it reads changed."""
        key = unit.key
        previous = self.previous
        earlier = previous.worked.get(key) if previous is not None else None
        inputs = bool(unit.depends_on & self.changed)
        if earlier is not None and key not in self.dirty and key not in self.dirty_items and \
                not inputs and self.ctx.budget - earlier.cost >= 0:
            section = unit.section
            if earlier.section_shown is not None:
                self.section_visible[section.id] = earlier.section_shown
                if earlier.section_shown:
                    self.judged.visible_sections.add(section.id)
            self.judged.values[key] = earlier.value
            if earlier.entered:
                self.entered.add(key)
            self.judged.visible.update(earlier.paths)
            if earlier.item_errors is not None:
                self.item_errors[key] = earlier.item_errors
            self.judged.rule_errors += earlier.rule_errors
            self.ctx.budget -= earlier.cost
            if unit.question is None or not unit.question.is_computed:  # as value_of does
                self.pending.append((unit, earlier.visible, self.answers.get(section.id),
                                     earlier.typed, earlier.error))
            self.worked[key] = earlier
            return
        self.recomputed.add(key)
        errors, budget = len(self.judged.rule_errors), self.ctx.budget
        decided = unit.section.id not in self.section_visible
        self.paths = []
        pending = len(self.pending)
        earlier_items = previous.item_worked.get(key) if previous is not None else None
        if earlier is not None and earlier_items is not None and key not in self.dirty and \
                key in self.dirty_items and not inputs:
            self.item_only.add(key)
            self.reuse_items = (earlier_items, self.dirty_items[key], earlier.visible)
        self.value_of(unit)
        self.reuse_items = None
        self.judged.visible.update(self.paths)
        visible, typed, error = (self.pending[pending][1], self.pending[pending][3],
                                 self.pending[pending][4]) if len(self.pending) > pending \
            else (key in self.judged.visible, MISSING, None)
        worked = _Worked(
            value=self.judged.values[key], entered=key in self.entered, paths=self.paths,
            typed=typed, error=error, visible=visible, item_errors=self.item_errors.get(key),
            rule_errors=self.judged.rule_errors[errors:], cost=_spent(budget, self.ctx.budget),
            section_shown=self.section_visible[unit.section.id] if decided else None)
        self.worked[key] = worked
        if earlier is None or earlier.entered != worked.entered or not _same(
                earlier.value, worked.value):
            self.changed.add(key)

    def due_dates(self) -> None:
        """Each deadline of the definition whose date the answers give."""
        found: list[DueDate] = []
        for deadline in self.definition.deadlines:
            if deadline.each is None:
                targets: list[tuple[str, dict[str, Any] | None]] = [("", None)]
            else:
                items = self.judged.values.get(deadline.each, MISSING)
                targets = [(f"{deadline.each}[{index}]", item)
                           for index, item in enumerate(items if isinstance(items, list) else [])]
            for path, item in targets:
                if not truth(self.rule(deadline.applies_if, item)):
                    continue
                due = self.rule(deadline.due, item, default=MISSING)
                if isinstance(due, date):
                    found.append(DueDate(deadline.id, due, deadline.because, path))
        found.sort(key=lambda entry: (entry.due, entry.id, entry.path))
        self.judged.deadlines = found

    def is_section_visible(self, section: Section) -> bool:
        shown = self.section_visible.get(section.id)
        if shown is None:
            shown = bool(self.rule(section.visible_if))
            self.section_visible[section.id] = shown
            if shown:
                self.judged.visible_sections.add(section.id)
        return shown

    def value_of(self, unit: Unit) -> None:
        section = unit.section
        shown = self.section_visible.get(section.id)
        if shown is None:
            shown = self.is_section_visible(section)
        raw_section = self.answers.get(section.id)
        question = unit.question
        key = unit.key
        if question is None:
            # A hidden answer's typed value is never read (it counts as MISSING): not made.
            typed, error = self.items(section.id, section.questions, raw_section, shown) \
                if shown else (MISSING, None)
            self.judged.values[key] = typed if shown else MISSING
            self.pending.append((unit, shown, raw_section, typed, error))
            return
        visible = shown and (question.visible_if is None or bool(self.rule(question.visible_if)))
        raw = raw_section.get(question.id) if isinstance(raw_section, dict) else None
        answered = visible and _answered(raw)
        if visible:
            self.paths.append(key)
            if answered:
                self.entered.add(key)
        kind = question.type
        if kind == "computed":
            value = self.rule(question.expression, default=MISSING) if visible else MISSING
            self.judged.values[key] = _checked_computed(question, value)
            return
        if not visible:
            self.judged.values[key] = MISSING
            self.pending.append((unit, False, raw_section, MISSING, None))
            return
        if kind == "group":
            typed, error = self.items(key, question.questions, raw, visible)
        else:
            typed, error = self.typed(question, raw) if answered else (MISSING, None)
        self.judged.values[key] = typed
        self.pending.append((unit, visible, raw_section, typed, error))

    def items(self, path: str, questions: tuple[Question, ...], raw: Any,
              visible: bool) -> tuple[Any, str | None]:
        if raw is None or raw == []:
            return MISSING, None
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            return MISSING, "These answers are not in the expected shape (a list of items)."
        typed_items = []
        item_errors = []
        asks_entered = id(questions) in self.plan.asks_entered
        judged, ctx, typed_of = self.judged, self.ctx, self.typed
        reuse = self.reuse_items
        if reuse is not None and (reuse[2] != visible or len(reuse[0]) != len(raw)):
            reuse = None
        records: list[_ItemWorked] = []
        for index, item in enumerate(raw):
            if reuse is not None and index not in reuse[1]:
                kept = reuse[0][index]
                if ctx.budget - kept.cost >= 0:  # else worked out again, to overrun in place
                    typed_items.append(kept.effective)
                    item_errors.append(kept.errors)
                    self.paths += kept.paths
                    judged.rule_errors += kept.rule_errors
                    ctx.budget -= kept.cost
                    records.append(kept)
                    continue
            before = (len(judged.rule_errors), ctx.budget, len(self.paths))
            typed_item: dict[str, Any] = {KEY_FIELD: item.get(KEY_FIELD)}
            errors: dict[str, str] = {}
            for question in questions:  # unanswered is MISSING; text is checked in place
                raw_answer = item.get(question.id)
                if raw_answer is None or not ((raw_answer.strip() != "") if type(raw_answer)
                                              is str else _answered(raw_answer)):
                    typed_item[question.id] = MISSING
                    continue
                value, error = typed_of(question, raw_answer)
                typed_item[question.id] = value
                if error:
                    errors[question.id] = error
            effective = dict(typed_item)
            prefix = f"{path}[{index}]"
            if asks_entered:  # only a rule with is_entered(this.…) reads it
                self.ctx.entered_item = {q.id for q in questions if _answered(item.get(q.id))}
            for question in questions:
                shown = visible and (question.visible_if is None or bool(
                    self.rule(question.visible_if, typed_item)))
                if shown:
                    self.paths.append(f"{prefix}.{question.id}")
                else:
                    effective[question.id] = MISSING
            self.ctx.entered_item = frozenset()
            typed_items.append(effective)
            item_errors.append(errors)
            if self.recording:
                records.append(_ItemWorked(effective, errors, self.paths[before[2]:],
                                           judged.rule_errors[before[0]:],
                                           _spent(before[1], ctx.budget)))
        if self.recording:
            self.item_worked[path] = records
        self.item_errors[path] = item_errors
        return typed_items, None

    def typed(self, question: Question, raw: Any) -> tuple[Any, str | None]:
        """The typed value of an answer that says something (``_answered``), or MISSING with a
        message saying why not."""
        kind = question.type
        if kind in TEXT_TYPES:
            if not isinstance(raw, str):
                return MISSING, "This answer should be text."
            return raw.strip(), None
        if kind == "integer":
            if not _plain_number(raw) or raw != int(raw):
                return MISSING, "Enter a whole number, such as 3."
            return int(raw), None
        if kind == "decimal":
            if not _plain_number(raw):
                return MISSING, "Enter a number, such as 2.5."
            return raw, None
        if kind == "date":
            parsed = _parse_date(raw)
            if parsed is None:
                return MISSING, NOT_A_REAL_DATE
            return parsed, None
        if kind == "yes_no":
            if not isinstance(raw, bool):
                return MISSING, "Answer yes or no."
            return raw, None
        if kind in IDENTIFIER_TYPES:
            if not isinstance(raw, str):
                return MISSING, "This answer should be text."
            value = validators.normalise_identifier(raw)
            message = _IDENTIFIER_CHECKS[kind](value)
            return (MISSING, message) if message else (value, None)
        if kind in CHOICE_TYPES:
            return self.convert_choice(question, raw)
        if kind in ("person", "agreement"):
            if not isinstance(raw, dict) or not all(
                v is None or isinstance(v, str) for v in raw.values()
            ):
                return MISSING, "These answers are not in the expected shape."
            fields: dict[str, Any] = {
                k: v.strip() for k, v in raw.items() if isinstance(v, str) and v.strip()
            }
            if kind == "agreement" and "date" in fields:
                parsed = _parse_date(fields["date"])
                fields["date"] = parsed if parsed is not None else MISSING
            return fields, None
        return MISSING, "This answer cannot be set here."

    def convert_choice(self, question: Question, raw: Any) -> tuple[Any, str | None]:
        multiple = question.type == "multi_choice"
        if multiple:
            if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
                return MISSING, "These answers should be a list of choices."
            if len(set(raw)) != len(raw):
                return MISSING, "A choice is listed more than once."
            chosen = raw
        else:
            if not isinstance(raw, str):
                return MISSING, "Choose one of the options."
            chosen = [raw]
        if question.code_list is not None:
            codes = self.definition.code_lists[question.code_list].by_code
            for code in chosen:
                item = codes.get(code)
                if item is None:
                    return MISSING, "Choose from the options given."
                if item.retired:
                    return MISSING, (
                        f"'{item.label}' is no longer used: choose one of the current options."
                    )
        return (tuple(chosen) if multiple else raw), None

    # --- checks ---------------------------------------------------------------------------

    def problem(self, path: str, message: str, kind: str, section: str) -> None:
        self.judged.problems.append(Problem(path, message, kind, section))

    def check_unit(self, unit: Unit, raw_section: Any, typed: Any, error: str | None) -> None:
        section = unit.section
        question = unit.question
        if question is None:
            self.check_items(section.id, section.id, questions=section.questions,
                             raw=raw_section, typed=typed, error=error,
                             min_items=section.min_items, max_items=section.max_items,
                             item_label=section.item_label, required=section.min_items > 0)
            return
        if raw_section is not None and not isinstance(raw_section, dict):
            return  # reported once by check_section
        if error is None and typed is not MISSING and self.fine(question, typed):
            return
        raw = raw_section.get(question.id) if raw_section is not None else None
        self.check_answer(question, unit.key, raw=raw, container=raw_section, typed=typed,
                          error=error, section_id=section.id, item=None)

    def check_section(self, section: Section) -> None:
        """Whole-section rules, the shape of its answers, and answers the form does not ask."""
        raw = self.answers.get(section.id)
        accepted = self.plan.accepted
        if section.repeat:
            names = accepted[id(section.questions)]
            for index, item in enumerate(raw if isinstance(raw, list) else []):
                if isinstance(item, dict) and not names.issuperset(item):
                    self.unknown_answers(f"{section.id}[{index}]", section.questions, item,
                                         section.id)
        elif raw is not None and not isinstance(raw, dict):
            self.problem(section.id, "These answers are not in the expected shape.",
                         INVALID_KIND, section.id)
        elif raw is not None:
            if not accepted[id(section.questions)].issuperset(raw):
                self.unknown_answers(section.id, section.questions, raw, section.id)
            for question in self.plan.groups[section.id]:
                items = raw.get(question.id)
                if isinstance(items, list):
                    names = accepted[id(question.questions)]
                    for index, item in enumerate(items):
                        if isinstance(item, dict) and names.issuperset(item):
                            continue
                        self.unknown_answers(f"{section.id}.{question.id}[{index}]",
                                             question.questions, item, section.id)
        for constraint in section.constraints:
            if self.rule(constraint.check) is False:
                self.problem(section.id, constraint.message, INVALID_KIND, section.id)

    def unknown_answers(self, prefix: str, questions: tuple[Question, ...], raw: Any,
                        section_id: str) -> None:
        if not isinstance(raw, dict):
            return
        known = self.plan.known[id(questions)]
        for name in raw:
            base = name.removesuffix(OTHER_SUFFIX)
            if name in known or name == KEY_FIELD or (name != base and base in known):
                continue
            self.problem(f"{prefix}.{name}", "This is not a question of this form version.",
                         INVALID_KIND, section_id)

    def is_required(self, question: Question, item: dict[str, Any] | None) -> bool:
        if question.required:
            return True
        return bool(self.rule(question.required_if, item, default=False))

    def check_items(self, path: str, section_id: str, *, questions: tuple[Question, ...],
                    raw: Any, typed: Any, error: str | None, min_items: int,
                    max_items: int | None, item_label: str, required: bool) -> None:
        if error:
            self.problem(path, error, INVALID_KIND, section_id)
            return
        items = typed if isinstance(typed, list) else []
        if not items:
            if required:
                self.problem(path, f"Add at least {max(min_items, 1)} "
                             f"{_plural(item_label.lower(), max(min_items, 1))}.",
                             MISSING_KIND, section_id)
            return
        if len(items) < min_items:
            self.problem(path, f"Add at least {min_items} "
                         f"{_plural(item_label.lower(), min_items)}.", MISSING_KIND, section_id)
        if max_items is not None and len(items) > max_items:
            self.problem(path, f"There can be at most {max_items} "
                         f"{_plural(item_label.lower(), max_items)}.", INVALID_KIND, section_id)
        raw_items = raw if isinstance(raw, list) else []
        all_errors = self.item_errors.get(path, [])
        judged, ctx = self.judged, self.ctx
        reuse = self.reuse_checks
        if reuse is not None and (reuse[0] != path or len(reuse[1]) != len(items)):
            reuse = None
        records: list[_Checked] = []
        for index, (item, errors, raw_item) in enumerate(
            zip(items, all_errors, raw_items, strict=False)
        ):
            if reuse is not None and index not in reuse[2]:
                kept = reuse[1][index]
                if ctx.budget - kept.cost >= 0:
                    judged.problems += kept.problems
                    judged.rule_errors += kept.rule_errors
                    ctx.budget -= kept.cost
                    records.append(kept)
                    continue
            before = (len(judged.problems), len(judged.rule_errors), ctx.budget)
            self.check_item(path, index, questions=questions, item=item, errors=errors,
                            raw_item=raw_item, section_id=section_id)
            if self.recording:
                records.append(_Checked(judged.problems[before[0]:],
                                        judged.rule_errors[before[1]:],
                                        _spent(before[2], ctx.budget)))
        if self.recording:
            self.item_checked[path] = records

    def check_item(self, path: str, index: int, *, questions: tuple[Question, ...],
                   item: dict[str, Any], errors: dict[str, str], raw_item: dict[str, Any],
                   section_id: str) -> None:
        """One item's answers."""
        prefix = f"{path}[{index}]"
        for question in questions:
            item_path = f"{prefix}.{question.id}"
            if item_path not in self.judged.visible:
                continue
            if question.id not in errors:
                typed = item[question.id]
                if typed is MISSING:
                    if not question.required and question.required_if is None and \
                            question.type not in _NOT_PLAIN:
                        continue  # unanswered and never required: nothing to find
                elif self.fine(question, typed):
                    continue
            self.check_answer(question, item_path, raw=raw_item.get(question.id),
                              container=raw_item, typed=item[question.id],
                              error=errors.get(question.id), section_id=section_id,
                              item=item)

    def fine(self, question: Question, typed: Any) -> bool:
        """Whether a valid answer (not MISSING) to a question with no rules of its own is
        fine as it is: text within its length, an identifier, yes or no, a date with no
        limits, a choice that asks no more (``check_answer``'s outcome,
        quicker, for the many answers that need nothing more)."""
        if typed is MISSING:
            return False
        limit = self.plan.plain.get(id(question), -2)
        if limit == -2:
            specify = self.plan.plain_choice.get(id(question))
            return specify is not None and typed not in specify
        return limit == -1 or len(typed) <= limit

    def check_answer(self, question: Question, path: str, *, raw: Any, container: Any,
                     typed: Any, error: str | None, section_id: str,
                     item: dict[str, Any] | None) -> None:
        kind = question.type
        if kind == "computed" or path not in self.judged.visible:
            return
        if kind == "group":
            self.check_items(path, section_id, questions=question.questions, raw=raw,
                             typed=typed, error=error, min_items=question.min_items,
                             max_items=question.max_items, item_label=question.item_label,
                             required=question.min_items > 0 or self.is_required(question, item))
            return
        if error:
            self.problem(path, error, INVALID_KIND, section_id)
            return
        if typed is MISSING:
            if self.is_required(question, item):
                self.problem(path, _missing_message(question), MISSING_KIND, section_id)
            return
        message = self.check_value(question, typed, item)
        if message:
            self.problem(path, message, INVALID_KIND, section_id)
            return
        if question.type == "person":
            self.check_fields(path, typed, {"name": "Give the person's name.",
                                            "role": "Give the person's role."}, section_id)
        elif question.type == "agreement":
            self.check_agreement(path, typed, section_id)
        elif question.type in CHOICE_TYPES:
            self.check_choice(question, path, typed, container, section_id)
        for constraint in question.constraints:
            if self.rule(constraint.check, item) is False:
                self.problem(path, constraint.message, INVALID_KIND, section_id)
                return

    def check_fields(self, path: str, value: dict[str, Any], needed: dict[str, str],
                     section_id: str) -> None:
        for name, message in needed.items():
            if value.get(name) in (None, MISSING):
                self.problem(f"{path}.{name}", message, MISSING_KIND, section_id)

    def check_agreement(self, path: str, value: dict[str, Any], section_id: str) -> None:
        self.check_fields(path, value, {
            "name": "Give the name of the person signing.",
            "role": "Give the role of the person signing (for example parent or SENCO).",
            "decision": "Say whether they agree, agree with comments, or disagree.",
        }, section_id)
        signed = value.get("date")
        if signed is None:
            self.problem(f"{path}.date", "Give the date this was signed.", MISSING_KIND,
                         section_id)
        elif signed is MISSING:
            self.problem(f"{path}.date", NOT_A_REAL_DATE, INVALID_KIND, section_id)
        elif signed > self.ctx.today:
            self.problem(f"{path}.date", "This date cannot be in the future.", INVALID_KIND,
                         section_id)
        decision = value.get("decision")
        if decision is not None and decision not in AGREEMENT_DECISIONS:
            self.problem(f"{path}.decision", "Choose agree, agree with comments, or disagree.",
                         INVALID_KIND, section_id)
        elif decision in ("agree_with_comments", "disagree") and not value.get("comments"):
            what = "comments" if decision == "agree_with_comments" else "reasons for disagreeing"
            self.problem(f"{path}.comments", f"Write down the {what}.", MISSING_KIND, section_id)

    def check_choice(self, question: Question, path: str, typed: Any, container: Any,
                     section_id: str) -> None:
        chosen = list(typed) if isinstance(typed, tuple) else [typed]
        if question.type == "multi_choice":
            if question.min_choices is not None and len(chosen) < question.min_choices:
                self.problem(path, f"Choose at least {question.min_choices}.", MISSING_KIND,
                             section_id)
            if question.max_choices is not None and len(chosen) > question.max_choices:
                self.problem(path, f"Choose no more than {question.max_choices}.",
                             INVALID_KIND, section_id)
        if question.choices_from is not None:
            keys = self.item_keys(question.choices_from)
            if any(code not in keys for code in chosen):
                self.problem(path, "This links to an item that no longer exists: choose again.",
                             INVALID_KIND, section_id)
            return
        codes = self.definition.code_lists[question.code_list or ""].by_code
        needs_text = [codes[c] for c in chosen if codes[c].specify]
        other = container.get(question.id + OTHER_SUFFIX) if isinstance(container, dict) else None
        if needs_text and not _answered(other):
            self.problem(f"{path}{OTHER_SUFFIX}",
                         f"You chose '{needs_text[0].label}': please say what you mean.",
                         MISSING_KIND, section_id)
        elif needs_text and not isinstance(other, str):
            self.problem(f"{path}{OTHER_SUFFIX}", "This answer should be text.", INVALID_KIND,
                         section_id)

    def item_keys(self, target: str) -> set[Any]:
        """The keys of a repeating section's or group's items (once per pass: every provision
        item links to the outcomes)."""
        keys = self.keys_memo.get(target)
        if keys is None:
            value = self.judged.values.get(target, MISSING)
            keys = {item.get(KEY_FIELD) for item in value} if isinstance(value, list) else set()
            self.keys_memo[target] = keys
        return keys

    def check_value(self, question: Question, value: Any,
                    item: dict[str, Any] | None) -> str | None:
        kind = question.type
        if kind in TEXT_TYPES:
            if question.max_length is not None and len(value) > question.max_length:
                return f"This answer is too long: keep it under {question.max_length} characters."
            if question.min_length is not None and len(value) < question.min_length:
                return f"Write at least {question.min_length} characters."
        elif kind in ("integer", "decimal"):
            low, high = question.min, question.max
            if (low is not None and value < low) or (high is not None and value > high):
                return _range_message(low, high)
        elif kind == "date":
            return self.check_date(question, value, item)
        return None

    def check_date(self, question: Question, value: date,
                   item: dict[str, Any] | None) -> str | None:
        if question.not_future and value > self.ctx.today:
            return "This date cannot be in the future."
        low = self.rule(question.min_date, item, default=MISSING)
        if isinstance(low, date) and value < low:
            return question.min_date_message or "This date is too early."
        high = self.rule(question.max_date, item, default=MISSING)
        if isinstance(high, date) and value > high:
            return question.max_date_message or "This date is too late."
        return None


def _checked_computed(question: Question, value: Any) -> Any:
    kind = question.value_type
    if kind == "date":
        fits = isinstance(value, date)
    elif kind == "number":
        fits = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        fits = isinstance(value, bool)
    else:
        fits = isinstance(value, str)
    return value if fits else MISSING


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def _range_message(low: float | None, high: float | None) -> str:
    def show(number: float) -> str:
        return str(int(number)) if number == int(number) else str(number)

    if low is not None and high is not None:
        return f"Enter a number from {show(low)} to {show(high)}."
    if low is not None:
        return f"Enter a number of at least {show(low)}."
    return f"Enter a number no more than {show(high or 0)}."


def _missing_message(question: Question) -> str:
    if question.type in CHOICE_TYPES:
        return f"Choose an answer for '{question.label}'."
    if question.type == "yes_no":
        return f"Answer yes or no: '{question.label}'."
    return f"Answer '{question.label}'."


@dataclass(frozen=True)
class Verdict:
    """The engine's judgement of an assessment document."""

    form_id: str
    form_version: str
    problems: tuple[Problem, ...]
    sections: tuple[SectionStatus, ...]
    computed: dict[str, Any]
    deadlines: tuple[DueDate, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form_id,
            "form_version": self.form_version,
            "complete": self.complete,
            "problems": [
                {"path": p.path, "kind": p.kind, "message": p.message} for p in self.problems
            ],
            "sections": [
                {"id": s.id, "visible": s.visible, "missing": s.missing, "invalid": s.invalid,
                 "complete": s.complete}
                for s in self.sections
            ],
            "computed": {k: _json_value(v) for k, v in self.computed.items() if v is not MISSING},
            "deadlines": [entry.to_json() for entry in self.deadlines],
        }


def document_session(doc: Any, today: date | None = None,
                     source: str = "The assessment document",
                     catalogue: Catalogue | None = None, *, borrowed: bool = False) -> Session:
    """A session for an assessment document ``{"form", "form_version", "answers"}``; a fetched
    form version is found in `catalogue` (the open session's). ``borrowed``: see Session."""
    if not isinstance(doc, dict):
        raise AnswersError(f"{source} is not a JSON object.")
    form_id = doc.get("form")
    version = doc.get("form_version")
    if not isinstance(form_id, str) or not isinstance(version, str):
        raise AnswersError(f"{source} does not say which form and version it answers "
                           "('form' and 'form_version').")
    answers = doc.get("answers", {})
    if not isinstance(answers, dict):
        raise AnswersError(f"{source}: 'answers' must be a JSON object of sections.")
    try:
        return Session(load_definition(form_id, version, catalogue), answers, today,
                       borrowed=borrowed)
    except AnswersError as error:
        raise AnswersError(f"{source}: {error}") from None


def check_document(doc: dict[str, Any], today: date | None = None,
                   catalogue: Catalogue | None = None) -> Verdict:
    """The engine's verdict on an assessment document: complete and valid, or what is not."""
    return verdict_of(document_session(doc, today, catalogue=catalogue, borrowed=True))


def verdict_for(definition: FormDefinition, answers: dict[str, Any],
                today: date | None = None) -> Verdict:
    """The verdict on answers judged once (the national service, finalise): the same as
    ``verdict_of(Session(definition, answers, today))``, without copying the answers."""
    return verdict_of(Session(definition, answers, today, borrowed=True))


def verdict_of(session: Session) -> Verdict:
    """A session's judgement, frozen."""
    return Verdict(
        form_id=session.definition.id,
        form_version=session.definition.version,
        problems=tuple(session.problems),
        sections=tuple(session.sections),
        computed=session.computed,
        deadlines=tuple(session.deadlines),
    )
