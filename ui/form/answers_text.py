"""Answers as a person reads them: now in ``desktop.answers_text`` (no Qt), so the command's
family copy uses the same words; re-exported here for the window's modules."""

from desktop.answers_text import (
    KEY_FIELD,
    NOT_ANSWERED,
    AnswerRow,
    SectionBlock,
    format_answer,
    long_date,
    summary_blocks,
)

__all__ = [
    "KEY_FIELD",
    "NOT_ANSWERED",
    "AnswerRow",
    "SectionBlock",
    "format_answer",
    "long_date",
    "summary_blocks",
]
