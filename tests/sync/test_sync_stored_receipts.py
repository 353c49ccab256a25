"""Stored receipts are read back and verified when reconciling (real server on 127.0.0.1)."""

from __future__ import annotations

import sqlite3
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.protocol import sign_receipt
from desktop.outbox import Outbox
from sync.device import load_credentials
from sync.reconcile import reconcile


def test_reconcile_verifies_every_stored_receipt(device: Any) -> None:
    first, second, third = device.add(3)
    device.sync()
    result = reconcile(device.vault, device.settings)
    assert result.consistent
    assert result.unverified == []

    outbox = Outbox(device.vault)
    credentials = load_credentials(device.vault)
    # A receipt stored through the app's own path but signed by another key (as a bug or a
    # man-in-the-middle would have it), and one naming another delivery.
    forged_key = Ed25519PrivateKey.generate()
    item = outbox.get(first, 2)
    assert item is not None
    forged = sign_receipt(forged_key, {
        "submission_id": first, "revision": 2, "payload_hash": item.payload_hash,
        "received_at": "2026-01-01T00:00:00Z", "server_id": credentials.server_id})
    outbox.acknowledge([(item, forged)])
    other = outbox.get(second, 2)
    assert other is not None
    stored = outbox.receipt(other)
    assert stored is not None
    outbox.acknowledge([(other, {**stored, "revision": 1})])
    # And one removed from the file by hand.
    device.vault.conn.execute("UPDATE outbox SET receipt = NULL WHERE assessment_id = ?",
                              (third,))

    result = reconcile(device.vault, device.settings)
    assert result.unverified == sorted([first, second, third])
    assert not result.consistent
    assert (result.missing, result.extra, result.mismatched) == ([], [], [])


def test_a_receipt_copied_from_another_row_does_not_open(device: Any) -> None:
    first, second = device.add(2)
    device.sync()
    path = device.vault.path
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE outbox SET receipt = (SELECT receipt FROM outbox WHERE "
                 "assessment_id = ?) WHERE assessment_id = ?", (first, second))
    conn.close()
    assert reconcile(device.vault, device.settings).unverified == [second]
