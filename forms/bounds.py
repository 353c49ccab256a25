"""Hard bounds on every answer, derived from the form definition's question types.

A form's own limits (`max_length`, `max_items`, `min`/`max`) are *validation*: an answer past
them is kept and reported as a problem to fix. The bounds here are *acceptance*: an answers
document past one of them is refused whole, in one sentence naming the path (never the value),
on import, on every save and (server side) on arrival; and the window never hands a widget more
than the bound. They exist so hostile or corrupt JSON cannot exhaust memory or the stack.

By type (`forms/FORMAT.md` names the types):

- `text` (a name, a role, a short answer): 2 x its `max_length` (default 200, so 400).
- `long_text` (a long answer in someone's own words): 2 x its `max_length` (default
  20,000, so 40,000 characters).
- `date`: 32 characters (`YYYY-MM-DD`, or a date as typed and not yet valid).
- identifiers (`upn`, `uln`, `urn`, `ukprn`, `laestab`, `la_code`), `choice`, each code
  of a `multi_choice`, a repeat item's `_key`, `yes_no` kept as text: 64 characters.
- "please specify" text (`<question>_other`): 400 characters, as `text`.
- `integer`, `decimal`: a finite number at most 10^15 either way (64 characters if kept
  as typed).
- `person` and `agreement` parts: each as `text`; `agreement.date` as `date`;
  `agreement.comments` as `long_text`.
- a `multi_choice` list: the number of codes in its list (1,000 when open).
- a repeating section or `group`: its `max_items` (default 1,000, the format's ceiling).
- an answer the definition does not ask, an archive entry, or any answer of a form this
  build does not know: 40,000 characters per string, 1,000 entries per list or object.
- nesting below `answers`: 8 levels (the deepest real answer, a person in a group of a
  repeating section, needs 6).
- a whole document: 16,000,000 characters of text and 200,000 values; an assessment file
  to import: 64 MiB (refused before it is parsed).

Everywhere: numbers finite (JSON has no infinity; `1e400` parses as one and is refused) and
text valid Unicode (a lone surrogate such as `"\\ud800"` cannot be stored as UTF-8). The walk is
iterative, so no document can exhaust Python's stack here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from forms.errors import AnswersError, FormError
from forms.model import IDENTIFIER_TYPES, KEY_FIELD, OTHER_SUFFIX, FormDefinition, Question, Section
from forms.registry import Catalogue, load_definition

TEXT_FACTOR = 2
DEFAULT_TEXT = 200
DEFAULT_LONG_TEXT = 20000
DATE_CHARS = 32
CODE_CHARS = 64
SHORT_CHARS = TEXT_FACTOR * DEFAULT_TEXT  # 400
GENERIC_CHARS = TEXT_FACTOR * DEFAULT_LONG_TEXT  # 40,000
GENERIC_ITEMS = 1000
MAX_NUMBER = 10**15
MAX_DEPTH = 8
MAX_TOTAL_CHARS = 16_000_000
MAX_VALUES = 200_000
# A whole assessment document file (import) is refused before it is parsed past this size.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
HEADER_CHARS = 100  # form, form_version

_SURROGATE = re.compile("[\ud800-\udfff]")


class OutOfBounds(AnswersError):
    """An answers document is past a hard bound: too long, too many, too deep, not finite.

    The message is a clause (lower case, no full stop) naming the path, never the value, for
    the caller to put in its sentence: "FILE was not imported: <message>."
    """


@dataclass(frozen=True)
class Bound:
    """The most one answer may hold: characters per string, entries per list, and its shape.

    `fields` maps a dict answer's keys to their bounds (person, agreement, a group's item);
    `item` bounds each entry of a list (a group's items, a multi-choice's codes).
    """

    chars: int = GENERIC_CHARS
    items: int = GENERIC_ITEMS
    fields: dict[str, Bound] | None = None
    item: Bound | None = None
    number: bool = False


GENERIC = Bound()
CODE = Bound(chars=CODE_CHARS)
SHORT = Bound(chars=SHORT_CHARS)
DATE = Bound(chars=DATE_CHARS)
NUMBER = Bound(chars=CODE_CHARS, number=True)


def _text_bound(question: Question, default: int) -> Bound:
    return Bound(chars=TEXT_FACTOR * (question.max_length or default))


def question_bound(question: Question, definition: FormDefinition | None = None) -> Bound:
    """The hard bound of one question's answer, by its type."""
    kind = question.type
    if kind == "text":
        return _text_bound(question, DEFAULT_TEXT)
    if kind == "long_text":
        return _text_bound(question, DEFAULT_LONG_TEXT)
    if kind == "date":
        return DATE
    if kind in IDENTIFIER_TYPES or kind in ("choice", "yes_no"):
        return CODE
    if kind in ("integer", "decimal"):
        return NUMBER
    if kind == "multi_choice":
        count = GENERIC_ITEMS
        if definition is not None and question.code_list in definition.code_lists:
            count = len(definition.code_lists[question.code_list].items)
        return Bound(chars=CODE_CHARS, items=count, item=CODE)
    if kind == "person":
        return Bound(chars=SHORT_CHARS, items=3,
                     fields={"name": SHORT, "role": SHORT, "organisation": SHORT})
    if kind == "agreement":
        return Bound(chars=SHORT_CHARS, items=5, fields={
            "name": SHORT, "role": SHORT, "decision": CODE, "date": DATE,
            "comments": Bound(chars=GENERIC_CHARS)})
    if kind == "group":
        item = _item_bound(question.questions, definition)
        return Bound(items=question.max_items or GENERIC_ITEMS, item=item)
    return SHORT  # computed values are not stored; anything there is small


