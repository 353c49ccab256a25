"""Finalising many assessments: linear in their number, batched, one savepoint per record.

A record's queued outbox rows are looked up by primary key (`+state` keeps the planner off the
index on `state`, which would scan every queued row per record: quadratic in the batch), and
`finalise --all-complete` commits once per batch rather than once per record.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import TamperedData
from desktop.judging import RECORD_ERRORS
from desktop.outbox import Outbox, Queued
from desktop.profiles import Profiles
from desktop.vault import Vault
from forms.errors import UserError
from forms.registry import Catalogue, parse_definition_text
from tests.before_bounds import create_past_the_bounds

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


def _steps_to_queue_a_batch(vault: Vault, count: int) -> int:
    """SQLite virtual-machine steps spent queueing `count` more records' revisions at once."""
    store = Assessments(vault)
    body = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": {}}
    batch = []
    for _ in range(count):
        record_id, revision = store.create(body)
        batch.append(Queued(record_id, revision, "national-send-assessment", "1.0.0",
                            b"{}", {"by": "alex", "at": "2026-01-01T00:00:00Z"},
                            "2026-01-01T00:00:00Z"))
    steps = 0

    def count_step() -> int:
        nonlocal steps
        steps += 1
        return 0

    with vault.write() as conn:
        conn.set_progress_handler(count_step, 10)
        try:
            Outbox(vault).enqueue_many(conn, batch)
        finally:
            conn.set_progress_handler(None, 0)
    return steps


def test_queueing_a_batch_does_not_read_every_queued_row(vault: Vault) -> None:
    """A batch's earlier queued rows and bases are looked up by primary key: the same work
    with 5 or 600 other rows queued."""
    _queue(vault, 5)
    few = _steps_to_queue_a_batch(vault, 20)
    _queue(vault, 600)
    many = _steps_to_queue_a_batch(vault, 20)
    assert many <= few * 1.5 + 40, (few, many)


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


# -- finalise_many against finalise, one by one ----------------------------------------------

# One record of each kind a run meets, in an order that puts the bad ones mid-batch (batch=4).
SCENE = ("p0", "s0", "unready", "e0", "tampered", "p1", "bounds", "queued", "fetched", "s1",
         "archived", "ey1")


def _example(name: str, first_name: str, version: str = "") -> dict[str, Any]:
    folder = resources.files("forms").joinpath("examples")
    if version:
        folder = folder.joinpath(version)
    doc: dict[str, Any] = json.loads(folder.joinpath(f"{name}.json").read_text("utf-8"))
    doc.pop("id", None)
    doc["answers"]["child"]["first_name"] = first_name
    return doc


def fetched_catalogue() -> Catalogue:
    """A session's catalogue holding a later version of the form, as sync fetches one."""
    text = (resources.files("forms").joinpath("definitions", "national-send-assessment",
                                             "2.0.0.json").read_text("utf-8"))
    raw = json.loads(text)
    raw["version"] = "2.1.0"
    catalogue = Catalogue()
    catalogue.register(parse_definition_text(json.dumps(raw), "fetched 2.1.0"))
    return catalogue


