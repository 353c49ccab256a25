"""A record's life lives in one table (desktop/record_status.py); a move outside it is a bug."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from desktop.assessments import Assessments
from desktop.record_status import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    OutboxState,
    RecordStatus,
    check_move,
    next_status,
)
from desktop.vault import Vault

ROOT = Path(__file__).resolve().parents[2]


def _example() -> dict[str, object]:
    text = resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    document: dict[str, object] = json.loads(text)
    return document


def test_the_stored_words_are_unchanged() -> None:
    assert [str(s) for s in RecordStatus] == [
        "draft", "ready", "queued", "synced", "amended", "conflict"]
    assert [str(s) for s in OutboxState] == [
        "queued", "in_flight", "acknowledged", "quarantined", "conflict", "superseded"]


def test_an_amendment_stays_one_while_edited_and_a_finalised_record_is_amended() -> None:
    assert next_status("amended", Event.EDIT) is RecordStatus.AMENDED
    assert next_status("queued", Event.EDIT) is RecordStatus.AMENDED
    assert next_status("synced", Event.EDIT) is RecordStatus.AMENDED
    assert next_status("draft", Event.EDIT) is RecordStatus.DRAFT


def test_the_restore_on_finalised_defect_would_have_been_caught() -> None:
    """Before de172c2 an edit (a Restore) of an amendment turned it back into a draft:
    `"amended" if status in ("synced", "queued") else "draft"`. The table refuses that move."""
    def old_rule(status: str) -> str:
        return "amended" if status in ("synced", "queued") else "draft"

    with pytest.raises(IllegalTransition, match="amended"):
        check_move("amended", old_rule("amended"), Event.EDIT)
    # Every move the old rule got right is still allowed.
    for status in ("draft", "queued", "synced"):
        check_move(status, old_rule(status), Event.EDIT)


def test_moves_outside_the_table_raise_a_typed_error() -> None:
    with pytest.raises(IllegalTransition):
        next_status("synced", Event.FINALISE)  # finalising what is sent changes nothing
    with pytest.raises(IllegalTransition):
        next_status("draft", Event.ACKNOWLEDGE)  # the server never held a draft
    with pytest.raises(IllegalTransition):
        next_status("archived", Event.EDIT)  # not a status at all
    assert all(isinstance(new, RecordStatus) for new in TRANSITIONS.values())


def test_restore_on_a_finalised_record_goes_through_an_amendment_in_the_vault(
    vault: Vault,
) -> None:
    store = Assessments(vault)
    record_id, first = store.import_document(_example())
    revision, _ = store.finalise(record_id)
    assert store.status_of(record_id) is RecordStatus.QUEUED
    store.restore(record_id, first)
    assert store.status_of(record_id) is RecordStatus.AMENDED
    store.restore(record_id, revision)  # restoring again keeps the amendment one
    assert store.status_of(record_id) is RecordStatus.AMENDED
    assert store.get(record_id)["status"] == "amended"


_WORDS = re.compile(r"""["'](draft|amended|queued|synced|ready|in_flight|quarantined|"""
                    r"""superseded|acknowledged|conflict)["']""")
# Words of the wire protocol or of the CLI's JSON output that happen to match: marked in place.
_MARKS = ("# wire word", "# output field")


def test_status_words_are_spelled_only_in_record_status() -> None:
    found = []
    for package in ("app", "desktop", "sync", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ("desktop/record_status.py",) or relative.startswith("sync/server/"):
                continue
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                code = line.split("#", 1)[0] if "#" in line and not any(
                    mark in line for mark in _MARKS) else line
                if _WORDS.search(code) and not any(mark in line for mark in _MARKS):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
