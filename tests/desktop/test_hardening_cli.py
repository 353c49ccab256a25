"""Hostile input at the command line (issue 15): bounded answers, one sentence, nothing changed.

Every check runs the `onesend` command in-process (tests/cli_runner.py) on a real vault, except
the one about how the real process decodes its standard input. Profiles are made in-process
with the floor key-derivation cost (read back from profile.json by the command), so each
command unlocks quickly.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
from forms.bounds import GENERIC_CHARS, MAX_DEPTH, SHORT_CHARS
from tests import cli_runner
from tests.before_bounds import create_past_the_bounds

PASSWORD = "a long enough passphrase"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


class Onesend(cli_runner.Onesend):
    """`onesend` in-process (tests/cli_runner.py); a warning on stderr is allowed here."""

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    def profile(self) -> Profiles:
        profiles = Profiles(self.data_dir, kdf=FAST_KDF)
        vault, _ = profiles.create("alex", PASSWORD)
        vault.close()
        return profiles


@pytest.fixture
def onesend(tmp_path: Path) -> Onesend:
    return Onesend(tmp_path, PASSWORD)


def _count(profiles: Profiles) -> int:
    with profiles.unlock("alex", PASSWORD) as vault:
        return Assessments(vault).count()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_refuses_answers_past_their_bounds_in_one_sentence(
    onesend: Onesend, tmp_path: Path,
) -> None:
    profiles = onesend.profile()
    huge_name = example("primary")
    huge_name["answers"]["child"]["first_name"] = "A" * 10_000_000
    path = _write(tmp_path, "huge-name.json", json.dumps(huge_name))
    line = onesend.fails("assessments", "import", str(path), "--password-stdin")
    assert "child.first_name" in line
    assert f"more than the {SHORT_CHARS:,}" in line
    assert "AAAA" not in line  # the value itself is never echoed

    # Just over a long answer's bound is refused; at the bound it is taken.
    long_answer = example("primary")
    long_answer["answers"]["about_me"]["interests"] = "b" * (GENERIC_CHARS + 1)
    line = onesend.fails("assessments", "import",
                         str(_write(tmp_path, "long.json", json.dumps(long_answer))),
                         "--password-stdin")
    assert "about_me.interests" in line
    long_answer["answers"]["about_me"]["interests"] = "b" * GENERIC_CHARS
    onesend.ok("assessments", "import",
               str(_write(tmp_path, "at-bound.json", json.dumps(long_answer))),
               "--password-stdin")

    # A list past its repeat count (outcomes repeat at most 60 times).
    many = example("primary")
    many["answers"]["outcomes"] = [copy.deepcopy(many["answers"]["outcomes"][0])
                                   for _ in range(61)]
    line = onesend.fails("assessments", "import",
                         str(_write(tmp_path, "many.json", json.dumps(many))), "--password-stdin")
    assert "outcomes" in line
    assert "61 entries" in line

    # 1e400 parses as infinity: refused. So is a lone surrogate.
    text = json.dumps(example("primary"))
    infinite = text.replace('"answers": {', '"answers": {"about_me_extra": {"n": 1e400},', 1)
    line = onesend.fails("assessments", "import",
                         str(_write(tmp_path, "inf.json", infinite)), "--password-stdin")
    assert "not finite" in line
    surrogate = text.replace('"answers": {', '"answers": {"extra": {"s": "\\ud800"},', 1)
    line = onesend.fails("assessments", "import",
                         str(_write(tmp_path, "surrogate.json", surrogate)), "--password-stdin")
    assert "not valid Unicode" in line

    # Nesting past the bound (and far past Python's own stack) is refused, not a traceback.
    for depth in (MAX_DEPTH + 2, 900, 200_000):
        deep = text.replace('"answers": {',
                            '"answers": {"extra": {"d": ' + "[" * depth + "]" * depth + "},", 1)
        line = onesend.fails("assessments", "import",
                             str(_write(tmp_path, f"deep-{depth}.json", deep)),
                             "--password-stdin")
        assert "nested more than" in line or "not valid JSON" in line
    assert _count(profiles) == 1  # only the one at the bound


def test_finalise_all_complete_skips_a_record_it_cannot_read_and_finalises_the_rest(
    onesend: Onesend, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 900-deep record from a vault written before the bounds does not stop the others."""
    profiles = onesend.profile()
    with profiles.unlock("alex", PASSWORD) as vault:
        store = Assessments(vault)
        good = [store.create(example(name))[0] for name in ("primary", "secondary")]
        # As an older OneSEND would have stored it (it had no bounds).
        bad = create_past_the_bounds(store, example("early-years"), monkeypatch)
    result = json.loads(onesend.ok("assessments", "finalise", "--all-complete", "--json",
                                   "--password-stdin"))
    assert sorted(entry["id"] for entry in result["finalised"]) == sorted(good)
    skipped = {entry["id"]: entry["reason"] for entry in result["skipped"]}
    assert "nested more than" in skipped[bad]
    line = onesend.fails("assessments", "finalise", bad, "--password-stdin")
    assert bad in line


