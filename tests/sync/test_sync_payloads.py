"""What a sync sends is the payload exactly as finalised, in the bytes that were hashed: the
sign-off revision's canonical answers with the sign-off spliced in, or, where that revision is
not canonical (an earlier version's, or one with an archive of migrated answers, never sent),
decoded and encoded again; a payload that matches neither way is set aside, never sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from contract.canonical import canonical_json, payload_hash
from desktop.integrity import OUTBOX_MAC_COLUMNS, outbox_mac


def test_a_sync_sends_the_payload_bytes_that_were_hashed(device: Any, server: Any) -> None:
    [record] = device.add(1)
    [item] = device.outbox.items(["queued"])
    raw = device.outbox.payload_bytes([item])[item.key]
    assert isinstance(raw, bytes)
    payload = json.loads(raw)
    assert canonical_json(payload) == raw
    assert payload_hash(payload) == item.payload_hash
    assert payload["answers"] == device.store.get(record, item.revision)["answers"]
    assert device.sync().accepted == 1
    assert server.store.holdings() == [(record, item.revision, item.payload_hash)]


def test_archived_answers_are_kept_at_home_and_the_payload_is_encoded_again(
    device: Any, server: Any, new_document: Callable[[int], dict[str, Any]],
) -> None:
    document = new_document(0)
    document["archive"] = [{"path": "about_me.old_question", "value": "kept, never sent"}]
    record, _ = device.store.create(document)
    revision, _ = device.store.finalise(record)
    [item] = device.outbox.items(["queued"])
    payload = device.outbox.payload(item)
    assert "archive" not in payload
    assert device.store.get(record, revision)["archive"] == document["archive"]
    assert device.sync().accepted == 1
    assert server.store.holdings() == [(record, revision, item.payload_hash)]


def test_a_payload_that_no_longer_matches_its_hash_is_set_aside_not_sent(
    device: Any, server: Any,
) -> None:
    first, second = device.add(2)
    items = {i.assessment_id: i for i in device.outbox.items(["queued"])}
    vault = device.vault
    # The second row's sign-off sealed anew (the key is known here, and the row's MAC made
    # to verify), so only the payload's hash can tell.
    forged = vault.cipher.seal(canonical_json({"at": "2020-01-01T00:00:00.000Z", "by": "x"}),
                               "sign-off", second, items[second].revision)
    with vault.write() as conn:
        row = list(conn.execute(f"SELECT {OUTBOX_MAC_COLUMNS} FROM outbox "
                                "WHERE assessment_id = ?", (second,)).fetchone())
        row[9] = forged
        conn.execute("UPDATE outbox SET sign_off = ?, mac = ? WHERE assessment_id = ?",
                     (forged, outbox_mac(vault.cipher, tuple(row)), second))
    report = device.sync()
    assert (report.accepted, report.quarantined) == (1, 1)
    assert [i.assessment_id for i in device.outbox.items(["quarantined"])] == [second]
    assert [held[0] for held in server.store.holdings()] == [first]


def test_a_batch_acknowledged_at_once_keeps_the_vault_consistent(
    device: Any, server: Any,
) -> None:
    """Acknowledging a batch writes each table in one statement and moves the state row once:
    every record is synced, its receipt stored, one audit entry each, and the vault's own
    checks (state row, audit chain) still hold."""
    ids = device.add(5)
    report = device.sync(batch_size=2)
    assert report.accepted == 5
    assert {device.store.status_of(record) for record in ids} == {"synced"}
    for item in device.outbox.items(["acknowledged"]):
        receipt = device.outbox.receipt(item)
        assert receipt is not None
        assert (receipt["submission_id"], receipt["revision"]) == item.key
    synced = [e["assessment_id"] for e in device.vault.audit_log()
              if e["action"] == "assessment.synced"]
    assert sorted(synced) == sorted(ids)
    assert device.vault.check_metadata() == []
