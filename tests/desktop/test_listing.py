"""The assessment list's rows: statuses as the outbox knows them, statutory dates, damage."""

from __future__ import annotations

import datetime
import json
import time
from importlib import resources
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.listing import (
    DAMAGED_TEXT,
    OVERDUE_LABEL,
    fold,
    list_rows,
    looks_like_upn,
    matching_upn,
    next_statutory,
)
from desktop.outbox import Outbox
from desktop.vault import Vault
from forms.registry import Catalogue, parse_definition_text

TODAY = datetime.date(2026, 3, 2)


def example() -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    document.pop("id", None)
    return document


def draft(first: str = "Amara", **about: str) -> dict[str, Any]:
    answers: dict[str, Any] = {"child": {"first_name": first, "last_name": "Okafor",
                                         "date_of_birth": "2015-03-27"}}
    if about:
        answers["assessment"] = about
    return {"form": "national-send-assessment", "form_version": "1.0.0", "answers": answers}


def status_of(vault: Vault, record_id: str) -> str:
    return next(row.status for row in list_rows(vault, TODAY) if row.id == record_id)


def test_the_status_follows_the_record_through_the_outbox(
    vault_and_key: tuple[Vault, str],
) -> None:
    vault, _ = vault_and_key
    store, outbox = Assessments(vault), Outbox(vault)
    record_id, _ = store.create(example())
    assert status_of(vault, record_id) == "draft"

    store.finalise(record_id)
    assert status_of(vault, record_id) == "queued"

    [item] = outbox.take(10)
    assert status_of(vault, record_id) == "queued"  # in flight is still on its way
    outbox.set_aside(item, "quarantined", {"type": "invalid", "detail": "refused"})
    assert status_of(vault, record_id) == "quarantined"

    outbox.retry_quarantined()
    [item] = outbox.take(10)
    outbox.acknowledge([(item, {"receipt": "r1"})])
    assert status_of(vault, record_id) == "synced"

    store.save(record_id, example())
    assert status_of(vault, record_id) == "amended"

    store.finalise(record_id)
    [item] = outbox.take(10)
    outbox.set_aside(item, "conflict", {"server_revision": 9})
    assert status_of(vault, record_id) == "conflict"


def test_rows_carry_the_summary_and_a_damaged_record_does_not_hide_the_others(
    vault_and_key: tuple[Vault, str],
) -> None:
    vault, _ = vault_and_key
    store = Assessments(vault)
    good, _ = store.create(draft("Zoë", kind="annual_review", setting_name="Elm Grove"))
    bad, _ = store.create(draft("Noor"))
    with vault.write() as conn:
        conn.execute("UPDATE assessments SET summary = ? WHERE id = ?", (b"\x01" * 40, bad))
    rows = {row.id: row for row in list_rows(vault, TODAY)}
    assert rows[bad].damaged
    assert rows[bad].child == DAMAGED_TEXT
    assert rows[bad].search_key == ""
    row = rows[good]
    assert not row.damaged
    assert (row.child, row.date_of_birth, row.setting) == ("Zoë Okafor", "2015-03-27",
                                                           "Elm Grove")
    assert row.kind_label == "EHC plan annual review"
    assert row.search_key == "zoe okafor"
    assert row.status_label == "Draft"


def fetched_version_with_a_new_kind() -> Catalogue:
    """A session's catalogue holding a later version of the form (as sync fetches one) whose
    list of kinds gains one this build's own labels do not name."""
    text = (resources.files("forms").joinpath("definitions", "national-send-assessment",
                                             "2.0.0.json").read_text("utf-8"))
    raw = json.loads(text)
    raw["version"] = "2.1.0"
    raw["code_lists"]["assessment_kind"]["items"].append(
        {"code": "tribunal_review", "label": "Review after a tribunal decision"})
    catalogue = Catalogue()
    catalogue.register(parse_definition_text(json.dumps(raw), "fetched 2.1.0"))
    return catalogue


