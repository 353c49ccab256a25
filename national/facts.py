"""The facts the service files a revision under: read from the answers once, when it arrives.

None of them names a child: no name, date of birth, UPN or ULN is ever copied out of the
payload. They are what the case lists filter by and what the sufficiency figures count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from forms.engine import DueDate

# National Curriculum year to phase of education (the Education Act 2002 key stages, with the
# early years before Reception and post-16 after Year 11).
_PRIMARY = {"R", "1", "2", "3", "4", "5", "6"}
_SECONDARY = {"7", "8", "9", "10", "11"}


@dataclass(frozen=True)
class Facts:
    home_la: str | None = None
    placed_la: str | None = None
    kind: str | None = None
    status: str | None = None
    primary_need: str | None = None
    current_setting_type: str | None = None
    recommended_setting_type: str | None = None
    nc_year: str | None = None
    phase: str | None = None
    academic_year: str | None = None
    event_month: str | None = None
    plan_needed: bool | None = None
    next_due: str | None = None

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(field.name for field in fields(Facts))


def _text(section: Any, name: str, limit: int = 64) -> str | None:
    if not isinstance(section, dict):
        return None
    value = section.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def phase_of(nc_year: str | None) -> str | None:
    if nc_year is None:
        return None
    if nc_year in _PRIMARY:
        return "primary"
    if nc_year in _SECONDARY:
        return "secondary"
    if nc_year.upper().startswith("N") or nc_year.upper() in ("E1", "E2", "EY"):
        return "early_years"
    return "post_16"


def academic_year(day: str | None) -> str | None:
    """The English school year (1 September to 31 August) a date falls in, as '2026/27'."""
    if day is None:
        return None
    try:
        when = date.fromisoformat(day[:10])
    except ValueError:
        return None
    start = when.year if when.month >= 9 else when.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def facts_of(answers: Any, deadlines: Sequence[DueDate] = ()) -> Facts:
    """The facts of one set of answers of the national form (any version: absent ones are
    None). `academic_year` is the school year a place is needed: the one the assessment date
    falls in; `event_month` is the month of the request (else the assessment)."""
    if not isinstance(answers, dict):
        return Facts()
    assessment = answers.get("assessment")
    child = answers.get("child")
    needs = answers.get("needs")
    placement = answers.get("placement")
    recommendation = answers.get("recommendation")
    nc_year = _text(child, "nc_year", 8)
    assessed = _text(assessment, "assessment_date", 10)
    requested = _text(assessment, "request_date", 10)
    plan_needed = recommendation.get("plan_needed") if isinstance(recommendation, dict) else None
    if not isinstance(plan_needed, bool):
        plan_needed = None
    status = {True: "plan_recommended", False: "no_plan"}.get(plan_needed, "undecided") \
        if plan_needed is not None else "undecided"
    pending = sorted(d.due.isoformat() for d in deadlines)
    month = (requested or assessed or "")[:7] or None
    return Facts(
        home_la=_text(child, "home_la", 3),
        placed_la=_text(assessment, "setting_la", 3),
        kind=_text(assessment, "kind", 32),
        status=status,
        primary_need=_text(needs, "primary_need", 16),
        current_setting_type=_text(placement, "current_setting_type"),
        recommended_setting_type=_text(recommendation, "setting_type"),
        nc_year=nc_year,
        phase=phase_of(nc_year),
        academic_year=academic_year(assessed or requested),
        event_month=month,
        plan_needed=plan_needed,
        next_due=pending[0] if pending else None,
    )
