"""The grammar of an answer's path, parsed in one place.

`section.question`, `section[i].question` (a repeating section's item), and
`section.group[j].field` (a field of a repeating group's item). Problems, errors from the
server, migrations and the editor all name answers this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[a-z][a-z0-9_]*"  # as the definition format names sections and questions
_INDEX = r"[0-9]+"  # ASCII digits only (\d would take "٣" too)
_PATH = re.compile(
    rf"^({_NAME})(?:\[({_INDEX})\])?(?:\.({_NAME})(?:\[({_INDEX})\]\.({_NAME}))?)?")


@dataclass(frozen=True)
class AnswerPath:
    """The parts of an answer's path; the absent ones None."""

    section: str
    item: int | None = None  # the repeating section's item
    question: str | None = None  # a question, or a repeating group
    group_item: int | None = None  # the group's item
    field: str | None = None  # the field of the group's item


def parse_answer_path(path: str, *, whole: bool = True) -> AnswerPath | None:
    """The path's parts; None when it does not follow the grammar (with `whole=False`, a path
    whose beginning does is taken as far as it goes)."""
    found = _PATH.match(path)
    if found is None or (whole and found.end() != len(path)):
        return None
    section, item, question, group_item, field = found.groups()
    return AnswerPath(section, None if item is None else int(item), question,
                      None if group_item is None else int(group_item), field)
