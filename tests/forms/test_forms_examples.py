"""The shipped examples: every phase complete and valid, and a realistic unfinished draft."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from forms.engine import check_document

TODAY = date(2026, 11, 28)
EXAMPLE_NAMES = ("early-years", "primary", "secondary", "post-16", "19-25")


def read_example(name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", f"{name}.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_phase_example_checks_clean(name: str) -> None:
    doc = read_example(name)
    verdict = check_document(doc, today=TODAY)
    assert verdict.problems == ()
    assert verdict.complete
    assert doc["form"] == "national-send-assessment"
    assert doc["form_version"] == "1.0.0"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_also_check_clean_today(name: str) -> None:
    assert check_document(read_example(name)).complete


def test_examples_cover_every_phase() -> None:
    ages = {name: check_document(read_example(name), TODAY).computed["child.age"]
            for name in EXAMPLE_NAMES}
    assert ages["early-years"] < 5
    assert 5 <= ages["primary"] < 11
    assert 11 <= ages["secondary"] < 16
    assert 16 <= ages["post-16"] < 19
    assert 19 <= ages["19-25"] <= 25


def test_the_draft_is_realistically_incomplete() -> None:
    verdict = check_document(read_example("draft"), today=TODAY)
    assert not verdict.complete
    kinds = {problem.kind for problem in verdict.problems}
    assert kinds == {"missing"}
    paths = {problem.path for problem in verdict.problems}
    assert {"about_me.aspirations", "family_views.contributors", "outcomes[0].how_measured",
            "provision[0].minutes", "agreement.assessor_declaration"} <= paths
    started = {status.id for status in verdict.sections if status.complete}
    assert "assessment" in started