def build_scene(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Vault:
    """A vault holding SCENE's records, the same ids and answers in every data folder."""
    vault, _ = Profiles(data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
    vault.catalogue = fetched_catalogue()
    store = Assessments(vault)
    kinds = {"p": "primary", "s": "secondary", "e": "post-16", "ey": "early-years"}
    for record_id in SCENE:
        if record_id in ("unready", "tampered", "queued"):
            doc = _example("primary", record_id.title())
            if record_id == "unready":
                del doc["answers"]["about_me"]["aspirations"]
        elif record_id == "fetched":
            doc = _example("primary", "Fetched", "2.0.0")
            doc["form_version"] = "2.1.0"
        elif record_id == "archived":
            doc = {**_example("secondary", "Ola"),
                   "archive": [{"path": "old.answer", "value": "kept ✓"}]}
        elif record_id == "bounds":  # as an older OneSEND stored it (it had no bounds)
            create_past_the_bounds(store, _example("early-years", "Deep"), monkeypatch,
                                   record_id=record_id)
            continue
        else:
            doc = _example(kinds[record_id.rstrip("0123456789")], f"Zoë “{record_id}”")
        store.create(doc, record_id=record_id)
    store.finalise("queued")
    # Altered outside OneSEND: a revision's status changed in the file (the trigger dropped).
    conn = sqlite3.connect(vault.path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
    conn.execute("UPDATE revisions SET status = 'ready' WHERE assessment_id = 'tampered'")
    conn.close()
    return vault


Outcome = tuple[str, int | None, bool, str | None, str | None]


def _outcome(record_id: str, revision: int | None, newly: bool,
             error: Exception | None) -> Outcome:
    told = str(error) if isinstance(error, UserError) else None
    return (record_id, revision, newly, type(error).__name__ if error else None, told)


def one_by_one(vault: Vault, ids: Sequence[str]) -> list[Outcome]:
    store = Assessments(vault)
    found = []
    for record_id in ids:
        try:
            revision, newly = store.finalise(record_id)
        except RECORD_ERRORS as exc:
            found.append(_outcome(record_id, None, False, exc))
        else:
            found.append(_outcome(record_id, revision, newly, None))
    return found


def state_of(vault: Vault) -> dict[str, Any]:
    """Everything finalising leaves, without the times: each record's revisions, status and
    answers, its outbox rows and the payloads they send (hash checked), the audit trail."""
    store = Assessments(vault)
    outbox = Outbox(vault)
    items = outbox.items()
    payloads = outbox.payload_bytes(items)
    sent = {}
    for key, payload in payloads.items():
        assert isinstance(payload, bytes), payload  # not TamperedData: it matches its hash
        decoded = json.loads(payload)
        assert decoded["sign_off"]["by"] == "alex"
        decoded["sign_off"].pop("at")
        sent[key] = decoded
    records = {}
    for record_id in SCENE:
        history = [(entry.revision, entry.action, entry.status, entry.author, entry.damaged)
                   for entry in store.history(record_id)]
        try:
            current = store.get(record_id)
            current.pop("updated_at")
            current.pop("created_at")
        except TamperedData as exc:
            current = {"damaged": str(exc)}
        records[record_id] = (history, current)
    summaries = {s.id: (s.revision, s.status, s.first_name, s.form_version, s.damaged)
                 for s in store.summaries()}
    return {
        "records": records,
        "summaries": summaries,
        "outbox": sorted((item.assessment_id, item.revision, item.base_revision, item.form,
                          item.form_version, item.state, item.damaged) for item in items),
        "payloads": sent,
        "audit": [(entry["action"], entry["assessment_id"]) for entry in vault.audit_log()],
        "problems": vault.check_metadata(),
    }


def test_finalise_many_leaves_what_finalising_one_by_one_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batched reads and writes change nothing a record's finalising leaves: the same results
    (a not-ready record, a tampered revision and an out-of-bounds body each reported mid-
    batch, an already queued one said so), revisions, statuses, outbox rows, payloads (their
    hashes checked) and audit entries as `finalise` called for each record in turn."""
    single = build_scene(tmp_path / "one", monkeypatch)
    expected = one_by_one(single, SCENE)
    many = build_scene(tmp_path / "many", monkeypatch)
    got = [_outcome(*result) for result in
           Assessments(many).finalise_many(SCENE, batch=4, workers=0)]
    assert got == expected
    by_id = {outcome[0]: outcome for outcome in got}
    assert by_id["unready"][3:] == ("NotReady", by_id["unready"][4])
    assert "not complete and valid" in str(by_id["unready"][4])
    assert by_id["tampered"][3] == "TamperedData"
    assert "revision 1's details do not verify" in str(by_id["tampered"][4])
    assert by_id["bounds"][3] == "BadDocument"
    assert "nested more than" in str(by_id["bounds"][4])
    assert by_id["queued"][1:3] == (2, False)
    assert by_id["fetched"][1:3] == (2, True)  # a fetched form version is judged by its form
    assert state_of(many) == state_of(single)
    assert state_of(many)["problems"] == []


def test_a_record_named_twice_is_finalised_once(vault: Vault) -> None:
    """Named twice in one batch, or in batches read before the first is written, a record is
    finalised once and then reported as already queued, as finalising it again would be."""
    store = Assessments(vault)
    first, second = (store.create(complete(name))[0] for name in ("One", "Two"))
    got = list(store.finalise_many([first, first, second, first], batch=2, workers=0))
    assert [result[:3] for result in got] == [
        (first, 2, True), (first, 2, False), (second, 2, True), (first, 2, False)]
    assert len(Outbox(vault).items()) == 2
    assert vault.check_metadata() == []
