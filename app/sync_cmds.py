"""`onesend enrol`, `sync` and `reconcile`: the device and the national service."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.common import (
    add_network_options,
    add_vault_options,
    api_settings,
    json_out,
    open_vault,
    out,
)
from desktop.errors import InvalidInput, SyncBusy, SyncError
from desktop.record_status import SET_ASIDE
from sync.device import enrol
from sync.engine import DEFAULT_RUN_DEADLINE, SyncEngine, SyncProgress, sync_status
from sync.reconcile import reconcile
from sync.usecase import SyncOutcome, run_sync

# -- sync --------------------------------------------------------------------------------------


def _read_code(args: argparse.Namespace) -> str:
    """The enrolment code from stdin (after the password) or a prompt, never from argv,
    where `ps` would show it to everyone on the computer."""
    if args.code_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("Standard input ended before the enrolment code was given.")
        return line.strip()
    if sys.stdin.isatty():
        return getpass.getpass("One-time enrolment code: ")
    raise InvalidInput("Standard input is not a terminal: give the enrolment code with "
                       "--code-stdin, on the line after the password.")


def cmd_enrol(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        code = _read_code(args)
        credentials = enrol(vault, args.server, code, api_settings(args),
                            device_name=args.device_name)
    out(f"Enrolled this profile with {credentials.server_url} "
         f"(device {credentials.device_id}).")
    return 0


class _ProgressBar:
    """A progress line on stderr: redrawn in place at a terminal, a line per step otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, progress: SyncProgress) -> None:
        if progress.total == 0 or progress.done == self.last:
            return
        self.last = progress.done
        width = 30
        filled = int(width * min(progress.done, progress.total) / progress.total)
        line = (f"sync [{'#' * filled}{'.' * (width - filled)}] {progress.done}/"
                f"{progress.total}")
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if progress.phase == "done" else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _print_status(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        status = sync_status(vault)
    if args.json:
        json_out(status.to_json())
        return 0
    counts = status.counts
    out(f"Server: {status.server_url or 'not enrolled'}")
    out(f"Last acknowledgement: {status.last_acknowledged_at or 'never'}")
    out("Queued {queued}, in flight {in_flight}, acknowledged {acknowledged}, "
         "quarantined {quarantined}, in conflict {conflict}.".format(**counts))
    if status.oldest_unsynced_age_seconds is not None:
        hours = status.oldest_unsynced_age_seconds / 3600
        out(f"The oldest unsynced assessment was finalised {hours:.1f} hours ago.")
    for item in status.items:
        if item["state"] in SET_ASIDE:
            reasons = item.get("reasons") or {}
            paths = ", ".join(str(e.get("path")) for e in reasons.get("errors", [])[:5])
            out(f"  {item['state']}: {item['id']} revision {item['revision']}: "
                 f"{reasons.get('title', '')} {paths}".rstrip())
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if args.status:
        return _print_status(args)
    if not 1 <= args.deadline <= 86_400:
        raise InvalidInput("The sync deadline must be between 1 and 86400 seconds.")
    with open_vault(args) as vault:
        # --retry-quarantined is done by the run, inside its lock: a sync refused because
        # another is running changes nothing.
        engine = SyncEngine(vault, settings=api_settings(args), batch_size=args.batch_size,
                            progress=_ProgressBar(), deadline=args.deadline,
                            retry_quarantined=args.retry_quarantined)
        try:
            # The window's use case: send, then fetch new form versions (signature-checked)
            # and carry drafts to them, in the command's session (its form catalogue).
            outcome = run_sync(engine, settings=api_settings(args))
        except SyncBusy:
            raise
        except SyncError:
            partial = engine.report
            out(f"onesend: stopped after {partial.accepted + partial.duplicates} sent; what "
                 "was not sent stays queued.", sys.stderr)
            raise
    report = outcome.report
    if args.json:
        json_out({**report.to_json(),
                  "forms": outcome.forms.to_json() if outcome.forms is not None else None,
                  "forms_problem": outcome.forms_problem})
    else:
        out(f"Sent {report.accepted}, duplicates {report.duplicates}, recovered "
             f"{report.recovered}, conflicts {report.conflicts}, quarantined "
             f"{report.quarantined}, still queued {report.still_queued}.")
        out(forms_line(outcome))
    return 0 if report.still_queued == 0 else 1


def forms_line(outcome: SyncOutcome) -> str:
    """What fetching forms did, in one line (the sentence why not, when it could not)."""
    if outcome.forms_problem is not None:
        return f"Forms not updated: {outcome.forms_problem}"
    forms = outcome.forms
    if forms is None:
        return "Forms not checked."
    fetched = ", ".join(f"{form} {version}" for form, version in forms.fetched)
    return (f"Forms: {len(forms.fetched)} new version(s) fetched"
            + (f" ({fetched})" if fetched else "")
            + f", {len(forms.migrated)} draft(s) moved to a newer version, "
            f"{len(forms.not_migrated)} left on their version.")



def cmd_reconcile(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = reconcile(vault, api_settings(args))
    if args.json:
        json_out(result.to_json())
    else:
        out(f"Acknowledged here: {result.acknowledged}; held by the server: "
             f"{result.server_held}.")
        for name in ("missing", "extra", "mismatched", "unverified"):
            ids = getattr(result, name)
            out(f"{name}: {', '.join(ids) if ids else 'none'}")
        if result.oldest_unsynced_age_seconds is not None:
            out(f"Oldest unsynced: {result.oldest_unsynced_age_seconds / 3600:.1f} hours.")
    return 0 if result.consistent else 1




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    enrol_cmd = commands.add_parser(
        "enrol", help="enrol this profile with the national server using a one-time code"
    )
    enrol_cmd.add_argument("--server", metavar="URL", required=True,
                           help="the national server's address (https://…)")
    enrol_cmd.add_argument("--code-stdin", action="store_true",
                           help="read the one-time enrolment code from your trust or LA from "
                           "standard input, on the line after the password (without this "
                           "option it is asked for at the terminal; never give it as an "
                           "argument, where other users could see it)")
    enrol_cmd.add_argument("--device-name", metavar="NAME",
                           help="how this computer is named on the server (default: its name)")
    add_network_options(enrol_cmd)
    add_vault_options(enrol_cmd)
    enrol_cmd.set_defaults(handler=cmd_enrol)

    sync_cmd = commands.add_parser(
        "sync", help="send every queued assessment, then fetch new form versions and move "
        "drafts to them (as the window does); exit 0 only when nothing is left queued"
    )
    sync_cmd.add_argument("--batch-size", type=int, default=200, metavar="N",
                          help="assessments per request (default: 200)")
    sync_cmd.add_argument("--status", action="store_true",
                          help="show what is queued, sent, quarantined or in conflict")
    sync_cmd.add_argument("--retry-quarantined", action="store_true",
                          help="queue the quarantined assessments again first")
    sync_cmd.add_argument("--deadline", type=float, default=DEFAULT_RUN_DEADLINE,
                          metavar="SECONDS",
                          help="stop a run that takes longer than this, keeping what was sent "
                          f"(default: {DEFAULT_RUN_DEADLINE:g})")
    add_network_options(sync_cmd)
    add_vault_options(sync_cmd, json_flag=True)
    sync_cmd.set_defaults(handler=cmd_sync)

    reconcile_cmd = commands.add_parser(
        "reconcile", help="compare what the server acknowledged with what it holds"
    )
    add_network_options(reconcile_cmd)
    add_vault_options(reconcile_cmd, json_flag=True)
    reconcile_cmd.set_defaults(handler=cmd_reconcile)

