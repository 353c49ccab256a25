"""The life of a record, in one place: its statuses, its outbox states and the allowed moves.

A record (one assessment) is created as a `draft`; edits keep it a draft. Finalising signs off
its current answers as a new revision (that revision is stored `ready`) and queues it: the
record is `queued`. When the server acknowledges the queued revision the record is `synced`.
Editing a queued or synced record starts an `amended` draft (the finalised revision stays as
sent), which stays amended while it is edited, until it is finalised again. When the server
holds a newer revision the record is in `conflict` until it is resolved (an amendment) or
finalised again.

These are the only places the status words are spelled; each value is the string stored in
the vault (a `StrEnum`), so the database keeps the same words. A move not in the table raises
`IllegalTransition`, a bug in OneSEND rather than a fault of the user or the disk.
"""

from __future__ import annotations

from enum import StrEnum


class RecordStatus(StrEnum):
    """A record's status (the `assessments.status` and `revisions.status` columns)."""

    DRAFT = "draft"
    READY = "ready"  # a revision signed off by finalising (the record itself is then queued)
    QUEUED = "queued"
    SYNCED = "synced"
    AMENDED = "amended"
    CONFLICT = "conflict"


class OutboxState(StrEnum):
    """Where one finalised revision is on its way to the server (`outbox.state`)."""

    QUEUED = "queued"
    IN_FLIGHT = "in_flight"
    ACKNOWLEDGED = "acknowledged"
    QUARANTINED = "quarantined"
    CONFLICT = "conflict"
    SUPERSEDED = "superseded"


class Event(StrEnum):
    """What happens to a record."""

    EDIT = "edit"  # a save, a restore of an earlier revision, a form migration, an import
    FINALISE = "finalise"
    ACKNOWLEDGE = "acknowledge"  # the server holds the queued revision
    CONFLICT = "conflict"  # the server holds a newer revision
    RESOLVE = "resolve"  # the conflict view saved the chosen answers


class IllegalTransition(Exception):
    """A record was about to move in a way its life does not allow: a bug in OneSEND."""

    def __init__(self, status: str, event: str) -> None:
        super().__init__(f"A record that is {status} cannot take the step '{event}'.")
        self.status, self.event = status, event


S = RecordStatus
TRANSITIONS: dict[tuple[RecordStatus, Event], RecordStatus] = {
    (S.DRAFT, Event.EDIT): S.DRAFT,
    (S.READY, Event.EDIT): S.DRAFT,
    (S.CONFLICT, Event.EDIT): S.DRAFT,
    (S.AMENDED, Event.EDIT): S.AMENDED,  # an amendment stays one while it is edited
    (S.QUEUED, Event.EDIT): S.AMENDED,
    (S.SYNCED, Event.EDIT): S.AMENDED,
    (S.DRAFT, Event.FINALISE): S.QUEUED,
    (S.READY, Event.FINALISE): S.QUEUED,
    (S.AMENDED, Event.FINALISE): S.QUEUED,
    (S.CONFLICT, Event.FINALISE): S.QUEUED,
    (S.QUEUED, Event.ACKNOWLEDGE): S.SYNCED,
    **{(status, Event.CONFLICT): S.CONFLICT for status in S},
    **{(status, Event.RESOLVE): S.AMENDED for status in S},
}
del S

# Statuses a user can finalise; what has been finalised cannot be edited in place.
FINALISABLE = tuple(status for status in RecordStatus
                    if (status, Event.FINALISE) in TRANSITIONS)
FINALISED = (RecordStatus.READY, RecordStatus.QUEUED, RecordStatus.SYNCED)
# Drafts (new or amended): what a form update migrates and a CTF import may update.
EDITABLE_DRAFTS = (RecordStatus.DRAFT, RecordStatus.AMENDED)
# Outbox states still on their way (not acknowledged, not superseded).
UNSENT_STATES = (OutboxState.QUEUED, OutboxState.IN_FLIGHT, OutboxState.QUARANTINED,
                 OutboxState.CONFLICT)
SET_ASIDE = (OutboxState.QUARANTINED, OutboxState.CONFLICT)


def next_status(status: str, event: Event) -> RecordStatus:
    """The status a record moves to; IllegalTransition if its life does not allow the step."""
    try:
        return TRANSITIONS[(RecordStatus(status), event)]
    except (KeyError, ValueError):
        raise IllegalTransition(status, event) from None


def check_move(old: str, new: str, event: Event) -> RecordStatus:
    """`new` is what `event` makes of `old`, or IllegalTransition."""
    expected = next_status(old, event)
    if expected != new:
        raise IllegalTransition(old, f"{event} to {new}")
    return expected


def sql_list(values: tuple[StrEnum, ...] | type[StrEnum]) -> str:
    """`('a', 'b')` for a constant SQL `IN` list or CHECK constraint."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
