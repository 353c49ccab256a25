"""National form 2.0.0: the rules that were wrong in law, the new sections, the deadlines as
data, the examples (each `forms check`ed) and the migration of every 1.0.0 example."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from forms import validators
from forms.engine import Session, check_document
from forms.migrations import migrate, migrate_document
from forms.model import KEY_FIELD, FormDefinition
from forms.registry import load_definition
from forms.reviews import start_review
from forms.validators import check_uln, end_of_compulsory_school_age
from tests.forms.test_forms_cli import run

FORM = "national-send-assessment"
TODAY = date(2026, 11, 28)
V1_EXAMPLES = ("early-years", "primary", "secondary", "post-16", "19-25", "draft")
EDGE_CASES = ("neet-19", "home-education", "looked-after-out-of-area", "apprentice",
              "year11-aged-16-before-leaving-date", "year11-aged-16-after-leaving-date",
              "annual-review-under-5", "phase-transfer-to-post-16")


@pytest.fixture(scope="module")
def v1() -> FormDefinition:
    return load_definition(FORM, "1.0.0")


@pytest.fixture(scope="module")
def v2() -> FormDefinition:
    return load_definition(FORM, "2.0.0")


def example_path(name: str, version: str = "2.0.0") -> Path:
    folder = resources.files("forms").joinpath("examples")
    if version == "2.0.0":
        folder = folder.joinpath("2.0.0")
    return Path(str(folder.joinpath(f"{name}.json")))


def read(name: str, version: str = "2.0.0") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(example_path(name, version).read_text("utf-8"))
    return doc


# --- the version new assessments use ---------------------------------------------------------


def test_2_0_0_is_the_default_and_1_0_0_stays_loadable() -> None:
    assert load_definition(FORM).version == "2.0.0"
    assert load_definition(FORM, "1.0.0").version == "1.0.0"


def test_the_contract_answer_paths_keep_their_names(v2: FormDefinition) -> None:
    for path in ("child.first_name", "child.last_name", "child.date_of_birth", "child.upn",
                 "child.uln", "child.nc_year", "assessment.kind", "assessment.assessment_date",
                 "assessment.request_date", "plan.issued_date", "transfer.date", "transfer.kind",
                 "agreement.parent_agreement", "agreement.young_person_agreement"):
        section, question = path.split(".")
        assert v2.question(section, question) is not None, path
    kinds = {item.code for item in v2.code_lists["transfer_kind"].items}
    assert kinds == {"school_phase", "year11_to_post16", "post16_to_post16"}


# --- the examples, each through `onesend forms check --json` ---------------------------------


@pytest.mark.parametrize("name", [n for n in V1_EXAMPLES if n != "draft"] + list(EDGE_CASES))
def test_every_2_0_0_example_checks_clean(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "check", str(example_path(name)), "--json") == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["form_version"] == "2.0.0"
    assert verdict["complete"] is True, verdict["problems"]
    ids = {entry["id"] for entry in verdict["deadlines"]}
    assert "young_person_decides_from" in ids
    for entry in verdict["deadlines"]:
        assert set(entry) <= {"id", "due", "because", "path"}
        assert date.fromisoformat(entry["due"])
        assert entry["because"].endswith(")") or entry["because"].endswith(".")


def test_the_migrated_draft_is_still_only_unfinished(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "check", str(example_path("draft")), "--json") == 1
    verdict = json.loads(capsys.readouterr().out)
    assert {problem["kind"] for problem in verdict["problems"]} == {"missing"}
    assert [e["id"] for e in verdict["deadlines"]][:2] == ["decision_to_assess", "final_plan"]


EXPECTED_EXAMPLE_DEADLINES = {
    "early-years": {"decision_to_assess": "2025-12-01", "final_plan": "2026-03-09"},
    "secondary": {"sen_support_review": "2026-07-04"},
    "neet-19": {"annual_review": "2027-09-15", "young_person_decides_from": "2023-07-01"},
    "annual-review-under-5": {"annual_review": "2026-11-11"},
    "phase-transfer-to-post-16": {"phase_transfer": "2026-03-31",
                                  "young_person_decides_from": "2026-06-27"},
    "year11-aged-16-before-leaving-date": {"young_person_decides_from": "2026-06-27"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_EXAMPLE_DEADLINES))
def test_example_deadlines(name: str) -> None:
    verdict = check_document(read(name), today=TODAY)
    found = {entry.id: entry.due.isoformat() for entry in verdict.deadlines}
    assert EXPECTED_EXAMPLE_DEADLINES[name].items() <= found.items()


def test_year_11_aged_16_before_the_leaving_date_needs_the_parent() -> None:
    doc = read("year11-aged-16-before-leaving-date")
    session = Session(load_definition(FORM, "2.0.0"), doc["answers"], TODAY)
    assert session.computed["child.age"] == 16
    assert session.computed["child.young_person_decides"] is False
    answers = copy.deepcopy(doc["answers"])
    del answers["agreement"]["parent_agreement"]
    session = Session(load_definition(FORM, "2.0.0"), answers, TODAY)
    assert [p.path for p in session.problems] == ["agreement.parent_agreement"]
    assert not session.is_visible("agreement.young_person_agreement")


def test_after_the_leaving_date_the_young_person_decides_and_may_leave_family_out() -> None:
    doc = read("year11-aged-16-after-leaving-date")
    session = Session(load_definition(FORM, "2.0.0"), doc["answers"], TODAY)
    assert session.computed["child.young_person_decides"] is True
    assert session.is_complete
    assert "family_views" not in session.exported_answers() or not session.exported_answers()[
        "family_views"].get("views")
    answers = copy.deepcopy(doc["answers"])
    answers["agreement"]["lacks_capacity"] = True
    session = Session(load_definition(FORM, "2.0.0"), answers, TODAY)
    assert {p.path for p in session.problems} == {
        "agreement.representative", "agreement.representative_basis",
        "agreement.capacity_reason", "agreement.representative_agreement"}
    assert not session.is_visible("agreement.young_person_agreement")


# --- the migration of every 1.0.0 example ----------------------------------------------------


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for key, inner in value.items()
                for leaf in _leaves(inner, f"{path}.{key}" if path else key)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [leaf for index, inner in enumerate(value)
                for leaf in _leaves(inner, f"{path}[{index}]")]
    return [(path, value)]


RENAMED = {"placement.recommended_setting_type": "recommendation.setting_type",
           "placement.change_reason": "recommendation.reason"}


@pytest.mark.parametrize("name", V1_EXAMPLES)
def test_every_1_0_0_example_migrates_losslessly(name: str, v1: FormDefinition,
                                                 v2: FormDefinition) -> None:
    old = read(name, "1.0.0")
    moved = migrate_document(old, v1, v2)
    kept = dict(_leaves(moved["answers"]))
    archived = {entry["path"]: entry["value"] for entry in moved["archive"]}
    for path, value in _leaves(old["answers"]):
        target = RENAMED.get(path, path)
        if target in kept:
            assert kept[target] == value, path
        else:
            assert archived.get(path) == value, f"{path} was dropped"
    # The committed 2.0.0 example is the migrated one, completed: nothing migrated is changed.
    completed = dict(_leaves(read(name)["answers"]))
    changed = {p for p, v in kept.items() if completed.get(p, v) != v}
    assert changed <= _EDITED_AFTER_MIGRATION.get(name, set())
    assert moved["form_version"] == "2.0.0"


_EDITED_AFTER_MIGRATION = {"secondary": {"agreement.next_review_date"}}


def test_everything_1_0_0_asked_is_kept_or_archived(v1: FormDefinition,
                                                    v2: FormDefinition) -> None:
    answers = read("post-16", "1.0.0")["answers"]
    answers["placement"]["change_reason"] = "A specialist college is closer to home."
    answers["child"]["retired_question"] = "kept"  # something 2.0.0 does not ask
    answers["gone_section"] = {"x": "also kept"}
    moved, archived = migrate(answers, v1, v2)
    assert moved["recommendation"]["reason"] == "A specialist college is closer to home."
    assert {entry.path for entry in archived} == {"child.retired_question", "gone_section"}
    assert all(entry.from_version == "1.0.0" for entry in archived)
    assert all(item["status"] == "received" for item in moved["advice"])


def test_a_retired_code_survives_migration_and_asks_to_be_chosen_again(
        v1: FormDefinition, v2: FormDefinition) -> None:
    doc = read("primary", "1.0.0")
    doc["answers"]["placement"]["current_setting_type"] = "mainstream_resourced"
    moved = migrate_document(doc, v1, v2)
    assert moved["answers"]["placement"]["current_setting_type"] == "mainstream_resourced"
    problems = {p.path: p.message for p in check_document(moved, today=TODAY).problems}
    assert "no longer used" in problems["placement.current_setting_type"]


def test_code_lists_offer_every_current_census_code(v2: FormDefinition) -> None:
    # Down syndrome is its own SEN type from the January 2025 school census (DfE, following the
    # Down Syndrome Act 2022), and a mixed-year class is an NCyearActual code: a form that
    # offers fewer codes than a CTF may carry would turn a valid import into an error.
    lists = v2.code_lists
    assert {i.code for i in lists["sen_type"].offered} == set(validators.SEN_TYPE_CODES)
    assert "DS" in {i.code for i in lists["sen_type"].offered}
    assert [i.code for i in lists["nc_year"].offered] == list(validators.NC_YEAR_CODES)


def test_finalised_1_0_0_records_still_judge_under_1_0_0() -> None:
    verdict = check_document(read("primary", "1.0.0"), today=TODAY)
    assert verdict.complete
    assert verdict.form_version == "1.0.0"
    assert verdict.deadlines == ()  # 1.0.0 declares none


# --- rules that were wrong in law -------------------------------------------------------------


def _session(answers: dict[str, Any], today: date = TODAY) -> Session:
    return Session(load_definition(FORM, "2.0.0"), answers, today)


def test_a_mistyped_upn_gives_one_error_on_the_upn() -> None:
    answers = read("primary")["answers"]
    answers["child"]["upn"] = "M204123416002"  # the check letter no longer matches
    session = _session(answers)
    child = [p for p in session.problems if p.section == "child"]
    assert [p.path for p in child] == ["child.upn"]
    assert not session.is_visible("child.upn_unknown_reason")
    old = Session(load_definition(FORM, "1.0.0"), read("primary", "1.0.0")["answers"] | {
        "child": answers["child"]}, TODAY)
    assert {p.path for p in old.problems} >= {"child.upn", "child.upn_unknown_reason"}


def test_an_empty_upn_asks_why() -> None:
    answers = read("primary")["answers"]
    del answers["child"]["upn"]
    assert {p.path for p in _session(answers).problems} == {"child.upn_unknown_reason"}


def test_a_uln_never_starts_with_0() -> None:
    assert check_uln("0123456789") is not None
    assert "0" in (check_uln("0123456789") or "")
    assert check_uln("1000000027") is None
    answers = read("apprentice")["answers"]
    answers["child"]["uln"] = "0000000000"
    assert [p.path for p in _session(answers).problems] == ["child.uln"]


@pytest.mark.parametrize(
    ("provision", "layer", "complaint"),
    [("K", "specialist", "s34"), ("E", "universal", "s37"), ("N", "targeted", "universal")],
)
def test_support_layer_against_sen_provision(provision: str, layer: str, complaint: str) -> None:
    answers = read("secondary")["answers"]
    answers["placement"].update({"sen_provision": provision, "support_layer": layer})
    messages = [p.message for p in _session(answers).problems
                if p.path == "placement.sen_provision"]
    assert len(messages) == 1
    assert complaint in messages[0]


def test_the_primary_need_must_be_in_an_area_that_applies() -> None:
    answers = read("primary")["answers"]
    answers["needs"]["primary_need"] = "VI"
    answers["needs"]["sensory_physical_applies"] = False
    for key in ("sensory_physical_barriers", "sensory_physical_what_removes"):
        answers["needs"].pop(key, None)
    messages = [p.message for p in _session(answers).problems if p.path == "needs.primary_need"]
    assert messages
    assert "sensory and/or physical" in messages[0]


def test_regulation_6_advice_for_a_vision_impaired_child_from_year_9() -> None:
    answers = read("looked-after-out-of-area")["answers"]
    answers["child"].update({"date_of_birth": "2012-01-10", "nc_year": "10"})
    answers["needs"].update({"sensory_physical_applies": True, "primary_need": "VI",
                             "sensory_physical_barriers": "Small print.",
                             "sensory_physical_what_removes": "Large print."})
    answers["placement"]["sen_provision"] = "E"
    answers["outcomes"][0]["pfa_area"] = "independent_living"
    answers["plan"] = {"recorded_from": "Decision letter", "decided_to_assess": True,
                       "decision_date": "2026-10-01"}
    answers["advice"] = [{"role": "medical", "status": "sought", "sought_date": "2026-10-02",
                          "adviser": {"name": "Dr Placeholder", "role": "Paediatrician"}}]
    messages = " ".join(p.message for p in _session(answers).problems if p.section == "advice")
    for needed in ("6(1)(a)", "6(1)(b)", "6(1)(d)", "6(1)(e)", "6(3)", "6(1)(g)"):
        assert needed in messages, needed
    assert "6(1)(c)" not in messages  # the medical advice is there (sought)


def test_family_views_are_required_for_a_child() -> None:
    answers = read("primary")["answers"]
    del answers["family_views"]
    paths = {p.path for p in _session(answers).problems}
    assert {"family_views.views", "family_views.contributors"} <= paths


def test_the_health_commissioner_agreement_is_asked_once_there_is_health_provision() -> None:
    answers = read("post-16")["answers"]
    assert any(item["kind"] == "health" for item in answers["provision"])
    del answers["health_care"]["commissioner_agreed"]
    assert {p.path for p in _session(answers).problems} == {"health_care.commissioner_agreed"}


def test_the_assessor_part_has_no_cost_or_funding(v2: FormDefinition) -> None:
    section = v2.sections_by_id["recommendation"]
    words = " ".join(f"{q.id} {q.label}" for q in section.questions).lower()
    assert not any(word in words for word in ("cost", "fund", "£", "budget"))
    assert "local authority" in v2.sections_by_id["plan"].help.lower()
    # Separate authors: the assessor (assessment.assessor) and the LA's officer.
    officer = v2.question("plan", "la_officer")
    assert officer is not None
    assert officer.type == "person"


def test_every_question_feeding_sen2_is_tagged(v2: FormDefinition) -> None:
    tagged = {f"{s.id}.{q.id}" for s in v2.sections for q in s.questions
              if dict(q.returns).get("sen2")}
    assert {"assessment.request_date", "assessment.request_source", "plan.decision_date",
            "plan.assessment_outcome", "plan.assessment_outcome_date", "plan.issued_date",
            "plan.named_setting_urn", "plan.named_setting_ukprn", "plan.named_sen_unit",
            "plan.named_resourced_provision", "plan.residential", "plan.attendance",
            "plan.placement_start_date", "personal_budget.kind", "child.ethnicity",
            "plan.cease_reason", "child.upn", "child.uln", "child.upn_unknown_reason",
            "child.person_key"} <= tagged


def test_a_new_draft_without_upn_gets_a_person_key() -> None:
    from ui.new_assessment import new_document  # noqa: PLC0415 - the window's own builder

    doc = new_document("Ada", "Example", "2023-01-05", "")
    assert doc["form_version"] == "2.0.0"
    key = doc["answers"]["child"]["person_key"]
    session = _session(doc["answers"])
    assert not session.problems_at("child.person_key")
    assert key.startswith("OS")
    assert len(key) == 13
    assert "person_key" not in new_document("Ada", "Example", "2023-01-05",
                                            "M204123416001")["answers"]["child"]


def test_a_review_starts_from_the_previous_outcomes() -> None:
    previous = read("primary", "1.0.0")
    review = start_review(previous)
    assert review["form_version"] == "2.0.0"
    assert review["answers"]["assessment"]["kind"] == "annual_review"
    old = previous["answers"]["outcomes"]
    new = review["answers"]["outcomes"]
    assert [o[KEY_FIELD] for o in new] == [o[KEY_FIELD] for o in old]
    assert [o["previous_outcome"] for o in new] == [o["outcome"] for o in old]
    session = _session(review["answers"])
    assert session.is_visible("outcomes[0].progress")
    assert any(p.path == "outcomes[0].progress" for p in session.problems)


# --- the deadlines, as a table -----------------------------------------------------------------


def _doc(kind: str, *, assessed: str = "2025-01-10", born: str = "2015-01-01",
         **sections: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {"assessment": {"kind": kind, "assessment_date": assessed},
                               "child": {"date_of_birth": born}}
    for name, values in sections.items():
        answers.setdefault(name, {}).update(values)
    return answers


def _ehc(request: str, **more: Any) -> dict[str, Any]:
    return _doc("ehc_request", assessment={"request_date": request, **more})


def _plan(issued: str, born: str = "2015-01-01") -> dict[str, Any]:
    return _doc("ehc_request", born=born, assessed=issued,
                assessment={"request_date": "2024-01-02"},
                plan={"decided_to_assess": True, "decision_date": "2024-02-01",
                      "assessment_outcome": "plan_issued", "issued_date": issued})


def _review(meeting: str, born: str = "2015-01-01") -> dict[str, Any]:
    return _doc("annual_review", assessed=meeting, born=born, review={"meeting_date": meeting})


def _move(kind: str, on: str) -> dict[str, Any]:
    return _doc("phase_transfer", assessed="2024-01-05", born="2008-01-01",
                transfer={"kind": kind, "date": on})


def _advice_item(sought: str, exception: tuple[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"role": "medical", "status": "sought", "sought_date": sought}
    if exception:
        item.update({"exception": "absent_from_area", "exception_from": exception[0],
                     "exception_to": exception[1]})
    return _doc("ehc_request", assessment={"request_date": "2025-06-02"}) | {"advice": [item]}


DEADLINE_TABLE: list[tuple[str, dict[str, Any], str, str]] = [
    # Regulation 5(1) and 13(2): 6 and 20 weeks from the request.
    ("request in January", _ehc("2025-01-06"), "decision_to_assess", "2025-02-17"),
    ("request in January", _ehc("2025-01-06"), "final_plan", "2025-05-26"),
    ("request on 29 February", _ehc("2024-02-29"), "decision_to_assess", "2024-04-11"),
    ("request on 29 February", _ehc("2024-02-29"), "final_plan", "2024-07-18"),
    ("request over new year, leap year", _ehc("2023-12-20"), "decision_to_assess", "2024-01-31"),
    ("request over new year, leap year", _ehc("2023-12-20"), "final_plan", "2024-05-08"),
    ("request on 28 February, not leap", _ehc("2027-02-28"), "decision_to_assess", "2027-04-11"),
    ("request on 29 February 2028", _ehc("2028-02-29"), "final_plan", "2028-07-18"),
    ("reg 13(3) exception of 28 days",
     _ehc("2025-01-06", plan_exception="absent_from_area", exception_from="2025-03-01",
          exception_to="2025-03-29"), "final_plan", "2025-06-23"),
    # Regulation 8(1): advice within 6 weeks; 8(2) exceptions move it.
    ("advice asked on 29 February", _doc("ehc_advice", assessed="2024-03-01",
                                         assessment={"advice_requested_date": "2024-02-29"}),
     "advice", "2024-04-11"),
    ("advice item sought in July", _advice_item("2025-07-14"), "advice", "2025-08-25"),
    ("advice item with a 14-day exception",
     _advice_item("2025-07-14", ("2025-07-20", "2025-08-03")), "advice", "2025-09-08"),
    # Regulation 13(1): 15 days beginning with the day the draft is sent.
    ("draft sent in February", _plan("2025-01-10") | {"plan": {
        "decided_to_assess": True, "decision_date": "2024-02-01",
        "assessment_outcome": "plan_issued", "issued_date": "2025-03-20",
        "draft_sent_date": "2025-02-20"}}, "draft_comments", "2025-03-06"),
    ("draft sent in a leap February", _plan("2024-03-10") | {"plan": {
        "decided_to_assess": True, "decision_date": "2024-02-01",
        "assessment_outcome": "plan_issued", "issued_date": "2024-03-10",
        "draft_sent_date": "2024-02-20"}}, "draft_comments", "2024-03-05"),
    ("draft sent on Christmas Day", _plan("2026-01-20") | {"plan": {
        "decided_to_assess": True, "decision_date": "2024-02-01",
        "assessment_outcome": "plan_issued", "issued_date": "2026-01-20",
        "draft_sent_date": "2025-12-25"}}, "draft_comments", "2026-01-08"),
    # CFA 2014 s44(1): first review 12 months from the plan's issue date (under 5: 6 months).
    ("plan issued on 29 February", _plan("2024-02-29"), "first_review", "2025-02-28"),
    ("plan issued on 31 March", _plan("2025-03-31"), "first_review", "2026-03-31"),
    ("plan issued for a child under 5", _plan("2025-08-31", born="2022-01-01"),
     "first_review", "2026-02-28"),
    # s44(1)(b): 12 months from the last review; Code 9.178: 6 months under 5.
    ("review in June", _review("2025-06-18"), "annual_review", "2026-06-18"),
    ("review on 28 February before a leap year", _review("2023-02-28"), "annual_review",
     "2024-02-28"),
    ("review of a child under 5 on 31 August", _review("2024-08-31", born="2021-03-01"),
     "annual_review", "2025-02-28"),
    # Code 6.65: SEN support reviews three times a year, so within 4 months.
    ("SEN support on 31 October", _doc("sen_support_review", assessed="2025-10-31"),
     "sen_support_review", "2026-02-28"),
    ("SEN support on 31 October before a leap year",
     _doc("sen_support_review", assessed="2023-10-31"), "sen_support_review", "2024-02-29"),
    # Regulation 18: phase transfers.
    ("school phase move in September", _move("school_phase", "2026-09-02"), "phase_transfer",
     "2026-02-15"),
    ("school phase move in January", _move("school_phase", "2027-01-04"), "phase_transfer",
     "2027-02-15"),
    ("school phase move in April", _move("school_phase", "2028-04-17"), "phase_transfer",
     "2028-02-15"),
    ("Year 11 to post-16 in September", _move("year11_to_post16", "2026-09-03"),
     "phase_transfer", "2026-03-31"),
    ("Year 11 to post-16 in a leap year", _move("year11_to_post16", "2028-09-04"),
     "phase_transfer", "2028-03-31"),
    *[(f"post-16 move in month {month}", _move("post16_to_post16", on), "phase_transfer", due)
      for month, on, due in (
          (1, "2026-01-05", "2025-08-05"), (2, "2026-02-28", "2025-09-28"),
          (3, "2026-03-31", "2025-10-31"), (4, "2026-04-13", "2025-11-13"),
          (5, "2026-05-31", "2025-12-31"), (6, "2026-06-01", "2026-01-01"),
          (7, "2027-07-31", "2027-02-28"), (8, "2028-07-29", "2028-02-29"),
          (8, "2026-08-31", "2026-03-31"), (9, "2026-09-01", "2026-04-01"),
          (10, "2026-10-31", "2026-05-31"), (11, "2026-11-30", "2026-06-30"),
          (12, "2026-12-31", "2026-07-31"))],
    # Education Act 1996 s8 and the School Leaving Date Order 1997: the day after the last
    # Friday in June of the school year in which they turn 16.
    ("born 1 September", _doc("sen_support_review", born="2009-09-01"),
     "young_person_decides_from", "2026-06-27"),
    ("born 31 August", _doc("sen_support_review", born="2010-08-31"),
     "young_person_decides_from", "2026-06-27"),
    ("16 on the leaving date itself", _doc("sen_support_review", born="2010-06-26"),
     "young_person_decides_from", "2026-06-27"),
    ("16 just after the leaving date", _doc("sen_support_review", born="2010-06-27"),
     "young_person_decides_from", "2026-06-27"),
    ("born on 29 February", _doc("sen_support_review", born="2008-02-29"),
     "young_person_decides_from", "2024-06-29"),
    ("born 1 September a year later", _doc("sen_support_review", born="2010-09-01"),
     "young_person_decides_from", "2027-06-26"),
]


@pytest.mark.parametrize(("label", "answers", "deadline", "due"), DEADLINE_TABLE,
                         ids=[f"{row[2]}: {row[0]}" for row in DEADLINE_TABLE])
def test_deadline_table(label: str, answers: dict[str, Any], deadline: str, due: str) -> None:
    found = [entry for entry in _session(answers).deadlines if entry.id == deadline]
    assert [entry.due.isoformat() for entry in found] == [due], label
    assert found[0].because


def test_the_table_is_at_least_30_rows_with_transfers_in_every_month() -> None:
    assert len(DEADLINE_TABLE) >= 30
    months = {date.fromisoformat(row[1]["transfer"]["date"]).month
              for row in DEADLINE_TABLE if "transfer" in row[1]}
    assert months == set(range(1, 13))


def test_end_of_compulsory_school_age_is_a_friday_in_june() -> None:
    for year in range(2000, 2030):
        ends = end_of_compulsory_school_age(date(year, 1, 1))
        assert ends.weekday() == 4
        assert ends.month == 6
        assert ends.day > 23


def test_deadlines_not_applying_are_left_out() -> None:
    session = _session(_doc("sen_support_review"))
    assert {entry.id for entry in session.deadlines} == {"sen_support_review",
                                                         "young_person_decides_from"}
    session = _session(_doc("ehc_request", assessment={}))
    assert {entry.id for entry in session.deadlines} == {"young_person_decides_from"}
