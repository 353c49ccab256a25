"""Records for the engine's golden verdicts: every shipped example, and seeded mutations of them.

`observe` takes everything the engine says about a record through its public API (the verdict,
rule errors, effective values, visibility of every path, the export, the linked choices) and
`digests` reduces it to one SHA-256 per aspect. The digests recorded from the engine as it was
before the compiled evaluator live in fixtures/golden_verdicts.json; the test compares today's
against them, so a faster engine must say exactly what the old one said.

Regenerate (only when a verdict is meant to change): .venv/bin/python tests/forms/golden.py
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from forms.engine import Session, verdict_of
from forms.errors import FormError
from forms.model import FormDefinition, Question
from forms.registry import load_definition

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden_verdicts.json"
TODAYS = (date(2026, 11, 28), date(2031, 3, 1))
MUTANTS_PER_EXAMPLE = 24


def examples() -> dict[str, dict[str, Any]]:
    """Every shipped example document, by its path under forms/examples."""
    root = resources.files("forms").joinpath("examples")
    found: dict[str, dict[str, Any]] = {}
    for folder in (root, root.joinpath("2.0.0")):
        prefix = "" if folder is root else "2.0.0/"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                found[prefix + entry.name] = json.loads(entry.read_text("utf-8"))
    return found


_ODD_VALUES: tuple[Any, ...] = (
    None, "", "  ", "x" * 30, "x" * 20001, 0, -3, 2.5, 10**16, True, False, [], {}, ["a"],
    {"name": "A"}, "2025-02-30", "2019-06-01", "2030-01-01", "not a date", "Z", "E", "1",
    "R", "sought", "received", "not_needed", "annual_review", "ehc_request", "ASD", "agree",
)


def _questions(definition: FormDefinition, section_id: str) -> tuple[Question, ...]:
    section = definition.sections_by_id.get(section_id)
    return section.questions if section is not None else ()


def _valid_codes(definition: FormDefinition, question: Question) -> list[str]:
    codes = definition.code_lists.get(question.code_list or "")
    return [item.code for item in codes.items] if codes is not None else []


def _containers(answers: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every dict of answers: sections, their items, and groups' items."""
    found: list[tuple[str, dict[str, Any]]] = []
    for section_id, value in answers.items():
        holders = [value] if isinstance(value, dict) else (
            [v for v in value if isinstance(v, dict)] if isinstance(value, list) else [])
        for holder in holders:
            found.append((section_id, holder))
            for inner in holder.values():
                if isinstance(inner, list):
                    found.extend((section_id, v) for v in inner if isinstance(v, dict))
    return found


def mutate(rng: random.Random, definition: FormDefinition, answers: dict[str, Any],
           donors: list[dict[str, Any]]) -> dict[str, Any]:
    """A few random edits: answers dropped, swapped, made odd, items added, removed or moved."""
    answers = copy.deepcopy(answers)
    for _ in range(rng.randint(1, 6)):
        containers = _containers(answers)
        choice = rng.randrange(10)
        if choice <= 2 and containers:  # an answer set to a valid code, an odd value, or dropped
            section_id, holder = rng.choice(containers)
            questions = _questions(definition, section_id)
            names = [q.id for q in questions] + list(holder)
            name = rng.choice(names) if names else "x"
            question = next((q for q in questions if q.id == name), None)
            codes = _valid_codes(definition, question) if question is not None else []
            roll = rng.random()
            if roll < 0.35 and codes:
                holder[name] = rng.choice(codes) if question is not None and \
                    question.type == "choice" else rng.sample(codes, min(len(codes), 2))
            elif roll < 0.5:
                holder.pop(name, None)
            else:
                holder[name] = copy.deepcopy(rng.choice(_ODD_VALUES))
        elif choice == 3:  # a whole section taken from another example
            donor = rng.choice(donors)
            if donor:
                section_id = rng.choice(sorted(donor))
                answers[section_id] = copy.deepcopy(donor[section_id])
        elif choice == 4:  # a section dropped, or given the wrong shape
            if answers:
                section_id = rng.choice(sorted(answers))
                if rng.random() < 0.6:
                    del answers[section_id]
                else:
                    answers[section_id] = rng.choice(([], {}, "text", [1, 2], None))
        elif choice == 5:  # items duplicated, removed or reordered
            lists = [(k, v) for k, v in answers.items() if isinstance(v, list) and v]
            if lists:
                _key, items = rng.choice(lists)
                roll = rng.random()
                if roll < 0.4:
                    items.extend(copy.deepcopy(rng.choices(items, k=rng.randint(1, 3))))
                elif roll < 0.7:
                    del items[rng.randrange(len(items))]
                else:
                    rng.shuffle(items)
        elif choice == 6 and containers:  # a key broken or shared
            _section_id, holder = rng.choice(containers)
            holder["_key"] = rng.choice((None, "", 3, "o1", "outcomes-1"))
        elif choice == 7:  # a section or answer the form does not know
            if rng.random() < 0.5:
                answers["unknown_section"] = {"a": 1}
            elif containers:
                rng.choice(containers)[1]["not_a_question"] = "text"
        elif choice == 8 and containers:  # a 'please specify' text beside a choice
            section_id, holder = rng.choice(containers)
            choices = [q for q in _questions(definition, section_id)
                       if q.type in ("choice", "multi_choice")]
            if choices:
                question = rng.choice(choices)
                holder[question.id + "_other"] = rng.choice(("Because", "", 5))
        elif containers:  # an answer copied from another container (dates, codes, text)
            _s1, source = rng.choice(containers)
            _s2, target = rng.choice(containers)
            if source:
                name = rng.choice(sorted(source))
                target[name] = copy.deepcopy(source[name])
    return answers


