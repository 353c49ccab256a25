"""Starting a review from the previous record: its outcomes copied, not retyped.

A review of an EHC plan reports progress against each outcome of the plan being reviewed
(Children and Families Act 2014 s44; SEND Regulations 2014 reg 20). ``start_review`` makes the
first answers of a review record from the previous record (moved to the newest version by the
form's own migrations first): who the child is, where they learn, the plan's issue date and
named setting, and each previous outcome with its text kept in ``previous_outcome`` and its
``_key`` kept, so provision that linked to it still does.
"""

from __future__ import annotations

import copy
from typing import Any

from forms.errors import AnswersError
from forms.migrations import migrate_document
from forms.model import KEY_FIELD, FormDefinition
from forms.registry import Catalogue, load_definition

REVIEW_KINDS = ("annual_review", "phase_transfer")
_ASSESSMENT_KEPT = ("setting_name", "setting_kind", "setting_urn", "setting_ukprn",
                    "setting_ey_reference", "setting_no_urn_code", "setting_no_urn_code_other",
                    "setting_la")
_OUTCOME_KEPT = ("area", "pfa_area", "outcome", "by_when", "how_measured", "steps")
_PLAN_KEPT = ("issued_date", "named_setting_name", "named_setting_kind", "named_setting_urn",
              "named_setting_ukprn", "named_setting_no_urn", "named_setting_no_urn_other",
              "named_setting_type", "named_sen_unit", "named_resourced_provision",
              "residential", "attendance", "placement_start_date")


def _section(answers: dict[str, Any], name: str) -> dict[str, Any]:
    value = answers.get(name)
    return value if isinstance(value, dict) else {}


def start_review(previous: dict[str, Any], kind: str = "annual_review",
                 definition: FormDefinition | None = None,
                 catalogue: Catalogue | None = None) -> dict[str, Any]:
    """A new review document (no id) built from a previous assessment document."""
    if kind not in REVIEW_KINDS:
        raise AnswersError(f"A review is one of: {', '.join(REVIEW_KINDS)}.")
    if not isinstance(previous, dict) or not isinstance(previous.get("answers"), dict):
        raise AnswersError("The previous record has no answers to start a review from.")
    form_id = str(previous.get("form"))
    target = definition or load_definition(form_id, catalogue=catalogue)
    source = load_definition(form_id, str(previous.get("form_version")), catalogue)
    moved = migrate_document(previous, source, target)
    old: dict[str, Any] = moved["answers"]
    answers: dict[str, Any] = {}
    if isinstance(old.get("child"), dict):
        answers["child"] = copy.deepcopy(old["child"])
    assessment = _section(old, "assessment")
    answers["assessment"] = {"kind": kind, **{
        name: copy.deepcopy(assessment[name]) for name in _ASSESSMENT_KEPT if name in assessment}}
    plan = _section(old, "plan")
    kept_plan = {name: copy.deepcopy(plan[name]) for name in _PLAN_KEPT if name in plan}
    if kept_plan:
        answers["plan"] = kept_plan
    outcomes = []
    for item in old.get("outcomes") or []:
        if not isinstance(item, dict):
            continue
        copied = {name: copy.deepcopy(item[name]) for name in _OUTCOME_KEPT if name in item}
        if KEY_FIELD in item:
            copied = {KEY_FIELD: item[KEY_FIELD], **copied}
        if isinstance(item.get("outcome"), str):
            copied["previous_outcome"] = item["outcome"]
        outcomes.append(copied)
    if outcomes:
        answers["outcomes"] = outcomes
    return {"form": target.id, "form_version": target.version, "answers": answers}
