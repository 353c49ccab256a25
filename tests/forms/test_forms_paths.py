"""The answer-path grammar (forms/paths.py), which the engine, migrations and checks share."""

from __future__ import annotations

import pytest

from forms.engine import Session
from forms.errors import FormError
from forms.paths import AnswerPath, parse_answer_path
from forms.registry import load_definition


def test_the_three_shapes_of_a_path() -> None:
    assert parse_answer_path("child.upn") == AnswerPath("child", question="upn")
    assert parse_answer_path("outcomes[2].by_when") == AnswerPath("outcomes", 2, "by_when")
    assert parse_answer_path("family_views.contributors[1].name") == AnswerPath(
        "family_views", None, "contributors", 1, "name")
    assert parse_answer_path("provision") == AnswerPath("provision")


@pytest.mark.parametrize("path", [
    "outcomes[\u0663].area",  # an Arabic-Indic three: int() reads it, the grammar must not
    "outcomes[\u00b2].area",
    "_key.x", "child._key", "1child.upn", "Child.upn", "child.upn.", "child..upn", "",
])
def test_what_is_not_a_path(path: str) -> None:
    assert parse_answer_path(path) is None


def test_a_prefix_is_taken_as_far_as_it_goes() -> None:
    assert parse_answer_path("child.upn is wrong", whole=False) == AnswerPath(
        "child", question="upn")


@pytest.mark.parametrize("path", ["outcomes[\u0663].area", "outcomes[0]._key", "child.Upn"])
def test_the_engine_refuses_a_path_outside_the_grammar(path: str) -> None:
    session = Session(load_definition("national-send-assessment", "2.0.0"),
                      {"outcomes": [{"area": "C"}]})
    with pytest.raises(FormError, match="does not name a question of this form"):
        session.answer(path)
    with pytest.raises(FormError, match="does not name a question of this form"):
        session.set_answer(path, "x")
