"""What the list shows and searches of a record, taken from its answers: the summary (sealed
per revision, decrypted once after unlock) and the blind index of the child's UPN.

Part of the record store (desktop/assessments.py reads and writes through it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from desktop.crypto import RecordCipher
from desktop.errors import TamperedData
from desktop.integrity import Head
from forms.validators import normalise_identifier

UPN_INDEX_FIELD = "child.upn"


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return str(value)


@dataclass(frozen=True)
class Summary:
    """What the assessment list shows of one record; decrypted once after unlock."""

    id: str
    revision: int
    status: str
    updated_at: str
    form: str
    form_version: str
    first_name: str = ""
    last_name: str = ""
    date_of_birth: str = ""
    setting: str = ""
    kind: str = ""
    nc_year: str = ""
    request_date: str = ""
    damaged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise(answers: dict[str, Any]) -> dict[str, str]:
    """The list's columns, taken from the national form's well-known answer paths."""
    child = answers.get("child") if isinstance(answers.get("child"), dict) else {}
    about = answers.get("assessment") if isinstance(answers.get("assessment"), dict) else {}
    assert isinstance(child, dict)
    assert isinstance(about, dict)
    return {
        "first_name": _text(child.get("first_name")),
        "last_name": _text(child.get("last_name")),
        "date_of_birth": _text(child.get("date_of_birth")),
        "nc_year": _text(child.get("nc_year")),
        "setting": _text(about.get("setting_name")),
        "kind": _text(about.get("kind")),
        "request_date": _text(about.get("request_date")),
    }


def upn_index(cipher: RecordCipher, answers: dict[str, Any]) -> bytes | None:
    """The blind index of the child's UPN under this profile's key, or None without one."""
    child = answers.get("child")
    upn = child.get("upn") if isinstance(child, dict) else None
    if not isinstance(upn, str) or not normalise_identifier(upn):
        return None
    return cipher.blind_index(normalise_identifier(upn), UPN_INDEX_FIELD)


def summary_of(head: Head, tip: tuple[int, int, bytes | None] | None, cipher: Any) -> Summary:
    """One record's summary, as `Assessments.summaries` makes it: marked damaged when its row
    fails its MAC, its revisions do not end where the row says, or the summary does not open."""
    fields: dict[str, Any] = {"damaged": True}
    if head.ok(cipher) and tip == (head.revision_count, head.current_revision, head.tip):
        try:
            fields = json.loads(cipher.open(head.summary, "summary", head.id,
                                            head.current_revision))
        except (TamperedData, ValueError):
            fields = {"damaged": True}
    try:
        return Summary(head.id, head.current_revision, head.status, head.updated_at,
                       head.form, head.form_version, **fields)
    except TypeError:  # a summary with fields this version does not know
        return Summary(head.id, head.current_revision, head.status, head.updated_at,
                       head.form, head.form_version, damaged=True)
