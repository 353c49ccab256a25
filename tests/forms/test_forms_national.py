"""The national form v1: each required behaviour of issue 3, tested through the engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from forms import validators
from forms.engine import Session
from forms.expressions import MISSING
from forms.model import FormDefinition

TODAY = date(2026, 11, 28)
Example = Callable[[str], dict[str, Any]]


def paths(session: Session) -> dict[str, str]:
    return {p.path: p.kind for p in session.problems}


def test_thirteen_parts_in_the_order_a_family_meets_them(national: FormDefinition) -> None:
    assert [s.id for s in national.sections] == [
        "assessment", "child", "about_me", "family_views", "strengths", "needs", "health_care",
        "outcomes", "provision", "environment", "placement", "advice", "agreement"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("child.first_name", "text"), ("child.last_name", "text"),
        ("child.date_of_birth", "date"), ("child.upn", "upn"), ("child.uln", "uln"),
        ("child.nc_year", "choice"), ("child.sex", "choice"), ("assessment.kind", "choice"),
        ("assessment.setting_name", "text"), ("assessment.request_date", "date"),
    ],
)
def test_paths_other_code_relies_on(national: FormDefinition, path: str, kind: str) -> None:
    section, question = path.split(".")
    found = national.question(section, question)
    assert found is not None
    assert found.type == kind


def test_help_text_everywhere(national: FormDefinition) -> None:
    for section in national.sections:
        assert section.help, section.id
    for codes in national.code_lists.values():
        assert all(item.label for item in codes.items)


def test_code_lists_follow_the_census(national: FormDefinition) -> None:
    lists = national.code_lists
    assert {i.code for i in lists["sen_type"].offered} == set(validators.SEN_TYPE_CODES)
    assert {i.code for i in lists["sen_type"].items if i.retired} == {"BESD"}
    assert [i.code for i in lists["sen_provision"].offered] == ["E", "K", "N"]
    assert {i.code for i in lists["sen_provision"].items if i.retired} == {"S", "A", "P"}
    assert [i.code for i in lists["nc_year"].items] == list(validators.NC_YEAR_CODES)
    assert [i.code for i in lists["support_layer"].items] == [
        "universal", "targeted", "targeted_plus", "specialist"]
    assert {i.code for i in lists["sen2_no_urn"].items} == set(validators.SEN2_NO_URN_CODES)
    assert [i.code for i in lists["broad_area"].items] == [
        "communication_interaction", "cognition_learning", "semh", "sensory_physical"]


def with_birthday(answers: dict[str, Any], born: str, nc_year: str) -> dict[str, Any]:
    answers["child"]["date_of_birth"] = born
    answers["child"]["nc_year"] = nc_year
    return answers


def test_uln_shown_from_age_14(national: FormDefinition, example: Example) -> None:
    # The primary example's assessment is on 2025-06-18.
    answers = with_birthday(example("primary"), "2011-06-19", "8")
    answers["child"]["uln"] = "1000000043"
    session = Session(national, answers, TODAY)
    assert session.computed["child.age"] == 13
    assert not session.is_visible("child.uln")
    assert "uln" not in session.exported_answers()["child"]
    assert session.answers["child"]["uln"] == "1000000043"  # kept, in case it is shown again
    session.set_answer("child.date_of_birth", "2011-06-18")
    assert session.computed["child.age"] == 14
    assert session.is_visible("child.uln")
    assert session.exported_answers()["child"]["uln"] == "1000000043"


def test_uln_required_at_a_college(national: FormDefinition, example: Example) -> None:
    answers = example("post-16")
    del answers["child"]["uln"]
    assert paths(Session(national, answers, TODAY)) == {"child.uln": "missing"}
    answers["child"]["uln"] = "9999999999"
    assert paths(Session(national, answers, TODAY)) == {"child.uln": "invalid"}


def test_preparing_for_adulthood_from_year_9(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    session = Session(national, answers, TODAY)
    assert session.computed["child.pfa_applies"] is False
    assert not session.is_visible("outcomes[0].pfa_area")
    # Year 9 on the assessment date of 2025-06-18: born between September 2010 and August 2011.
    answers = with_birthday(example("primary"), "2012-01-14", "8")
    session = Session(national, answers, TODAY)
    assert session.is_complete
    assert not session.computed["child.pfa_applies"]
    answers = with_birthday(example("primary"), "2011-01-14", "9")
    session = Session(national, answers, TODAY)
    assert session.computed["child.pfa_applies"] is True
    assert session.is_visible("outcomes[0].pfa_area")
    assert paths(session) == {"outcomes": "invalid"}
    assert "prepare for adult life" in session.problems[0].message
    session.set_answer("outcomes[0].pfa_area", "community")
    assert session.is_complete


def test_preparing_for_adulthood_by_age_without_a_year_group(
    national: FormDefinition, example: Example
) -> None:
    answers = example("19-25")
    answers["child"]["nc_year"] = "X"
    assert Session(national, answers, TODAY).computed["child.pfa_applies"] is True
    answers = with_birthday(example("primary"), "2012-05-01", "M")
    session = Session(national, answers, TODAY)
    assert session.computed["child.age"] == 13
    assert session.computed["child.pfa_applies"] is True
    answers = with_birthday(example("primary"), "2012-07-01", "M")
    assert Session(national, answers, TODAY).computed["child.pfa_applies"] is False


def test_agreement_parent_before_16_young_person_from_16(
    national: FormDefinition, example: Example
) -> None:
    answers = example("secondary")  # age 14
    del answers["agreement"]["parent_agreement"]
    session = Session(national, answers, TODAY)
    assert paths(session) == {"agreement.parent_agreement": "missing"}
    assert not session.is_visible("agreement.young_person_agreement")

    answers = example("post-16")  # age 17: both given, both allowed
    session = Session(national, answers, TODAY)
    assert session.is_complete
    assert session.exported_answers()["agreement"]["parent_agreement"]["name"]
    del answers["agreement"]["parent_agreement"]
    assert Session(national, answers, TODAY).is_complete  # the parent's is no longer needed
    del answers["agreement"]["young_person_agreement"]
    assert paths(Session(national, answers, TODAY)) == {
        "agreement.young_person_agreement": "missing"}


def test_disagreement_needs_reasons(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["agreement"]["parent_agreement"]["decision"] = "disagree"
    answers["agreement"]["parent_agreement"].pop("comments")
    assert paths(Session(national, answers, TODAY)) == {
        "agreement.parent_agreement.comments": "missing"}


def test_statutory_dates_for_an_ehc_needs_assessment(
    national: FormDefinition, example: Example
) -> None:
    answers = example("early-years")  # request received 2025-10-20
    session = Session(national, answers, TODAY)
    assert session.computed["assessment.decision_due"] == date(2025, 12, 1)
    assert session.computed["assessment.final_plan_due"] == date(2026, 3, 9)
    assert session.computed["agreement.next_review_due"] == date(2027, 3, 9)
    exported = session.exported_answers()["assessment"]
    assert exported["decision_due"] == "2025-12-01"
    assert exported["final_plan_due"] == "2026-03-09"
    session.set_answer("assessment.request_date", "2025-11-03")
    assert session.computed["assessment.decision_due"] == date(2025, 12, 15)
    del answers["assessment"]["request_date"]
    session = Session(national, answers, TODAY)
    assert paths(session) == {"assessment.request_date": "missing"}
    assert session.computed["assessment.decision_due"] is MISSING


def test_no_statutory_dates_for_a_review(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["assessment"]["request_date"] = "2025-01-01"
    session = Session(national, answers, TODAY)
    assert not session.is_visible("assessment.request_date")
    assert session.computed["assessment.decision_due"] is MISSING
    assert "request_date" not in session.exported_answers()["assessment"]


def test_next_review_within_12_months(national: FormDefinition, example: Example) -> None:
    answers = example("primary")  # annual review on 2025-06-18
    session = Session(national, answers, TODAY)
    assert session.computed["agreement.next_review_due"] == date(2026, 6, 18)
    session.set_answer("agreement.next_review_date", "2026-06-19")
    assert paths(session) == {"agreement.next_review_date": "invalid"}
    assert session.problems[0].message == "The next review must be within 12 months."
    session.set_answer("agreement.next_review_date", "2025-06-01")
    assert "after the date of the assessment" in session.problems[0].message
    session.set_answer("agreement.next_review_date", "2026-06-18")
    assert session.is_complete


def test_advice_has_its_own_deadline(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["assessment"]["kind"] = "ehc_advice"
    answers["assessment"]["advice_requested_date"] = "2025-06-02"
    session = Session(national, answers, TODAY)
    assert session.computed["assessment.advice_due"] == date(2025, 7, 14)
    assert not session.is_visible("agreement.next_review_date")
    assert session.is_complete


def test_needs_are_described_as_barriers_and_what_removes_them(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    answers["needs"]["cognition_learning_applies"] = True
    session = Session(national, answers, TODAY)
    assert paths(session) == {"needs.cognition_learning_barriers": "missing",
                              "needs.cognition_learning_what_removes": "missing"}
    for area in ["communication_interaction", "cognition_learning", "semh", "sensory_physical"]:
        answers["needs"][f"{area}_applies"] = False
    session = Session(national, answers, TODAY)
    assert paths(session) == {"needs": "invalid"}
    assert session.problems[0].message == "Describe needs in at least one of the four areas."


def test_ranked_needs_follow_the_census_rules(national: FormDefinition, example: Example) -> None:
    answers = example("primary")  # EHC plan
    answers["needs"]["primary_need"] = "NSA"
    assert paths(Session(national, answers, TODAY)) == {"needs.primary_need": "invalid"}
    answers["needs"]["primary_need"] = "SLCN"
    assert paths(Session(national, answers, TODAY)) == {"needs.secondary_need": "invalid"}
    answers["needs"]["secondary_need"] = "NSA"
    assert paths(Session(national, answers, TODAY)) == {"needs.secondary_need": "invalid"}
    answers["needs"]["secondary_need"] = "BESD"
    session = Session(national, answers, TODAY)
    assert "no longer used" in session.problems[0].message
    answers = example("secondary")  # SEN support: NSA allowed
    assert answers["needs"]["primary_need"] == "NSA"
    assert Session(national, answers, TODAY).is_complete


def test_no_sen_hides_the_census_need(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["placement"]["sen_provision"] = "N"
    session = Session(national, answers, TODAY)
    assert not session.is_visible("needs.primary_need")
    assert "primary_need" not in session.exported_answers()["needs"]
    answers["placement"]["sen_provision"] = "S"
    assert paths(Session(national, answers, TODAY)) == {"placement.sen_provision": "invalid"}


def test_outcomes_are_linked_to_an_area_with_a_date_and_a_measure(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    answers["outcomes"][1] = {"_key": "o2", "outcome": "Maya will join in at playtime."}
    assert paths(Session(national, answers, TODAY)) == {
        "outcomes[1].area": "missing", "outcomes[1].by_when": "missing",
        "outcomes[1].how_measured": "missing"}
    answers["outcomes"][1].update(area="semh", how_measured="Observation",
                                  by_when="2025-01-01")
    assert paths(Session(national, answers, TODAY)) == {"outcomes[1].by_when": "invalid"}
    answers["outcomes"] = []
    assert paths(Session(national, answers, TODAY)) == {"outcomes": "missing",
                                                        **{f"provision[{i}].outcomes": "invalid"
                                                           for i in range(5)}}


def test_provision_must_be_specified_and_quantified(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    answers["provision"][2] = {"_key": "s3", "kind": "education", "what": "Extra help"}
    assert paths(Session(national, answers, TODAY)) == {
        "provision[2].outcomes": "missing", "provision[2].who": "missing",
        "provision[2].times": "missing", "provision[2].per": "missing",
        "provision[2].minutes": "missing", "provision[2].group_size": "missing"}
    answers["provision"][2].update(outcomes=["o1"], who="Teaching assistant", times=0,
                                   per="week", minutes=30, group_size="one_to_one")
    assert paths(Session(national, answers, TODAY)) == {"provision[2].times": "invalid"}
    answers["provision"][2]["times"] = 3
    assert Session(national, answers, TODAY).is_complete


def test_provision_links_survive_reordering_outcomes(
    national: FormDefinition, example: Example
) -> None:
    session = Session(national, example("primary"), TODAY)
    session.move_item("outcomes", 0, 3)
    assert session.is_complete
    session.remove_item("outcomes", 3)  # o1, which provision s1 and s5 work towards
    assert paths(session) == {"provision[0].outcomes": "invalid",
                              "provision[4].outcomes": "invalid"}


def test_level_of_need_and_setting_types(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["placement"]["support_layer"] = "very_high"
    assert paths(Session(national, answers, TODAY)) == {"placement.support_layer": "invalid"}
    answers = example("primary")
    answers["placement"]["recommended_setting_type"] = "special_state"
    assert paths(Session(national, answers, TODAY)) == {"placement.change_reason": "missing"}


def test_year_group_consistent_with_age_or_explained(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    answers["child"]["nc_year"] = "3"
    session = Session(national, answers, TODAY)
    assert paths(session) == {"child.nc_year": "invalid"}
    session.set_answer("child.nc_year_out_of_year", True)
    assert paths(session) == {"child.nc_year_reason": "missing"}
    session.set_answer("child.nc_year_reason", "Repeated a year after a long stay in hospital.")
    assert session.is_complete


def test_dates_that_cannot_be_in_the_future(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["child"]["date_of_birth"] = "2027-01-01"
    assert "child.date_of_birth" in paths(Session(national, answers, TODAY))
    answers = example("primary")
    answers["assessment"]["assessment_date"] = "2026-11-29"
    assert "assessment.assessment_date" in paths(Session(national, answers, TODAY))


def test_only_up_to_25(national: FormDefinition, example: Example) -> None:
    answers = with_birthday(example("19-25"), "1999-01-01", "X")
    assert paths(Session(national, answers, TODAY)) == {"child.date_of_birth": "invalid"}


def test_upn_or_a_reason_for_none(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    del answers["child"]["upn"]
    session = Session(national, answers, TODAY)
    assert paths(session) == {"child.upn": "missing", "child.upn_unknown_reason": "missing"}
    session.set_answer("child.upn_unknown_reason", "awaiting_transfer")
    assert session.is_complete
    session.set_answer("child.upn", "a801 2000 01001")
    assert paths(session) == {"child.upn": "invalid"}
    assert "H801200001001" not in session.problems[0].message
    session.set_answer("child.upn", "h801 2000 01001")
    assert session.is_complete
    assert session.answers["child"]["upn"] == "H801200001001"
    assert "upn_unknown_reason" not in session.exported_answers()["child"]


def test_setting_identified_by_its_kind(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["assessment"]["setting_kind"] = "none"
    session = Session(national, answers, TODAY)
    assert paths(session) == {"assessment.setting_no_urn_code": "missing"}
    assert "setting_urn" not in session.exported_answers()["assessment"]
    session.set_answer("assessment.setting_no_urn_code", "EHE")
    assert session.is_complete


def test_looked_after_needs_the_authority(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    answers["child"]["looked_after"] = True
    session = Session(national, answers, TODAY)
    assert paths(session) == {"child.looked_after_la": "missing"}
    session.set_answer("child.looked_after_la", "001")
    assert paths(session) == {"child.looked_after_la": "invalid"}


def test_communication_other_must_be_specified(national: FormDefinition, example: Example) -> None:
    answers = example("19-25")
    del answers["child"]["communication_other"]
    assert paths(Session(national, answers, TODAY)) == {"child.communication_other": "missing"}


def test_full_record_with_many_items(national: FormDefinition, example: Example) -> None:
    answers = example("primary")
    outcome, item = answers["outcomes"][0], answers["provision"][0]
    answers["outcomes"] = [dict(outcome, _key=f"o{i}") for i in range(20)]
    answers["provision"] = [dict(item, _key=f"s{i}", outcomes=[f"o{i % 20}"]) for i in range(40)]
    session = Session(national, answers, TODAY)
    assert session.is_complete
    session.set_answer("provision[39].minutes", 0)
    assert paths(session) == {"provision[39].minutes": "invalid"}


def test_section_rules_run_even_when_the_last_question_is_hidden(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    for area in ["communication_interaction", "cognition_learning", "semh", "sensory_physical"]:
        answers["needs"][f"{area}_applies"] = False
    del answers["needs"]["primary_need"]
    del answers["needs"]["secondary_need"]
    session = Session(national, answers, TODAY)
    assert not session.is_visible("needs.secondary_need")
    assert paths(session) == {"needs.primary_need": "missing", "needs": "invalid"}


def test_answers_in_the_wrong_shape_are_reported_once(
    national: FormDefinition, example: Example
) -> None:
    answers = example("primary")
    answers["strengths"] = ["Kind"]
    answers["outcomes"] = {"outcome": "x"}
    session = Session(national, answers, TODAY)
    assert {p.path: p.message for p in session.problems if p.section != "provision"} == {
        "strengths": "These answers are not in the expected shape.",
        "outcomes": "These answers are not in the expected shape (a list of items).",
    }
