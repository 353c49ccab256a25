"""The ``forms`` command group, driven through its own argparse parser."""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

import pytest

from forms import cli
from forms.errors import FormError

FIXTURES = Path(__file__).parent / "fixtures"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="onesend")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


def example_path(name: str) -> Path:
    return Path(str(resources.files("forms").joinpath("examples", f"{name}.json")))


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "list") == 0
    assert capsys.readouterr().out == (
        "national-send-assessment\t1.0.0\tNational SEND assessment\n"
        "national-send-assessment\t2.0.0\tNational SEND assessment\n")


@pytest.mark.parametrize(("form", "version", "last"), [
    ("national-send-assessment", "2.0.0", "19. Agreement [agreement]"),
    ("national-send-assessment@1.0.0", "1.0.0", "13. Agreement [agreement]"),
])
def test_show_outlines_sections_and_questions(form: str, version: str, last: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "show", form) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"national-send-assessment {version}: National SEND assessment\n")
    assert " 1. About the assessment [assessment]" in out
    assert last in out
    assert "- upn (upn) Unique pupil number (UPN)" in out
    assert "(repeats: outcome)" in out
    assert "sen_provision: E, K, N, S, A, P" in out


def test_show_unknown_form_is_a_user_error() -> None:
    with pytest.raises(FormError, match="no version '9"):
        run("forms", "show", "national-send-assessment@9.0.0")


def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "validate", str(FIXTURES / "demo-1.1.0.json")) == 0
    assert "a valid definition of demo 1.1.0" in capsys.readouterr().out
    bad = json.loads((FIXTURES / "demo-1.0.0.json").read_text(encoding="utf-8"))
    bad["sections"][0]["questions"][1]["code_list"] = "missing"
    bad["sections"][0]["questions"][2]["visible_if"] = "about.__class__"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    assert run("forms", "validate", str(path)) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines == [
        "/sections/0/questions/1/code_list: the code list 'missing' is not defined",
        "/sections/0/questions/2/visible_if: Names cannot start with an underscore, "
        "at position 7.",
    ]
    assert "2 problem(s)" in captured.err


def test_validate_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="no such file"):
        run("forms", "validate", str(tmp_path / "absent.json"))


@pytest.mark.parametrize("name", ["early-years", "primary", "secondary", "post-16", "19-25"])
def test_check_complete_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "check", str(example_path(name))) == 0
    assert "complete and valid" in capsys.readouterr().out


def test_check_draft_lists_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "check", str(example_path("draft"))) == 1
    captured = capsys.readouterr()
    assert "provision[0].times: Answer 'How many times'.\n" in captured.out
    assert "missing or invalid" in captured.err
    for line in captured.out.splitlines():
        path, _, message = line.partition(": ")
        assert path
        assert message
        assert "Noor" not in line


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forms", "check", str(example_path("draft")), "--json") == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["complete"] is False
    assert verdict["form"] == "national-send-assessment"
    assert {"path": "provision[0].times", "kind": "missing",
            "message": "Answer 'How many times'."} in verdict["problems"]
    assert verdict["computed"]["assessment.decision_due"] == "2026-11-09"
    assert len(verdict["sections"]) == 13
    assert run("forms", "check", str(example_path("primary")), "--json") == 0
    assert json.loads(capsys.readouterr().out)["complete"] is True


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{ nope", "the JSON is not valid at line 1"),
        ("[]", "is not a JSON object"),
        ('{"answers": {}}', "does not say which form"),
        ('{"form": "national-send-assessment", "form_version": "1.0.0", "answers": []}',
         "'answers' must be a JSON object"),
        ('{"form": "nope", "form_version": "1.0.0"}', "no form called 'nope'"),
        ("[" * 50_000, "nested too deeply"),
    ],
)
def test_check_bad_documents_are_user_errors(tmp_path: Path, content: str,
                                             fragment: str) -> None:
    path = tmp_path / "doc.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormError) as raised:
        run("forms", "check", str(path))
    assert fragment in str(raised.value)


def test_check_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="no such file"):
        run("forms", "check", str(tmp_path / "absent.json"))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(FormError, match="not UTF-8"):
        run("forms", "check", str(binary))
    with pytest.raises(FormError, match="cannot be read"):
        run("forms", "check", str(tmp_path))
