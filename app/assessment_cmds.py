"""`onesend assessments …`: import, list, show, export, history, restore, review, finalise."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from app.bulk_import_cmd import run_bulk_import
from app.common import add_vault_options, json_out, open_vault, out, read_document_file
from desktop.assessments import Assessments, write_export
from desktop.errors import InvalidInput, NotReady, OneSendError, TamperedData
from desktop.vault import Vault
from forms.errors import FormError
from forms.reviews import start_review

# -- assessments -------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    if args.ndjson or len(args.files) != 1 or args.files == ["-"] or Path(args.files[0]).is_dir():
        return run_bulk_import(args, open_vault)
    document = read_document_file(args.files[0])
    with open_vault(args) as vault:
        record_id, revision = Assessments(vault).import_document(document)
    if args.json:
        json_out({"id": record_id, "revision": revision})
    else:
        out(f"Imported assessment {record_id} as revision {revision}.")
    return 0


def _warn_metadata(vault: Vault) -> None:
    """Vault-wide tampering (audit chain, removed records) on stderr; the command goes on."""
    for sentence in vault.check_metadata():
        out(f"onesend: warning: {sentence}", sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        summaries = Assessments(vault).summaries()
        _warn_metadata(vault)
        damaged = [s.id for s in summaries if s.damaged]
    if damaged:
        out(f"onesend: warning: {len(damaged)} assessment(s) are damaged or were altered "
             f"outside OneSEND and are not trusted: {', '.join(damaged)}.", sys.stderr)
    if args.json:
        json_out([summary.to_json() for summary in summaries])
        return 0
    if not summaries:
        out("No assessments yet.")
        return 0
    header = ("ID", "CHILD", "DATE OF BIRTH", "STATUS", "REV", "LAST EDITED")
    rows = [
        (
            s.id,
            "(damaged: cannot be read)" if s.damaged else f"{s.first_name} {s.last_name}".strip(),
            s.date_of_birth,
            s.status,
            str(s.revision),
            s.updated_at[:16].replace("T", " "),
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        document = Assessments(vault).get(args.id, args.revision)
    if args.json:
        json_out(document)
        return 0
    for key in ("id", "revision", "status", "form", "form_version", "created_at", "updated_at"):
        out(f"{key}: {document[key]}")
    for section, answers in document["answers"].items():
        out(f"\n[{section}]")
        # A repeating section (outcomes, provision) is a list of items: each is numbered.
        items = answers if isinstance(answers, list) else [answers]
        for number, item in enumerate(items, start=1):
            indent = "  "
            if isinstance(answers, list):
                out(f"  ({number})")
                indent = "    "
            for question, value in (item.items() if isinstance(item, dict) else []):
                out(f"{indent}{question}: {_shown(value)}")
    return 0


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def cmd_export(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        document = Assessments(vault).get(args.id, args.revision)
        with vault.write() as conn:
            vault.audit(conn, "assessment.export", args.id)
    try:
        if args.format == "pdf":
            # The family's copy, the same document as the window's Family copy (PDF)….
            from desktop.family_copy import write_family_copy  # noqa: PLC0415 - only for PDFs
            from forms.engine import document_session  # noqa: PLC0415

            today = datetime.date.today()  # noqa: DTZ011 - the local date, as printed
            write_family_copy(document_session(document), Path(args.out), today)
        else:
            write_export(Path(args.out), document)
    except OSError as exc:
        raise InvalidInput(f"Cannot write {args.out}: {exc.strerror or 'unwritable'}.") from exc
    out(f"Exported assessment {args.id} (revision {document['revision']}) to {args.out}.")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        store = Assessments(vault)
        history = store.history(args.id)
        problem = store.problems(args.id)
    if problem:
        out(f"onesend: warning: {problem}", sys.stderr)
    if args.json:
        json_out([entry.to_json() for entry in history])
        return 0
    for entry in history:
        when = entry.created_at[:19].replace("T", " ")
        flag = "  DAMAGED (altered outside OneSEND)" if entry.damaged else ""
        out(f"{entry.revision:>4}  {when}  {entry.author}  {entry.action}  {entry.status}"
             f"{flag}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        revision = Assessments(vault).restore(args.id, args.revision)
    out(f"Restored revision {args.revision} of {args.id} as revision {revision}.")
    return 0


def cmd_start_review(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        store = Assessments(vault)
        previous = store.get(args.id)
        record_id, revision = store.create(start_review(previous, args.kind,
                                                        catalogue=vault.catalogue))
    if args.json:
        json_out({"id": record_id, "revision": revision, "from": args.id})
    else:
        out(f"Started review {record_id} from {args.id}, its outcomes copied.")
    return 0


def _reason(exc: BaseException, record_id: str) -> str:
    """Why a record could not be finalised, in words (never a value from it)."""
    if isinstance(exc, OneSendError | FormError) and record_id in str(exc):
        return str(exc)
    if isinstance(exc, OneSendError | FormError):
        return f"Assessment {record_id} cannot be finalised: {exc}"
    return (f"Assessment {record_id} cannot be finalised: it is damaged or nested too deeply "
            "to be read.")


def cmd_finalise(args: argparse.Namespace) -> int:
    if bool(args.id) == bool(args.all_complete):
        raise InvalidInput("Name one assessment ID, or give --all-complete.")
    finalised: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    with open_vault(args) as vault:
        store = Assessments(vault)
        if args.all_complete:
            # In batches, one savepoint per record: one damaged, hostile or incomplete record
            # (altered outside OneSEND, too deep, out of bounds) is skipped with a reason; it
            # never stops the others from being finalised.
            for record_id, revision, new, error in store.finalise_many(store.finalisable()):
                if error is not None:
                    skipped.append({"id": record_id, "reason": _reason(error, record_id)})
                else:
                    finalised.append({"id": record_id, "revision": revision,
                                      "queued": new})  # output field
        else:
            try:
                revision, new = store.finalise(args.id)
            except (NotReady, TamperedData):
                raise
            except (OneSendError, FormError, RecursionError, ValueError) as exc:
                raise NotReady(_reason(exc, args.id)) from exc
            finalised.append({"id": args.id, "revision": revision,
                              "queued": new})  # output field
    if args.json:
        json_out({"finalised": finalised, "skipped": skipped})
        return 0
    for entry in finalised:
        verb = ("Finalised and queued" if entry["queued"]  # output field
                else "Already finalised:")
        out(f"{verb} assessment {entry['id']} (revision {entry['revision']}).")
    for entry in skipped:
        out(f"Skipped: {entry['reason']}")
    if args.all_complete:
        out(f"{len(finalised)} finalised, {len(skipped)} not complete yet.")
    return 0




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    assessments = commands.add_parser("assessments", help="import, list, show and export")
    acts = assessments.add_subparsers(title="assessment commands", metavar="ACTION",
                                      required=True)
    imp = acts.add_parser(
        "import", help="import FILE.json: a new assessment, or a new revision of its id; "
        "many files, folders or NDJSON on stdin in one go"
    )
    imp.add_argument("files", metavar="FILE.json", nargs="*",
                     help="files, folders (their *.json files), or - for NDJSON on stdin")
    imp.add_argument("--ndjson", action="store_true",
                     help="read one document per line from stdin (after the password line "
                     "with --password-stdin)")
    imp.add_argument("--progress", action="store_true",
                     help="draw the progress bar on stderr even when it is not a terminal")
    add_vault_options(imp, json_flag=True)
    imp.set_defaults(handler=cmd_import)
    lst = acts.add_parser("list", help="list the assessments")
    add_vault_options(lst, json_flag=True)
    lst.set_defaults(handler=cmd_list)
    show = acts.add_parser("show", help="show an assessment")
    show.add_argument("id", metavar="ID")
    show.add_argument("--revision", type=int, metavar="N", help="an earlier revision")
    add_vault_options(show, json_flag=True)
    show.set_defaults(handler=cmd_show)
    export = acts.add_parser("export", help="export an assessment document, or the family's "
                             "copy as a tagged PDF")
    export.add_argument("id", metavar="ID")
    export.add_argument("--format", choices=["json", "pdf"], default="json",
                        help="json: the document; pdf: the family's copy (as the window's)")
    export.add_argument("--out", metavar="FILE", required=True)
    export.add_argument("--revision", type=int, metavar="N", help="an earlier revision")
    add_vault_options(export)
    export.set_defaults(handler=cmd_export)
    history = acts.add_parser("history", help="list an assessment's revisions")
    history.add_argument("id", metavar="ID")
    add_vault_options(history, json_flag=True)
    history.set_defaults(handler=cmd_history)
    restore = acts.add_parser("restore", help="make an earlier revision current (as a new one)")
    restore.add_argument("id", metavar="ID")
    restore.add_argument("revision", metavar="REVISION", type=int)
    add_vault_options(restore)
    restore.set_defaults(handler=cmd_restore)
    review = acts.add_parser(
        "start-review", help="a new review draft from an assessment, its outcomes copied")
    review.add_argument("id", metavar="ID", help="the previous assessment (any status)")
    review.add_argument("--kind", choices=["annual_review", "phase_transfer"],
                        default="annual_review")
    add_vault_options(review, json_flag=True)
    review.set_defaults(handler=cmd_start_review)

    finalise = acts.add_parser(
        "finalise", help="sign off complete, valid assessments and queue them for the server"
    )
    finalise.add_argument("id", metavar="ID", nargs="?", help="the assessment to sign off")
    finalise.add_argument("--all-complete", action="store_true",
                          help="every draft or amended assessment that is complete and valid "
                          "(250 per transaction; judged on every core from 500)")
    add_vault_options(finalise, json_flag=True)
    finalise.set_defaults(handler=cmd_finalise)

