"""The status a record shows is the record's own, wherever it is read from."""

from __future__ import annotations

import json
from importlib import resources

from desktop.assessments import Assessments
from desktop.vault import Vault


def test_show_and_list_agree_on_the_status_after_finalising(
    vault_and_key: tuple[Vault, str],
) -> None:
    vault, _ = vault_and_key
    store = Assessments(vault)
    example = json.loads(
        resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    )
    record_id, _ = store.import_document(example)
    revision, newly = store.finalise(record_id)
    assert newly

    listed = {summary.id: summary.status for summary in store.summaries()}
    assert listed[record_id] == "queued"
    assert store.get(record_id)["status"] == "queued"
    assert store.get(record_id, revision)["status"] == "queued"
    # An earlier revision, read as history, keeps the status it was saved with.
    assert store.get(record_id, revision - 1)["status"] == "draft"
