"""Finalising many assessments: linear in their number, batched, one savepoint per record.

A record's queued outbox rows are looked up by primary key (`+state` keeps the planner off the
index on `state`, which would scan every queued row per record: quadratic in the batch), and
`finalise --all-complete` commits once per batch rather than once per record.
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.outbox import Outbox
from desktop.profiles import Profiles
from desktop.vault import Vault

PASSWORD = "correct horse battery staple"


def complete(first_name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("id", None)
    doc["answers"]["child"]["first_name"] = first_name
    return doc


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    opened, _ = Profiles(tmp_path, kdf=FAST_KDF).create("alex", PASSWORD)
    return opened


def _queue(vault: Vault, count: int) -> None:
    """`count` records with a queued outbox row each (enqueued directly: no judging needed)."""
    store = Assessments(vault)
    body = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}}
    for n in range(count):
        record_id, revision = store.create({**body, "answers": {"about_me": {"n": n}}})
        with vault.write() as conn:
            Outbox(vault).enqueue(conn, record_id, revision, body=body,
                                  sign_off={"by": "alex", "at": "2026-01-01T00:00:00Z"})


def _steps_to_enqueue(vault: Vault) -> int:
    """SQLite virtual-machine steps spent queueing one more record's revision."""
    record_id, revision = Assessments(vault).create(
        {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}})
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    body = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}}
    with vault.write() as conn:
        conn.set_progress_handler(count, 10)
        try:
            Outbox(vault).enqueue(conn, record_id, revision, body=body,
                                  sign_off={"by": "alex", "at": "2026-01-01T00:00:00Z"})
        finally:
            conn.set_progress_handler(None, 0)
    return steps


def test_queueing_one_record_does_not_read_every_queued_row(vault: Vault) -> None:
    _queue(vault, 5)
    few = _steps_to_enqueue(vault)
    _queue(vault, 600)
    many = _steps_to_enqueue(vault)
    # Looked up by primary key, the work is the same with 5 or 600 others queued (give or
    # take a B-tree level); scanning the queued rows costs at least one step per 10 rows.
    assert many <= few * 1.5 + 20, (few, many)
    plan = vault.conn.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM outbox WHERE assessment_id = ? AND +state = 'queued'",
        ("x",)).fetchall()
    assert "PRIMARY KEY" in str(plan)


def test_finalise_many_skips_the_bad_one_across_batches_and_finalises_the_rest(
    vault: Vault,
) -> None:
    store = Assessments(vault)
    ids = [store.create(complete(f"Child{n}"))[0] for n in range(7)]
    incomplete = complete("Incomplete")
    incomplete["answers"]["child"].pop("date_of_birth")
    bad, _ = store.create(incomplete)
    order = [*ids[:4], bad, *ids[4:]]
    results = list(store.finalise_many(order, batch=3))
    assert [r[0] for r in results] == order
    assert {r[0] for r in results if r[2]} == set(ids)
    assert all(r[1] == 2 for r in results if r[2])
    skipped = [r for r in results if r[3] is not None]
    assert [r[0] for r in skipped] == [bad]
    assert "not complete and valid" in str(skipped[0][3])
    # The skipped record is exactly as it was: one revision, a draft, nothing queued for it.
    assert store.get(bad)["revision"] == 1
    assert store.get(bad)["status"] == "draft"
    queued = {item.assessment_id for item in Outbox(vault).items(["queued"])}
    assert queued == set(ids)
    # Again: everything already queued is reported as such, nothing new is written.
    again = list(store.finalise_many(ids, batch=3))
    assert all(r[1] == 2 and not r[2] and r[3] is None for r in again)
    path = vault.path
    vault.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (7,)
    conn.close()


def test_a_batch_moves_the_state_row_once_for_all_and_audits_each_record(vault: Vault) -> None:
    """The state row (count and XOR of every record's MAC) and the audit chain are moved once
    per batch: they still match the records, one audit entry per record finalised, and a
    record rolled back to its savepoint leaves no trace in either."""
    store = Assessments(vault)
    ids = [store.create(complete(f"Child{n}"))[0] for n in range(7)]
    not_ready = complete("Unready")
    del not_ready["answers"]["about_me"]["aspirations"]
    bad, _ = store.create(not_ready)
    done = list(store.finalise_many([*ids[:3], bad, *ids[3:]], batch=3))
    assert sorted(record for record, _, newly, _ in done if newly) == sorted(ids)
    assert vault.check_metadata() == []
    finalised = [entry for entry in vault.audit_log()
                 if entry["action"] == "assessment.finalise"]
    assert sorted(entry["assessment_id"] for entry in finalised) == sorted(ids)
    # One more, alone: the single path moves the state row itself.
    single = store.create(complete("Single"))[0]
    assert store.finalise(single)[1]
    assert vault.check_metadata() == []


def test_the_queued_hash_is_the_payload_the_sync_sends_with_and_without_an_archive(
    vault: Vault,
) -> None:
    """The body is encoded once when finalising; the hash queued is still that of the payload
    sent (the sync re-derives the payload and refuses one that does not match its hash)."""
    store = Assessments(vault)
    plain = complete("Zoë “Ann” Ünal")
    archived = {**complete("Ola"), "archive": [{"path": "old.answer", "value": "kept ✓"}]}
    ids = [store.create(plain)[0], store.create(archived)[0]]
    done = list(store.finalise_many(ids))
    assert [newly for _, _, newly, _ in done] == [True, True]
    outbox = Outbox(vault)
    items = outbox.items()
    payloads = outbox.payload_bytes(items)
    assert sorted(item.assessment_id for item in items) == sorted(ids)
    for item in items:
        sent = payloads[item.key]
        assert isinstance(sent, bytes)  # not TamperedData: the bytes match the queued hash
        payload = json.loads(sent)
        assert payload["answers"]["child"]["first_name"] in ("Zoë “Ann” Ünal", "Ola")
        assert "archive" not in payload
