"""Conflicts: the server's latest revision (verified), and answers compared and merged.

No Qt: the conflict view shows what `load_conflict` returns and saves what `merge_answers`
builds from the user's choice for each answer that differs. An answer is a question in a
section (`section.question`); a repeating section is compared and chosen as a whole.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final, Literal

from contract.protocol import payload_hash, receipt_matches
from desktop.assessments import Assessments
from desktop.errors import UntrustedServer
from desktop.vault import Vault
from sync.device import load_credentials
from sync.http import Api, ApiSettings

Side = Literal["mine", "theirs"]
MINE: Final[Side] = "mine"
THEIRS: Final[Side] = "theirs"
AnswerKey = tuple[str, str | None]  # (section, question); question None: the whole section


@dataclass(frozen=True)
class ServerRevision:
    """The server's latest revision of a submission, its receipt verified."""

    submission_id: str
    revision: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class ConflictPair:
    """Both sides of a conflict: the local revision that was refused, and the server's."""

    record_id: str
    local_revision: int
    mine: dict[str, Any]
    theirs: ServerRevision


def fetch_latest(
    vault: Vault, submission_id: str, settings: ApiSettings | None = None
) -> ServerRevision:
    """The server's latest revision; its payload must match a receipt signed by the server."""
    credentials = load_credentials(vault)
    api = Api(credentials.server_url, credentials.settings(settings), token=credentials.token)
    try:
        body = api.call("GET", f"/v1/submissions/{submission_id}/latest").body
    finally:
        api.close()
    body = body if isinstance(body, dict) else {}
    payload, revision = body.get("payload"), body.get("revision")
    if (not isinstance(payload, dict) or not isinstance(revision, int)
            or not isinstance(payload.get("answers"), dict)
            or not receipt_matches(credentials.receipt_public_key(), body.get("receipt"),
                                   submission_id=submission_id, revision=revision,
                                   digest=payload_hash(payload),
                                   server_id=credentials.server_id)):
        raise UntrustedServer("The server's copy of this assessment could not be verified, so "
                              "it is not shown; nothing was changed.")
    return ServerRevision(submission_id, revision, payload)


def load_conflict(
    vault: Vault, record_id: str, revision: int, settings: ApiSettings | None = None
) -> ConflictPair:
    mine = Assessments(vault).get(record_id, revision)
    return ConflictPair(record_id, revision, mine, fetch_latest(vault, record_id, settings))


def _units(answers: dict[str, Any]) -> dict[AnswerKey, Any]:
    units: dict[AnswerKey, Any] = {}
    for section, value in answers.items():
        if isinstance(value, dict):
            for question, answer in value.items():
                units[(section, question)] = answer
        else:
            units[(section, None)] = value
    return units


def answer_units(mine: dict[str, Any], theirs: dict[str, Any]) -> list[AnswerKey]:
    """Every answer either side holds, mine's order first."""
    keys = list(_units(mine))
    keys += [key for key in _units(theirs) if key not in set(keys)]
    return keys


def value_of(answers: dict[str, Any], key: AnswerKey) -> Any:
    """An answer's value on one side (None when that side does not hold it)."""
    return _units(answers).get(key)


def differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[AnswerKey]:
    """The answers that differ (held by one side only, or held with other values)."""
    left, right = _units(mine), _units(theirs)
    return [key for key in answer_units(mine, theirs)
            if (key in left) != (key in right) or left.get(key) != right.get(key)]


def merge_answers(
    mine: dict[str, Any], theirs: dict[str, Any], choices: dict[AnswerKey, Side]
) -> dict[str, Any]:
    """The answers chosen: every differing answer must have a choice (nothing is silent)."""
    differing = differences(mine, theirs)
    missing = [key for key in differing if key not in choices]
    if missing:
        raise ValueError(f"{len(missing)} differing answer(s) have no choice")
    left, right = _units(mine), _units(theirs)
    merged: dict[str, Any] = {}
    for key in answer_units(mine, theirs):
        side = choices.get(key, MINE) if key in differing else MINE
        source = left if side == MINE else right
        if key not in source:
            continue  # the chosen side does not hold this answer
        section, question = key
        if question is None:
            merged[section] = copy.deepcopy(source[key])
            continue
        container = merged.setdefault(section, {})
        if isinstance(container, dict):  # not when the other side made it a repeat
            container[question] = copy.deepcopy(source[key])
    return merged
