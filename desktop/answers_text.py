"""Answers as a person reads them: labels for codes, dates in words, yes or no.

Shared by "Check your answers", History and the family's PDF (window and command), so all
say the same thing; no Qt, so the command uses it too. Knows question types, never a
question by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from forms.engine import AGREEMENT_DECISIONS, Session
from forms.expressions import MISSING
from forms.model import CHOICE_TYPES, IDENTIFIER_TYPES, KEY_FIELD, OTHER_SUFFIX, Question

NOT_ANSWERED = "Not answered"


def long_date(value: Any) -> str:
    """``2025-06-18`` → ``18 June 2025``; anything else as typed."""
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
    else:
        return "" if value is None else str(value)
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class AnswerRow:
    """One line of a summary: which question, what was answered, and where it lives."""

    path: str
    label: str
    text: str
    answered: bool
    long: bool = False
    changeable: bool = True


@dataclass(frozen=True)
class SectionBlock:
    """One visible section's rows; a repeating section's rows are grouped per item."""

    id: str
    title: str
    help: str
    rows: tuple[AnswerRow, ...]
    items: tuple[tuple[str, tuple[AnswerRow, ...]], ...] = ()
    repeat: bool = False


def _choice_label(session: Session, question: Question, code: Any) -> str:
    if question.code_list is not None:
        item = session.definition.code_lists[question.code_list].by_code.get(str(code))
        return item.label if item is not None else str(code)
    return str(code)


def format_answer(session: Session, section_id: str, question: Question, value: Any, *,
                  container: dict[str, Any] | None = None,
                  linked: dict[str, str] | None = None) -> str:
    """The answer in words; empty string when not answered."""
    if value is None or value is MISSING or (isinstance(value, str) and not value.strip()):
        return ""
    kind = question.type
    if kind == "yes_no":
        return "Yes" if value is True else "No" if value is False else str(value)
    if kind == "date":
        return long_date(value)
    if kind in CHOICE_TYPES:
        codes = value if isinstance(value, list | tuple) else [value]
        if question.choices_from is not None:
            names = [(linked or {}).get(str(code), str(code)) for code in codes]
        else:
            names = [_choice_label(session, question, code) for code in codes]
        other = (container or {}).get(question.id + OTHER_SUFFIX)
        if isinstance(other, str) and other.strip():
            names.append(other.strip())
        return "\n".join(names) if kind == "multi_choice" else ", ".join(names)
    if kind == "person" and isinstance(value, dict):
        parts = [str(value[k]) for k in ("name", "role", "organisation") if value.get(k)]
        return ", ".join(parts)
    if kind == "agreement" and isinstance(value, dict):
        lines = [", ".join(str(value[k]) for k in ("name", "role") if value.get(k))]
        if value.get("decision"):
            lines.append(AGREEMENT_DECISIONS.get(str(value["decision"]), str(value["decision"])))
        if value.get("date"):
            lines.append(f"Signed {long_date(value['date'])}")
        if value.get("comments"):
            lines.append(str(value["comments"]))
        return "\n".join(line for line in lines if line)
    if kind == "computed":
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return long_date(value) if isinstance(value, date) else str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _linked_labels(session: Session, question: Question, section_id: str,
                   sub_id: str | None = None) -> dict[str, str]:
    if question.choices_from is None:
        return {}
    if sub_id is None:
        return dict(session.choices(section_id, question.id))
    return dict(session.choices(section_id, sub_id, question.id))


def summary_blocks(session: Session, *, include_identifiers: bool = True,
                   include_unanswered: bool = True) -> list[SectionBlock]:
    """Every visible answer by visible section, in form order."""
    answers = session.answers
    values = session.values
    blocks = []
    for section in session.visible_sections:
        raw = answers.get(section.id)
        if section.repeat:
            items = []
            for index, item in enumerate(raw if isinstance(raw, list) else []):
                if not isinstance(item, dict):
                    continue
                rows = _rows(session, section.id, section.questions, raw=item,
                             prefix=f"{section.id}[{index}]", values=values,
                             include_identifiers=include_identifiers,
                             include_unanswered=include_unanswered, index=index)
                items.append((f"{section.item_label} {index + 1}", tuple(rows)))
            blocks.append(SectionBlock(section.id, section.title, section.help, (), tuple(items),
                                       repeat=True))
            continue
        rows = _rows(session, section.id, section.questions,
                     raw=raw if isinstance(raw, dict) else {}, prefix=section.id, values=values,
                     include_identifiers=include_identifiers,
                     include_unanswered=include_unanswered, index=None)
        blocks.append(SectionBlock(section.id, section.title, section.help, tuple(rows)))
    return blocks


def _rows(session: Session, section_id: str, questions: tuple[Question, ...], *,
          raw: dict[str, Any], prefix: str, values: dict[str, Any], include_identifiers: bool,
          include_unanswered: bool, index: int | None) -> list[AnswerRow]:
    rows: list[AnswerRow] = []
    for question in questions:
        path = f"{prefix}.{question.id}"
        if not session.is_visible(path):
            continue
        if not include_identifiers and question.type in IDENTIFIER_TYPES:
            continue
        if question.is_group:
            items = raw.get(question.id)
            for number, item in enumerate(items if isinstance(items, list) else []):
                if not isinstance(item, dict):
                    continue
                for sub in question.questions:
                    sub_path = f"{path}[{number}].{sub.id}"
                    if not session.is_visible(sub_path):
                        continue
                    if not include_identifiers and sub.type in IDENTIFIER_TYPES:
                        continue
                    text = format_answer(
                        session, section_id, sub, item.get(sub.id), container=item,
                        linked=_linked_labels(session, sub, section_id, question.id))
                    if text or include_unanswered:
                        rows.append(AnswerRow(
                            sub_path, f"{question.item_label} {number + 1}: {sub.label}",
                            text or NOT_ANSWERED, bool(text), sub.type == "long_text"))
            if not items and include_unanswered:
                rows.append(AnswerRow(path, question.label, NOT_ANSWERED, False))
            continue
        if question.is_computed:
            key = f"{section_id}.{question.id}"
            value = values.get(key, MISSING) if index is None else MISSING
            text = format_answer(session, section_id, question, value)
            if text:
                rows.append(AnswerRow(path, question.label, text, True, changeable=False))
            continue
        linked = _linked_labels(session, question, section_id)
        text = format_answer(session, section_id, question, raw.get(question.id), container=raw,
                             linked=linked)
        if text or include_unanswered:
            rows.append(AnswerRow(path, question.label, text or NOT_ANSWERED, bool(text),
                                  question.type in ("long_text", "agreement")))
    return rows


__all__ = [
    "KEY_FIELD",
    "NOT_ANSWERED",
    "AnswerRow",
    "SectionBlock",
    "format_answer",
    "long_date",
    "summary_blocks",
]