def records() -> Iterator[tuple[str, FormDefinition, dict[str, Any]]]:
    """(name, definition, answers) for every example and its seeded mutants."""
    found = examples()
    donors = [doc["answers"] for doc in found.values()]
    for name, doc in found.items():
        definition = load_definition(doc["form"], doc["form_version"])
        yield name, definition, doc["answers"]
        rng = random.Random(name)
        for number in range(MUTANTS_PER_EXAMPLE):
            yield f"{name}#{number}", definition, mutate(rng, definition, doc["answers"], donors)


def _plain(value: Any) -> Any:
    """A value as JSON can hold it, MISSING and dates included, so it can be digested."""
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _paths(definition: FormDefinition, answers: dict[str, Any]) -> Iterator[str]:
    """Every path the window could ask about, for the answers' item counts (and one more)."""
    for section in definition.sections:
        yield section.id
        raw = answers.get(section.id)
        if section.repeat:
            count = len(raw) if isinstance(raw, list) else 0
            prefixes = [f"{section.id}[{i}]" for i in range(count + 1)]
        else:
            prefixes = [section.id]
        for prefix in prefixes:
            item: Any = raw
            if section.repeat:
                index = int(prefix.rsplit("[", 1)[1][:-1])
                item = raw[index] if isinstance(raw, list) and index < len(raw) else None
            for question in section.questions:
                path = f"{prefix}.{question.id}"
                yield path
                if question.is_group:
                    inner = item.get(question.id) if isinstance(item, dict) else None
                    count = len(inner) if isinstance(inner, list) else 0
                    for index in range(count + 1):
                        for sub in question.questions:
                            yield f"{path}[{index}].{sub.id}"


def observe(definition: FormDefinition, answers: dict[str, Any], today: date) -> dict[str, Any]:
    """Everything the engine says about a record, through its public API."""
    try:
        session = Session(definition, answers, today)
    except FormError as error:
        return {"error": type(error).__name__ + ": " + str(error)}
    return observe_session(session)


def observe_session(session: Session) -> dict[str, Any]:
    """Everything a session says, through its public API."""
    definition = session.definition
    verdict = verdict_of(session)
    normalised = session.answers
    choices: dict[str, Any] = {}
    for section in definition.sections:
        for question in section.questions:
            targets = [(question.id, None)] + [(question.id, sub.id) for sub in question.questions]
            for question_id, sub_id in targets:
                try:
                    choices[f"{section.id}.{question_id}.{sub_id}"] = session.choices(
                        section.id, question_id, sub_id)
                except FormError as error:
                    choices[f"{section.id}.{question_id}.{sub_id}"] = str(error)
    return {
        "verdict": verdict.to_json(),
        "rule_errors": session.rule_errors,
        "values": _plain(session.values),
        "visible": [path for path in _paths(definition, normalised) if session.is_visible(path)],
        "visible_sections": [s.id for s in session.visible_sections],
        "exported": session.exported_answers(),
        "answers": normalised,
        "choices": choices,
        "status": [_plain(vars(s)) for s in session.sections],
    }


def _plain_leaf(value: Any) -> Any:
    """What `_plain` makes of a value JSON cannot hold (json.dumps asks only for those)."""
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return repr(value)


def _text(value: Any) -> str:
    """`json.dumps(_plain(value), sort_keys=True)`, without copying the value first where its
    keys are all strings (json.dumps would write other keys its own way: those are copied)."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=True, default=_plain_leaf,
                          check_circular=False) if _string_keys(value) else json.dumps(
            _plain(value), sort_keys=True, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(_plain(value), sort_keys=True, ensure_ascii=True)


def _string_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _string_keys(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_string_keys(v) for v in value)
    return True


def digests(observed: dict[str, Any]) -> str:
    """`aspect:digest` per aspect of an observation (the first 12 hex digits of a SHA-256),
    so a failure says which aspect changed."""
    return " ".join(
        f"{aspect}:" + hashlib.sha256(_text(value).encode()).hexdigest()[:12]
        for aspect, value in sorted(observed.items())
    )


def golden() -> dict[str, str]:
    """Today's digests of every record on every day of TODAYS."""
    out: dict[str, str] = {}
    for name, definition, answers in records():
        for today in TODAYS:
            out[f"{name}@{today.isoformat()}"] = digests(observe(definition, answers, today))
    return out


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(golden(), indent=0, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {GOLDEN}")
