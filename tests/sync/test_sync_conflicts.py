"""Comparing and merging two revisions' answers: every difference needs a choice."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.errors import UntrustedServer
from sync.conflicts import differences, fetch_latest, merge_answers

MINE: dict[str, Any] = {"about": {"name": "Ada", "colour": "RED", "nickname": "A"},
                        "items": [{"_key": "k1", "title": "Swim"}]}
THEIRS: dict[str, Any] = {"about": {"name": "Ada", "colour": "BLUE", "consent": True},
                          "items": [{"_key": "k1", "title": "Run"}]}


def test_differences_are_per_answer_and_a_repeat_as_a_whole() -> None:
    assert differences(MINE, THEIRS) == [
        ("about", "colour"), ("about", "nickname"), ("items", None), ("about", "consent")]
    assert differences(MINE, MINE) == []


def test_merge_takes_each_chosen_side_and_refuses_a_missing_choice() -> None:
    with pytest.raises(ValueError, match="1 differing answer"):
        merge_answers(MINE, THEIRS, {("about", "colour"): "mine", ("about", "nickname"): "mine",
                                     ("items", None): "theirs"})
    merged = merge_answers(MINE, THEIRS, {
        ("about", "colour"): "theirs", ("about", "nickname"): "mine",
        ("items", None): "theirs", ("about", "consent"): "mine"})
    assert merged == {"about": {"name": "Ada", "colour": "BLUE", "nickname": "A"},
                      "items": [{"_key": "k1", "title": "Run"}]}


def test_a_server_copy_that_does_not_match_its_receipt_is_refused(
    device: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    device.add(1)
    device.sync()
    (record_id,) = device.ids
    assert fetch_latest(device.vault, record_id, device.settings).revision == 2
    real = server.store.latest

    def altered(sid: str, holder: Any = None) -> dict[str, Any] | None:
        found = real(sid, holder)
        assert found is not None
        found["payload"]["answers"]["about_me"]["interests"] = "Altered on the way."
        return found

    monkeypatch.setattr(server.store, "latest", altered)
    with pytest.raises(UntrustedServer, match="could not be verified"):
        fetch_latest(device.vault, record_id, device.settings)