def _item_bound(questions: tuple[Question, ...], definition: FormDefinition | None) -> Bound:
    fields: dict[str, Bound] = {KEY_FIELD: CODE}
    for question in questions:
        fields[question.id] = question_bound(question, definition)
        if question.type in ("choice", "multi_choice"):
            fields[question.id + OTHER_SUFFIX] = SHORT
    return Bound(chars=SHORT_CHARS, items=len(fields) + GENERIC_ITEMS, fields=fields)


def section_bound(section: Section, definition: FormDefinition | None = None) -> Bound:
    """A section's answers: an object of questions, or (repeating) a list of such objects."""
    item = _item_bound(section.questions, definition)
    if section.repeat:
        return Bound(items=section.max_items or GENERIC_ITEMS, item=item)
    return item


_BY_DEFINITION: dict[int, tuple[FormDefinition, Bound]] = {}


def answers_bound(definition: FormDefinition | None) -> Bound:
    """The bound of a whole `answers` object; with no definition, only the generic bounds."""
    if definition is None:
        return GENERIC
    cached = _BY_DEFINITION.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    fields = {section.id: section_bound(section, definition) for section in definition.sections}
    bound = Bound(items=len(fields) + GENERIC_ITEMS, fields=fields)
    # Definitions live as long as the process (the registry keeps them): a few entries.
    _BY_DEFINITION[id(definition)] = (definition, bound)
    return bound


def _describe(path: str) -> str:
    return path or "answers"


def check_text(value: str, path: str, limit: int) -> None:
    """One string: valid Unicode and at most `limit` characters."""
    if not value.isascii() and _SURROGATE.search(value):
        raise OutOfBounds(f"the answer at {_describe(path)} is not valid Unicode text "
                          "(it holds a lone surrogate)")
    if len(value) > limit:
        raise OutOfBounds(f"the answer at {_describe(path)} is {len(value):,} characters long, "
                          f"more than the {limit:,} OneSEND accepts there")