def test_a_fetched_versions_new_kind_shows_its_label_not_its_code(
    vault_and_key: tuple[Vault, str],
) -> None:
    vault, _ = vault_and_key
    vault.catalogue = fetched_version_with_a_new_kind()
    document = draft("Noor", kind="tribunal_review")
    document["form_version"] = "2.1.0"
    record_id, _ = Assessments(vault).create(document)
    [row] = [row for row in list_rows(vault, TODAY) if row.id == record_id]
    assert row.kind == "tribunal_review"
    assert row.kind_label == "Review after a tribunal decision"
    # The label comes from the open session only: locked (catalogue dropped), the code shows.
    vault.catalogue = None
    [row] = list_rows(vault, TODAY)
    assert row.kind_label == "tribunal_review"


@pytest.mark.parametrize(("requested", "due", "label", "overdue"), [
    ("2026-02-23", "2026-04-06", "Decision to assess", False),
    ("2026-01-19", "2026-03-02", "Decision to assess", False),  # due today
    ("2026-01-18", "2026-05-10", "Decision to issue a plan", False),
    ("2025-11-09", "2026-03-29", "Final plan due", False),
    ("2025-09-01", "2026-01-19", OVERDUE_LABEL, True),
])
def test_the_next_statutory_date_counts_from_the_request(
    requested: str, due: str, label: str, overdue: bool,
) -> None:
    assert next_statutory("ehc_request", requested, "draft", TODAY) == (due, label, overdue)


def test_statutory_dates_only_where_they_apply() -> None:
    assert next_statutory("annual_review", "2026-02-23", "draft", TODAY) == ("", "", False)
    assert next_statutory("ehc_request", "", "draft", TODAY) == ("", "", False)
    assert next_statutory("ehc_request", "23/02/2026", "draft", TODAY) == ("", "", False)
    # Once sent, the local authority keeps the clock: a passed date is history.
    assert next_statutory("ehc_request", "2025-09-01", "synced", TODAY) == ("", "", False)
    assert next_statutory("ehc_request", "2026-02-23", "synced", TODAY)[1] == (
        "Decision to assess")


def test_list_rows_fill_in_the_statutory_date(vault_and_key: tuple[Vault, str]) -> None:
    vault, _ = vault_and_key
    record_id, _ = Assessments(vault).create(
        draft(kind="ehc_request", request_date="2026-02-23"))
    [row] = list_rows(vault, TODAY)
    assert (row.next_statutory_date, row.next_statutory_label) == (
        "2026-04-06", "Decision to assess")
    assert row.id == record_id


def test_a_upn_is_found_through_the_blind_index_only(vault_and_key: tuple[Vault, str]) -> None:
    vault, _ = vault_and_key
    store = Assessments(vault)
    document = example()
    upn = document["answers"]["child"]["upn"]
    first, _ = store.create(document)
    second, _ = store.create(document)
    store.create(draft())
    assert matching_upn(vault, upn.lower()) == {first, second}
    assert matching_upn(vault, f" {upn[:5]} {upn[5:]} ") == {first, second}
    assert matching_upn(vault, "") == set()
    assert all(upn not in repr(row) for row in list_rows(vault, TODAY))
    assert looks_like_upn(upn.lower())
    assert not looks_like_upn("Maya")


def test_fold_ignores_case_and_accents() -> None:
    assert fold("ZOË") == fold("zoe") == "zoe"
    assert fold("Sørensen") == "sorensen"
    assert fold("Ó Briain") == "o briain"


def test_two_thousand_rows_are_built_in_one_pass(vault_and_key: tuple[Vault, str]) -> None:
    vault, _ = vault_and_key
    store = Assessments(vault)
    for n in range(2_000):
        store.create(draft(f"Child{n}", kind="ehc_request", request_date="2026-02-01"))
    start = time.perf_counter()
    rows = list_rows(vault, TODAY)
    elapsed = time.perf_counter() - start
    assert len(rows) == 2_000
    # Generous: decrypting 2,000 summaries takes about 50 ms here (bench/bench_ui.py measures).
    assert elapsed < 5
