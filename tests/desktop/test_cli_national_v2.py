"""`onesend` on national form 2.0.0, in-process: `forms check --json` lists the statutory
deadlines, and `assessments start-review` starts a review from the previous record's outcomes."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from tests.cli_runner import Onesend
from tests.desktop.test_cli import PASSWORD, onesend

__all__ = ["onesend"]  # the fixture, used by name below

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


def test_forms_check_json_lists_the_deadlines(onesend: Onesend) -> None:
    path = EXAMPLES / "2.0.0" / "phase-transfer-to-post-16.json"
    verdict = json.loads(onesend.ok("forms", "check", str(path), "--json", stdin=""))
    assert verdict["complete"] is True
    assert verdict["deadlines"][0] == {
        "id": "phase_transfer", "due": "2026-03-31",
        "because": "Before a move from Year 11 to post-16 the plan must be reviewed and "
                   "amended by 31 March of the year of the move (SEND Regulations 2014, "
                   "reg 18(1)(a)).",
    }
    assert [entry["id"] for entry in verdict["deadlines"]] == [
        "phase_transfer", "young_person_decides_from", "annual_review"]
    text = onesend.ok("forms", "check", str(path), stdin="")
    assert text.splitlines()[1] == (
        "Due 2026-03-31: phase_transfer. Before a move from Year 11 to post-16 the plan must be "
        "reviewed and amended by 31 March of the year of the move (SEND Regulations 2014, "
        "reg 18(1)(a)).")
    old = json.loads(onesend.ok("forms", "check", str(EXAMPLES / "primary.json"), "--json",
                                stdin=""))
    assert (old["form_version"], old["deadlines"]) == ("1.0.0", [])


def test_start_review_copies_the_previous_outcomes(onesend: Onesend) -> None:
    Profiles(onesend.data_dir, kdf=FAST_KDF).create("alex", PASSWORD)[0].close()
    previous = json.loads((EXAMPLES / "primary.json").read_text("utf-8"))
    first = json.loads(onesend.ok("assessments", "import", str(EXAMPLES / "primary.json"),
                                  "--json", "--password-stdin"))["id"]
    started = json.loads(onesend.ok("assessments", "start-review", first, "--json",
                                    "--password-stdin"))
    assert started["from"] == first
    review = json.loads(onesend.ok("assessments", "show", started["id"], "--json",
                                   "--password-stdin"))
    assert (review["form_version"], review["status"]) == ("2.0.0", "draft")
    assert review["answers"]["assessment"]["kind"] == "annual_review"
    assert [o["previous_outcome"] for o in review["answers"]["outcomes"]] == [
        o["outcome"] for o in previous["answers"]["outcomes"]]
    assert review["answers"]["child"] == previous["answers"]["child"]
    message = onesend.fails("assessments", "start-review", "no-such-id", "--password-stdin")
    assert "no-such-id" in message or "no assessment" in message.lower()