def check_number(value: float, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise OutOfBounds(f"the number at {_describe(path)} is not finite")
    if abs(value) > MAX_NUMBER:
        raise OutOfBounds(f"the number at {_describe(path)} is larger than OneSEND accepts "
                          "(at most 10^15 either way)")


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


# A path is kept as a chain (parent, key) and written out only for an error message.
_Path = tuple[Any, str | int] | None


def _render(chain: _Path, root: str) -> str:
    keys: list[str | int] = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    path = root
    for key in reversed(keys):
        path = _child_path(path, key)
    return path


def check_value(value: Any, bound: Bound = GENERIC, path: str = "") -> None:
    """Walk `value` (iteratively) and raise OutOfBounds at the first thing past its bound."""
    stack: list[tuple[Any, Bound, _Path, int]] = [(value, bound, None, 0)]
    chars = 0
    values = 0
    while stack:
        current, limit, chain, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            raise OutOfBounds(f"the answers hold more than the {MAX_VALUES:,} values OneSEND "
                              "accepts")
        if depth > MAX_DEPTH:
            raise OutOfBounds(f"the answers at {_describe(_render(chain, path))} are nested "
                              f"more than {MAX_DEPTH} levels deep")
        kind = type(current)
        if kind is str:
            if len(current) > limit.chars or not current.isascii():
                check_text(current, _render(chain, path), limit.chars)
            chars += len(current)
        elif current is None or kind is bool:
            continue
        elif kind is int or kind is float:
            if (kind is float and not math.isfinite(current)) or abs(current) > MAX_NUMBER:
                check_number(current, _render(chain, path))
        elif kind is list:
            if len(current) > limit.items:
                raise OutOfBounds(f"the answer at {_describe(_render(chain, path))} has "
                                  f"{len(current):,} entries, more than the {limit.items:,} "
                                  "OneSEND accepts there")
            entry = limit.item or _generic_below(limit)
            inline = depth < MAX_DEPTH  # a child text, null or yes/no is checked in place
            for index, item in enumerate(current):
                if inline and (type(item) is str or item is None or type(item) is bool):
                    values += 1
                    if values > MAX_VALUES:
                        raise OutOfBounds(f"the answers hold more than the {MAX_VALUES:,} "
                                          "values OneSEND accepts")
                    if type(item) is str:
                        if len(item) > entry.chars or not item.isascii():
                            check_text(item, _render((chain, index), path), entry.chars)
                        chars += len(item)
                    continue
                stack.append((item, entry, (chain, index), depth + 1))
        elif kind is dict:
            if len(current) > limit.items:
                raise OutOfBounds(f"the answer at {_describe(_render(chain, path))} has "
                                  f"{len(current):,} entries, more than the {limit.items:,} "
                                  "OneSEND accepts there")
            fields = limit.fields
            below = _generic_below(limit)
            inline = depth < MAX_DEPTH
            for key, item in current.items():
                key_text = key if type(key) is str else str(key)
                if len(key_text) > CODE_CHARS or not key_text.isascii():
                    check_text(key_text, _render(chain, path), CODE_CHARS)
                chars += len(key_text)
                bound = (fields.get(key_text) if fields else None) or below
                if inline and (type(item) is str or item is None or type(item) is bool):
                    # Checked here, as the walk would check it next (one value, its text).
                    values += 1
                    if values > MAX_VALUES:
                        raise OutOfBounds(f"the answers hold more than the {MAX_VALUES:,} "
                                          "values OneSEND accepts")
                    if type(item) is str:
                        if len(item) > bound.chars or not item.isascii():
                            check_text(item, _render((chain, key_text), path), bound.chars)
                        chars += len(item)
                    continue
                stack.append((item, bound, (chain, key_text), depth + 1))
        else:
            raise OutOfBounds(f"the answer at {_describe(_render(chain, path))} is not a JSON "
                              "value")
        if chars > MAX_TOTAL_CHARS:
            raise OutOfBounds(f"the answers hold more than the {MAX_TOTAL_CHARS:,} characters "
                              "of text OneSEND accepts")


def _generic_below(limit: Bound) -> Bound:
    """What is not declared: generic bounds, never looser than the declared value's own."""
    if limit.fields is None and limit.item is None and limit is not GENERIC:
        # A scalar question holding a list or object: bound its contents by its own size.
        return Bound(chars=limit.chars, items=min(limit.items, GENERIC_ITEMS))
    return GENERIC


def definition_for(document: dict[str, Any],
                   catalogue: Catalogue | None = None) -> FormDefinition | None:
    """The definition a document names (shipped, or fetched into `catalogue`), or None (an
    unknown form gets the generic bounds)."""
    form, version = document.get("form"), document.get("form_version")
    if not isinstance(form, str) or not isinstance(version, str):
        return None
    try:
        return load_definition(form, version, catalogue)
    except FormError:
        return None


def check_document_bounds(document: dict[str, Any],
                          definition: FormDefinition | None = None,
                          catalogue: Catalogue | None = None) -> None:
    """An assessment document's answers and archive, against its definition (else generic)."""
    if definition is None:
        definition = definition_for(document, catalogue)
    for field in ("form", "form_version"):
        value = document.get(field)
        if isinstance(value, str):
            check_text(value, field, HEADER_CHARS)
    check_value(document.get("answers"), answers_bound(definition), "")
    if "archive" in document:
        check_value(document["archive"], GENERIC, "archive")


# -- display: never more than the bound in a widget ------------------------------------------

TRUNCATION_NOTE = " […]"


def clip_text(value: str, limit: int) -> tuple[str, bool]:
    """The first `limit` characters of `value` (and whether any were cut)."""
    if len(value) <= limit:
        return value, False
    return value[:limit], True


def clip_answers(answers: Any, definition: FormDefinition | None) -> tuple[Any, list[str]]:
    """A copy of stored answers cut to their bounds, and the paths that were cut.

    For a record saved before the bounds existed: the window shows what fits and says so; the
    stored revision itself is never changed (History keeps it whole). Too-deep values and
    surrogates are dropped; over-long text and lists are cut.
    """
    clipped: list[str] = []

    def walk(value: Any, limit: Bound, path: str, depth: int) -> Any:
        # Recursion is bounded by MAX_DEPTH: deeper values are cut, not descended into.
        if depth > MAX_DEPTH or (depth == MAX_DEPTH and isinstance(value, list | dict)
                                 and value):
            clipped.append(_describe(path))
            return None
        if isinstance(value, str):
            text, cut = clip_text(_SURROGATE.sub("\ufffd", value), limit.chars)
            if cut or text != value:
                clipped.append(_describe(path))
            return text
        if isinstance(value, float) and not math.isfinite(value):
            clipped.append(_describe(path))
            return None
        if isinstance(value, list):
            if len(value) > limit.items:
                clipped.append(_describe(path))
            entry = limit.item or _generic_below(limit)
            return [walk(item, entry, _child_path(path, index), depth + 1)
                    for index, item in enumerate(value[: limit.items])]
        if isinstance(value, dict):
            out = {}
            for index, (key, item) in enumerate(value.items()):
                if index >= limit.items:
                    clipped.append(_describe(path))
                    break
                field = (limit.fields or {}).get(str(key)) if limit.fields else None
                out[key] = walk(item, field or _generic_below(limit),
                                _child_path(path, str(key)), depth + 1)
            return out
        return value

    result = walk(answers, answers_bound(definition), "", 0)
    return result, clipped
