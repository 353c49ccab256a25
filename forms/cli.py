"""The ``onesend forms`` commands: list, show, validate and check, headless and scriptable."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from forms.engine import Verdict, document_session, verdict_of
from forms.errors import AnswersError, DefinitionError, FormError
from forms.model import Question
from forms.registry import list_definitions, load_definition, load_definition_file


def register(subparsers: Any) -> None:
    """Add the ``forms`` command group to an argparse subparsers object."""
    forms = subparsers.add_parser(
        "forms", help="list, show and check form definitions and answers",
        description="Work with the national assessment form and answers documents.",
    )
    commands = forms.add_subparsers(dest="forms_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="list the form definitions this version knows")
    listing.set_defaults(handler=list_command)

    show = commands.add_parser("show", help="an outline of a form's sections and questions")
    show.add_argument("form", metavar="ID[@VERSION]", help="for example national-send-assessment")
    show.set_defaults(handler=show_command)

    validate = commands.add_parser("validate", help="check a form definition file")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.set_defaults(handler=validate_command)

    check = commands.add_parser(
        "check", help="judge an assessment document (exit 0 when complete and valid) and list "
        "its statutory deadlines"
    )
    check.add_argument("answers", type=Path, metavar="ANSWERS.json")
    check.add_argument("--json", action="store_true",
                       help="print the verdict as JSON, with the statutory deadlines")
    check.set_defaults(handler=check_command)


def list_command(_args: argparse.Namespace) -> int:
    for form_id, version, title in list_definitions():
        sys.stdout.write(f"{form_id}\t{version}\t{title}\n")
    return 0


def _describe(question: Question) -> str:
    kind = question.type
    if question.code_list:
        kind += f": {question.code_list}"
    elif question.choices_from:
        kind += f": items of {question.choices_from}"
    notes = []
    if question.required:
        notes.append("required")
    elif question.required_if is not None:
        notes.append(f"required if {question.required_if.source}")
    if question.visible_if is not None:
        notes.append(f"shown if {question.visible_if.source}")
    if question.expression is not None:
        notes.append(f"= {question.expression.source}")
    notes += [f"{name}: {item}" for name, item in question.returns]
    suffix = f" [{'; '.join(notes)}]" if notes else ""
    return f"{question.id} ({kind}) {question.label}{suffix}"


def show_command(args: argparse.Namespace) -> int:
    form_id, _, version = str(args.form).partition("@")
    definition = load_definition(form_id, version or None)
    out = [f"{definition.id} {definition.version}: {definition.title}"]
    for number, section in enumerate(definition.sections, start=1):
        repeat = f" (repeats: {section.item_label.lower()})" if section.repeat else ""
        out.append(f"{number:>2}. {section.title} [{section.id}]{repeat}")
        for question in section.questions:
            out.append(f"      - {_describe(question)}")
            for sub in question.questions:
                out.append(f"          - {_describe(sub)}")
    if definition.deadlines:
        out.append("Deadlines:")
        for deadline in definition.deadlines:
            each = f" (each item of {deadline.each})" if deadline.each else ""
            out.append(f"    {deadline.id}{each} = {deadline.due.source}: {deadline.because}")
    if definition.code_lists:
        out.append("Code lists:")
        for list_id, codes in sorted(definition.code_lists.items()):
            out.append(f"    {list_id}: " + ", ".join(item.code for item in codes.items))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    try:
        definition = load_definition_file(args.file)
    except DefinitionError as error:
        for problem in error.problems:
            sys.stdout.write(f"{problem}\n")
        sys.stderr.write(f"{args.file}: {len(error.problems)} problem(s) found.\n")
        return 1
    sys.stdout.write(f"{args.file}: a valid definition of {definition.id} {definition.version}.\n")
    return 0


def _read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError(f"{path}: there is no such file.") from None
    except UnicodeDecodeError:
        raise AnswersError(f"{path}: the file is not UTF-8 text.") from None
    except OSError as error:
        raise FormError(f"{path}: the file cannot be read ({error.strerror}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AnswersError(
            f"{path}: the JSON is not valid at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        raise AnswersError(f"{path}: the JSON is nested too deeply.") from None


def check_command(args: argparse.Namespace) -> int:
    doc = _read_document(args.answers)
    verdict: Verdict = verdict_of(document_session(doc, source=str(args.answers)))
    if args.json:
        sys.stdout.write(json.dumps(verdict.to_json(), indent=2) + "\n")
    elif verdict.complete:
        sys.stdout.write(f"{args.answers}: complete and valid.\n")
    else:
        for problem in verdict.problems:
            sys.stdout.write(f"{problem.path}: {problem.message}\n")
        sys.stderr.write(f"{args.answers}: {len(verdict.problems)} answer(s) missing or "
                         "invalid.\n")
    if not args.json:
        for entry in verdict.deadlines:
            where = f" ({entry.path})" if entry.path else ""
            sys.stdout.write(f"Due {entry.due.isoformat()}: {entry.id}{where}. {entry.because}\n")
    return 0 if verdict.complete else 1
