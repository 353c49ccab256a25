"""`onesend import-ctf`: drafts from a school's Common Transfer File, or a preview of them.

The file is read and judged before the vault is opened, so a bad file costs no password and
changes nothing. Exit codes: 0 done; 1 some chosen pupils could not be imported (each is
listed with its reason); 2 a bad file or another user error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.common import open_vault
from desktop.assessments import Assessments
from desktop.ctf_import import CtfImport, ImportPreview, ImportProgress, ImportReport
from desktop.ctf_reader import read_ctf


def register(subparsers: Any) -> None:
    """Add the `import-ctf` command to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "import-ctf",
        help="create drafts from a school's Common Transfer File (CTF XML)",
        description="Create a draft assessment for each pupil of a school's Common Transfer "
        "File: name, date of birth, sex, UPN, ULN, year group, SEN provision and ranked types "
        "of need. A pupil whose UPN already has an assessment is skipped, or with "
        "--update-existing has its draft's details updated; never a second child.",
    )
    parser.add_argument("file", metavar="FILE", help="the CTF XML file")
    parser.add_argument("--upn", action="append", metavar="UPN",
                        help="import only the pupil with this UPN (repeat for several)")
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be created, updated or skipped; change nothing")
    parser.add_argument("--update-existing", action="store_true",
                        help="update the details of a pupil's existing draft instead of "
                        "skipping it")
    parser.add_argument("--json", action="store_true", help="print JSON (see README)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    parser.set_defaults(handler=cmd_import_ctf)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


class _Progress:
    """A progress line on stderr at a terminal; silent when stderr is a file or a pipe."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, progress: ImportProgress) -> None:
        if not self.tty or progress.total <= 0:
            return
        percent = min(100, 100 * progress.done // progress.total)
        line = f"import-ctf: {progress.phase} {percent:3d}%"
        if line != self.last:
            self.last = line
            sys.stderr.write("\r" + line)
            sys.stderr.flush()

    def finish(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


def cmd_import_ctf(args: argparse.Namespace) -> int:
    progress = _Progress()
    try:
        ctf = read_ctf(args.file,
                       progress=lambda done, total: progress(ImportProgress("reading", done,
                                                                            total)))
        with open_vault(args) as vault:
            importer = CtfImport(Assessments(vault), progress=progress)
            preview = importer.preview_file(
                ctf, upns=args.upn, on_existing="update" if args.update_existing else "skip")
            report = None if args.dry_run else importer.run(preview)
    finally:
        progress.finish()
    if report is None:
        _print_preview(preview, as_json=args.json)
        return 0
    _print_report(report, as_json=args.json)
    return 1 if report.problems else 0


def _print_preview(preview: ImportPreview, *, as_json: bool) -> None:
    if as_json:
        _out(json.dumps(preview.to_json(), ensure_ascii=False, indent=2))
        return
    header = ("PUPIL", "NAME", "DATE OF BIRTH", "YEAR", "UPN", "SEN", "NEEDS", "IN ONESEND",
              "ACTION")
    rows = []
    for row in preview.pupils:
        upn = "(none)" if not row.upn else row.upn + ("" if row.upn_valid else " (check)")
        sen = row.sen_provision or ""
        if row.sen_provision_historic:
            sen += " (historic)"
        needs = ", ".join(need.code + (" (historic)" if need.historic else "")
                          for need in row.needs)
        rows.append((str(row.position), f"{row.first_name or ''} {row.last_name or ''}".strip(),
                     row.date_of_birth or "", row.nc_year or "", upn, sen, needs,
                     "yes" if row.existing else "no", row.action))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for cells in [header, *rows]:
        _out("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    for row in preview.pupils:
        for problem in row.problems:
            _out(f"pupil {row.position}, {problem.element} ({problem.severity}): "
                 f"{problem.message}")
    counts = preview.counts()
    _out(f"{preview.file.name} (CTF {preview.file.header.version}): {counts['pupils']} pupils; "
         f"would create {counts['create']}, update {counts['update']}, skip {counts['skip']}; "
         f"{counts['not-importable']} cannot be imported; {counts['flagged']} with values "
         "marked for checking. Nothing was changed (dry run).")


def _print_report(report: ImportReport, *, as_json: bool) -> None:
    if as_json:
        _out(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for entry in report.created:
        _out(f"pupil {entry['pupil']}: created draft {entry['id']}.")
    for entry in report.updated:
        _out(f"pupil {entry['pupil']}: updated {entry['id']} (revision {entry['revision']}).")
    for entry in report.unchanged:
        _out(f"pupil {entry['pupil']}: {entry['id']} already has these details.")
    for entry in report.skipped:
        _out(f"pupil {entry['pupil']}: skipped. {entry['reason']}")
    for entry in report.problems:
        _out(f"pupil {entry['pupil']}: not imported. {entry['reason']}")
    stopped = " Stopped before the end." if report.cancelled else ""
    _out(f"{report.file}: created {len(report.created)}, updated {len(report.updated)}, "
         f"unchanged {len(report.unchanged)}, skipped {len(report.skipped)}, not imported "
         f"{len(report.problems)}.{stopped}")
