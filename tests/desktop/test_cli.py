"""The `onesend` command from an empty data folder: in-process (tests/cli_runner.py), and the
whole journey once more as the installed script in a process of its own (the full tier)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from tests.cli_runner import Onesend, OnesendProcess

PASSWORD = "a long enough passphrase"
DOC: dict[str, Any] = {
    "form": "national-send-assessment",
    "form_version": "1.0.0",
    "answers": {
        "child": {"first_name": "Perpetua", "last_name": "Nightingale", "date_of_birth":
                  "2014-09-01", "upn": "H801200001001"},
        "about_me": {"what_matters": "Horses, and my little brother 🐴"},
    },
}


@pytest.fixture
def onesend(tmp_path: Path) -> Onesend:
    """`onesend` in this process, with its own data folder and home."""
    return Onesend(tmp_path, PASSWORD)


@pytest.fixture(params=["in-process", pytest.param("process", marks=pytest.mark.slow)])
def journey(request: pytest.FixtureRequest, tmp_path: Path) -> Onesend:
    """The same journey in this process (both tiers) and as the installed script (full tier)."""
    if request.param == "process":
        return OnesendProcess(tmp_path, PASSWORD)
    return Onesend(tmp_path, PASSWORD)


def test_cli_end_to_end_from_an_empty_data_dir(journey: Onesend, tmp_path: Path) -> None:
    onesend = journey
    assert re.fullmatch(r"onesend \d+\.\d+\.\d+\n", onesend.ok("--version", stdin=""))
    assert "No profiles yet" in onesend.ok("profile", "list", stdin="")
    assert "no profile in" in onesend.fails("assessments", "list", "--password-stdin")

    if isinstance(onesend, OnesendProcess):  # from nothing, as a user would
        created = onesend.ok("profile", "create", "alex", "--password-stdin")
    else:  # with the floor key-derivation cost, which every command reads from profile.json
        vault, created = Profiles(onesend.data_dir, kdf=FAST_KDF).create("alex", PASSWORD)
        vault.close()
    recovery_key = re.search(r"^([A-Z2-7]{4}(-[A-Z2-7]{4}){7})$", created, re.MULTILINE)
    assert recovery_key, created
    assert json.loads(onesend.ok("profile", "list", "--json", stdin="")) == [{"name": "alex"}]
    assert (onesend.data_dir / "profiles" / "alex").stat().st_mode & 0o777 == 0o700

    doc_file = tmp_path / "doc.json"
    doc_file.write_text(json.dumps(DOC), encoding="utf-8")
    imported = json.loads(onesend.ok("assessments", "import", str(doc_file), "--json",
                                     "--password-stdin"))
    record_id = imported["id"]
    assert imported["revision"] == 1

    listing = json.loads(onesend.ok("assessments", "list", "--json", "--password-stdin"))
    assert [(s["id"], s["first_name"], s["last_name"], s["status"], s["damaged"])
            for s in listing] == [(record_id, "Perpetua", "Nightingale", "draft", False)]
    table = onesend.ok("assessments", "list", "--password-stdin")
    assert "Perpetua Nightingale" in table
    assert "2014-09-01" in table

    shown = json.loads(onesend.ok("assessments", "show", record_id, "--json",
                                  "--password-stdin"))
    assert shown["answers"] == DOC["answers"]
    assert (shown["id"], shown["revision"], shown["status"]) == (record_id, 1, "draft")
    assert "what_matters: Horses" in onesend.ok("assessments", "show", record_id,
                                                  "--password-stdin")

    out = tmp_path / "export.json"
    onesend.ok("assessments", "export", record_id, "--format", "json", "--out", str(out),
               "--password-stdin")
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["answers"] == DOC["answers"]
    assert {"id", "revision", "status", "created_at", "updated_at"} <= exported.keys()
    assert out.stat().st_mode & 0o777 == 0o600

    # The exported file, edited and imported again, becomes revision 2 of the same record.
    exported["answers"]["about_me"]["what_matters"] = "Horses and drawing"
    out.write_text(json.dumps(exported), encoding="utf-8")
    again = json.loads(onesend.ok("assessments", "import", str(out), "--json",
                                  "--password-stdin"))
    assert again == {"id": record_id, "revision": 2}
    history = json.loads(onesend.ok("assessments", "history", record_id, "--json",
                                    "--password-stdin"))
    assert [(h["revision"], h["action"], h["author"]) for h in history] == [
        (1, "import", "alex"), (2, "import", "alex")]
    assert "Restored revision 1" in onesend.ok("assessments", "restore", record_id, "1",
                                                 "--password-stdin")
    restored = json.loads(onesend.ok("assessments", "show", record_id, "--json",
                                     "--password-stdin"))
    assert restored["revision"] == 3
    assert restored["answers"] == DOC["answers"]

    # Password change, then recovery; each time the old password stops working.
    onesend.ok("profile", "change-password", "--password-stdin",
               stdin=f"{PASSWORD}\nsecond long passphrase\n")
    assert "does not unlock" in onesend.fails("assessments", "list", "--password-stdin")
    onesend.ok("profile", "recover", "--password-stdin",
               stdin=f"{recovery_key.group(1)}\nthird long passphrase\n")
    assert "does not unlock" in onesend.fails("assessments", "list", "--password-stdin",
                                              stdin="second long passphrase\n")
    final = json.loads(onesend.ok("assessments", "show", record_id, "--json",
                                  "--password-stdin", stdin="third long passphrase\n"))
    assert final["answers"] == DOC["answers"]


def test_cli_errors_are_one_sentence(onesend: Onesend, tmp_path: Path) -> None:
    # Made here with the floor key-derivation cost (the command reads it from profile.json);
    # `profile create` itself is the journey's, above, and "sam" below.
    Profiles(onesend.data_dir, kdf=FAST_KDF).create("alex", PASSWORD)[0].close()
    assert "That password does not unlock the profile 'alex'" in onesend.fails(
        "assessments", "list", "--password-stdin", stdin="wrong password\n")
    assert "give the password with --password-stdin" in onesend.fails(
        "assessments", "list", stdin="")
    assert "Cannot read" in onesend.fails("assessments", "import", str(tmp_path / "missing.json"),
                                          "--password-stdin")
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")
    assert f"{bad} is not valid JSON" in onesend.fails("assessments", "import", str(bad),
                                                        "--password-stdin")
    bad.write_text(json.dumps({"form": "x", "form_version": "1"}), encoding="utf-8")
    assert "/answers" in onesend.fails("assessments", "import", str(bad), "--password-stdin")
    assert "no assessment with id nope" in onesend.fails("assessments", "show", "nope",
                                                         "--password-stdin")
    assert "already exists" in onesend.fails("profile", "create", "alex", "--password-stdin")
    assert "at least 10 characters" in onesend.fails("profile", "create", "sam",
                                                     "--password-stdin", stdin="short\n")
    onesend.ok("profile", "create", "sam", "--password-stdin")
    assert "choose one with --profile" in onesend.fails("assessments", "list",
                                                        "--password-stdin")
    assert "no profile called 'kim'" in onesend.fails("--profile", "kim", "assessments", "list",
                                                      "--password-stdin")
    assert "Standard input ended" in onesend.fails("--profile", "sam", "profile",
                                                   "change-password", "--password-stdin")
