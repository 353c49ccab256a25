"""What the editor's side list says and where "Next" goes, without Qt.

The side list holds the form's visible sections, each with its completeness mark
("✓ Child (complete)", "○ Outcomes (2 to fix, 1 to answer)"), then "Check your answers" and
"History". `ui.form.sidebar.SectionSidebar` draws these rows; the editor asks here which
section follows another and what a record's status and title say.
"""

from __future__ import annotations

from dataclasses import replace

from desktop.record_status import RecordStatus
from forms.engine import NOT_A_REAL_DATE, Problem, Session

CHECK_PAGE = "check-answers"
HISTORY_PAGE = "history"
PAGES: tuple[tuple[str, str], ...] = ((CHECK_PAGE, "Check your answers and finalise"),
                                      (HISTORY_PAGE, "History of changes"))
STATUS_WORDS: dict[str, str] = {
    RecordStatus.DRAFT: "Draft",
    RecordStatus.READY: "Finalised",
    RecordStatus.QUEUED: "Finalised, waiting to send",
    RecordStatus.SYNCED: "Finalised and sent",
    RecordStatus.AMENDED: "Amendment (draft)",
    RecordStatus.CONFLICT: "Needs attention: changed elsewhere",
}
TITLE_CHARS = 80
# The window's date box takes 27/03/2016 (and says so under it), so a date that is not a real one
# is explained in that format, not in the stored form's year-month-day.
NOT_A_REAL_DATE_HERE = "Enter a real date, for example 27/03/2016."


def as_shown(problems: list[Problem]) -> list[Problem]:
    """The engine's problems in the window's words (its date box's format)."""
    return [replace(p, message=NOT_A_REAL_DATE_HERE) if p.message == NOT_A_REAL_DATE else p
            for p in problems]


def title_text(name: str) -> str:
    """A name as a title (the editor's heading, the window title): at most 80 characters."""
    return name if len(name) <= TITLE_CHARS else name[: TITLE_CHARS - 1] + "…"


def status_text(status: str) -> str:
    return f"Status: {STATUS_WORDS.get(status, status)}"


def section_mark(session: Session, section_id: str) -> str:
    """A section's row: its title and whether it is complete, or what is left to do."""
    status = session.section_status(section_id)
    if status.complete:
        return f"✓ {status.title} (complete)"
    parts = []
    if status.invalid:
        parts.append(f"{status.invalid} to fix")
    if status.missing:
        parts.append(f"{status.missing} to answer")
    return f"○ {status.title} ({', '.join(parts)})"


def sidebar_rows(session: Session) -> list[tuple[str, str]]:
    """(key, words) of every row: the visible sections, then the two pages."""
    return [*((s.id, section_mark(session, s.id)) for s in session.visible_sections), *PAGES]


def following(session: Session, section_id: str) -> tuple[str, str] | None:
    """The visible section after this one (id, title); None after the last."""
    ids = [(s.id, s.title) for s in session.visible_sections]
    for index, (sid, _title) in enumerate(ids):
        if sid == section_id and index + 1 < len(ids):
            return ids[index + 1]
    return None