def test_show_prints_repeating_sections(onesend: Onesend) -> None:
    profiles = onesend.profile()
    with profiles.unlock("alex", PASSWORD) as vault:
        record_id, _ = Assessments(vault).create(example("primary"))
    shown = onesend.ok("assessments", "show", record_id, "--password-stdin")
    assert "[outcomes]" in shown
    assert "  (1)" in shown
    outcome = example("primary")["answers"]["outcomes"][0]["outcome"]
    assert f"    outcome: {outcome}" in shown


def test_file_names_and_answers_reach_the_terminal_escaped(
    onesend: Onesend, tmp_path: Path,
) -> None:
    onesend.profile()
    hostile = tmp_path / "report\x1b[2J\x1b]0;pwned\x07\u202e.json"
    hostile.write_text("{not json", encoding="utf-8")
    line = onesend.fails("assessments", "import", str(hostile), "--password-stdin")
    assert "\x1b" not in line
    assert "\x07" not in line
    assert "\u202e" not in line
    assert "report\\u001b[2J\\u001b]0;pwned\\u0007\\u202e.json" in line

    missing = onesend.fails("assessments", "import", str(tmp_path / "gone\x1b[31m.json"),
                            "--password-stdin")
    assert "\x1b" not in missing
    assert "gone\\u001b[31m.json" in missing

    # An answer holding an escape sequence is shown escaped by `show`, and still exact in JSON.
    document = example("primary")
    document["answers"]["child"]["preferred_name"] = "Mo\x1b[8m\u009b"
    path = tmp_path / "escape.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    imported = json.loads(onesend.ok("assessments", "import", str(path), "--json",
                                     "--password-stdin"))
    shown = onesend.ok("assessments", "show", imported["id"], "--password-stdin")
    assert "\x1b" not in shown
    assert "\u009b" not in shown
    assert "Mo\\u001b[8m\\u009b" in shown
    as_json = onesend(*["assessments", "show", imported["id"], "--json", "--password-stdin"])
    assert "\u009b" not in as_json.stdout
    assert json.loads(as_json.stdout)["answers"]["child"]["preferred_name"] == "Mo\x1b[8m\u009b"


def test_data_dir_on_an_existing_shared_folder_keeps_its_mode(
    onesend: Onesend, tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "someone-elses-file.txt").write_text("theirs", encoding="utf-8")
    result = onesend("--data-dir", str(shared), "profile", "create", "alex", "--password-stdin")
    assert result.returncode == 0, result.stderr
    assert shared.stat().st_mode & 0o777 == 0o777  # never changed
    assert (shared / "profiles").stat().st_mode & 0o777 == 0o700  # made private
    assert (shared / "profiles" / "alex").stat().st_mode & 0o777 == 0o700
    # A new folder named by --data-dir is made private.
    fresh = tmp_path / "fresh" / "onesend"
    result = onesend("--data-dir", str(fresh), "profile", "create", "alex", "--password-stdin")
    assert result.returncode == 0, result.stderr
    assert fresh.stat().st_mode & 0o777 == 0o700


@pytest.mark.slow  # the real process: how Python decodes its stdin under each locale
@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_a_password_that_is_not_utf8_is_one_sentence(onesend: Onesend, locale: str) -> None:
    onesend.profile()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESEND_")}
    env.update({k: v for k, v in onesend.env.items() if v is not None})
    result = subprocess.run(
        [cli_runner.onesend_script(), "assessments", "list", "--password-stdin"],
        input=b"pass\xffword\n", capture_output=True, timeout=120, check=False,
        env={**env, "LC_ALL": locale, "PYTHONIOENCODING": ""},
    )
    assert result.returncode == 2
    assert result.stderr.decode() == ("onesend: The password given is not valid UTF-8 text; "
                                      "type it again.\n")
