"""The `onesend` command: the window with no arguments, and headless subcommands for the rest.

Errors a user can cause print one line on stderr (`onesend: …`) and exit 2; no traceback.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

import forms.cli
from desktop import __version__, ctf_cli, paths
from desktop.assessments import Assessments, parse_document, write_export
from desktop.backup import (
    check_vault,
    create_backup,
    password_unlock,
    restore_backup,
    restore_with_recovery_key,
)
from desktop.crypto import FAST_KDF
from desktop.errors import (
    InvalidInput,
    NotReady,
    OneSendError,
    SyncBusy,
    SyncError,
    TamperedData,
)
from desktop.hardening import disable_core_dumps
from desktop.paths import resolve_data_dir
from desktop.profiles import Profiles
from desktop.terminal import SafeStream, line_safe
from desktop.vault import Vault
from forms.bounds import MAX_DOCUMENT_BYTES
from forms.errors import FormError
from forms.registry import list_definitions
from forms.reviews import start_review
from sync.device import enrol
from sync.engine import DEFAULT_RUN_DEADLINE, SyncEngine, SyncProgress, sync_status
from sync.form_updates import register_stored_definitions, update_forms
from sync.http import ApiSettings, network_settings
from sync.reconcile import reconcile

EXIT_USER_ERROR = 2
Handler = Callable[[argparse.Namespace], int]


# -- input and output --------------------------------------------------------------------------


def _out(text: str = "", stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text + "\n")


def _json_out(value: Any) -> None:
    _out(json.dumps(value, ensure_ascii=False, indent=2))


def read_secrets(args: argparse.Namespace, prompts: Sequence[str]) -> list[str]:
    """Read one secret per prompt: lines of stdin with --password-stdin, else a terminal prompt.

    Only the line ending is removed, so a password may begin or end with a space.
    """
    if getattr(args, "password_stdin", False) or not sys.stdin.isatty():
        if not args.password_stdin:
            raise InvalidInput(
                "Standard input is not a terminal: give the password with --password-stdin."
            )
        values = []
        for prompt in prompts:
            try:
                line = sys.stdin.readline()
            except UnicodeDecodeError:
                raise InvalidInput(f"The {prompt.lower()} given is not valid UTF-8 text; "
                                   "type it again.") from None
            if not line:
                raise InvalidInput(f"Standard input ended before the {prompt.lower()} was given.")
            values.append(_valid_text(line.rstrip("\r\n"), prompt))
        return values
    return [_valid_text(getpass.getpass(f"{prompt}: "), prompt) for prompt in prompts]


def _valid_text(value: str, prompt: str) -> str:
    """Bytes that are not UTF-8 arrive as lone surrogates: refuse them in one sentence."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The {prompt.lower()} given is not valid UTF-8 text; type it "
                           "again.") from None
    return value


def _profiles(args: argparse.Namespace) -> Profiles:
    return Profiles(resolve_data_dir(args.data_dir))


def _open_vault(args: argparse.Namespace) -> Vault:
    profiles = _profiles(args)
    name = profiles.choose(args.profile)
    (password,) = read_secrets(args, ["Password"])
    vault = profiles.unlock(name, password)
    # Form versions published after this release, fetched by `forms update`, become usable.
    register_stored_definitions(vault)
    return vault


def _read_document_file(path: str) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as handle:
            # One byte past the bound is enough to refuse it: a huge file is never read whole.
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or 'unreadable'}.") from exc
    return parse_document(raw, path)


# -- profile -----------------------------------------------------------------------------------


def cmd_profile_create(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    (password,) = read_secrets(args, ["New password"])
    vault, recovery_key = profiles.create(args.name, password)
    vault.close()
    _out(f"Created the profile {args.name!r} in {profiles.data_dir}.")
    _out("Recovery key (shown once; write it down and keep it somewhere safe):")
    _out(recovery_key)
    return 0


def cmd_profile_list(args: argparse.Namespace) -> int:
    names = _profiles(args).names()
    if args.json:
        _json_out([{"name": name} for name in names])
    elif names:
        for name in names:
            _out(name)
    else:
        _out("No profiles yet: create one with 'onesend profile create NAME --password-stdin'.")
    return 0


def cmd_profile_change_password(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    name = profiles.choose(args.profile)
    old, new = read_secrets(args, ["Current password", "New password"])
    profiles.change_password(name, old, new)
    _out(f"Changed the password of the profile {name!r}.")
    return 0


def cmd_profile_recover(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    name = profiles.choose(args.profile)
    key, new = read_secrets(args, ["Recovery key", "New password"])
    profiles.recover(name, key, new)
    _out(f"Set a new password for the profile {name!r}; the recovery key still works.")
    return 0


def cmd_profile_rekey(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    name = profiles.choose(args.profile)
    old, new = read_secrets(args, ["Current password", "New password"])
    recovery_key = profiles.rekey(name, old, new)
    _out(f"Changed the password of the profile {name!r} and re-encrypted its vault under a new "
         "key: old copies of the profile file and the old recovery key no longer open it.")
    _out("New recovery key (shown once; write it down and keep it somewhere safe):")
    _out(recovery_key)
    return 0


def cmd_profile_new_recovery_key(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    name = profiles.choose(args.profile)
    (password,) = read_secrets(args, ["Password"])
    recovery_key = profiles.rotate_recovery_key(name, password)
    _out(f"Made a new recovery key for the profile {name!r}; the old one no longer works.")
    _out("New recovery key (shown once; write it down and keep it somewhere safe):")
    _out(recovery_key)
    return 0


# -- backup, restore, check ---------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    with _open_vault(args) as vault:
        info = create_backup(vault, profiles.folder(vault.profile), Path(args.out))
    _out(f"Backed up the profile {info.profile!r} ({info.assessments} assessments, "
         f"{info.revisions} revisions) to {info.path} and checked the copy; it opens only "
         "with the profile's password or recovery key.")
    return 0


def cmd_restore_backup(args: argparse.Namespace) -> int:
    profiles = _profiles(args)
    if args.recovery_key:
        key, new_password = read_secrets(args, ["Recovery key", "New password"])
        info = restore_with_recovery_key(profiles, Path(args.file), key, new_password,
                                         replace=args.replace)
    else:
        (password,) = read_secrets(args, ["Password"])
        info = restore_backup(profiles, Path(args.file), password_unlock(password),
                              replace=args.replace)
    _out(f"Restored the profile {info.profile!r} from the backup made {info.created_at} "
         f"({info.assessments} assessments, {info.revisions} revisions).")
    if info.replaced_to is not None:
        _out(f"The profile it replaced was kept, unchanged, in {info.replaced_to}.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        result = check_vault(vault)
        path = vault.path
    if args.json:
        _json_out(result.to_json())
    else:
        _out(result.sentence(path))
    return 0 if result.ok else 1


# -- assessments -------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    if args.ndjson or len(args.files) != 1 or args.files == ["-"] or Path(args.files[0]).is_dir():
        from desktop.bulk_import_cli import run_bulk_import  # noqa: PLC0415 - bulk only

        return run_bulk_import(args, _open_vault)
    document = _read_document_file(args.files[0])
    with _open_vault(args) as vault:
        record_id, revision = Assessments(vault).import_document(document)
    if args.json:
        _json_out({"id": record_id, "revision": revision})
    else:
        _out(f"Imported assessment {record_id} as revision {revision}.")
    return 0


def _warn_metadata(vault: Vault) -> None:
    """Vault-wide tampering (audit chain, removed records) on stderr; the command goes on."""
    for sentence in vault.check_metadata():
        _out(f"onesend: warning: {sentence}", sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        summaries = Assessments(vault).summaries()
        _warn_metadata(vault)
        damaged = [s.id for s in summaries if s.damaged]
    if damaged:
        _out(f"onesend: warning: {len(damaged)} assessment(s) are damaged or were altered "
             f"outside OneSEND and are not trusted: {', '.join(damaged)}.", sys.stderr)
    if args.json:
        _json_out([summary.to_json() for summary in summaries])
        return 0
    if not summaries:
        _out("No assessments yet.")
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
        _out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        document = Assessments(vault).get(args.id, args.revision)
    if args.json:
        _json_out(document)
        return 0
    for key in ("id", "revision", "status", "form", "form_version", "created_at", "updated_at"):
        _out(f"{key}: {document[key]}")
    for section, answers in document["answers"].items():
        _out(f"\n[{section}]")
        # A repeating section (outcomes, provision) is a list of items: each is numbered.
        items = answers if isinstance(answers, list) else [answers]
        for number, item in enumerate(items, start=1):
            indent = "  "
            if isinstance(answers, list):
                _out(f"  ({number})")
                indent = "    "
            for question, value in (item.items() if isinstance(item, dict) else []):
                _out(f"{indent}{question}: {_shown(value)}")
    return 0


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def cmd_export(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
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
    _out(f"Exported assessment {args.id} (revision {document['revision']}) to {args.out}.")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        store = Assessments(vault)
        history = store.history(args.id)
        problem = store.problems(args.id)
    if problem:
        _out(f"onesend: warning: {problem}", sys.stderr)
    if args.json:
        _json_out([entry.to_json() for entry in history])
        return 0
    for entry in history:
        when = entry.created_at[:19].replace("T", " ")
        flag = "  DAMAGED (altered outside OneSEND)" if entry.damaged else ""
        _out(f"{entry.revision:>4}  {when}  {entry.author}  {entry.action}  {entry.status}"
             f"{flag}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        revision = Assessments(vault).restore(args.id, args.revision)
    _out(f"Restored revision {args.revision} of {args.id} as revision {revision}.")
    return 0


def cmd_start_review(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        store = Assessments(vault)
        previous = store.get(args.id)
        record_id, revision = store.create(start_review(previous, args.kind))
    if args.json:
        _json_out({"id": record_id, "revision": revision, "from": args.id})
    else:
        _out(f"Started review {record_id} from {args.id}, its outcomes copied.")
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
    with _open_vault(args) as vault:
        store = Assessments(vault)
        if args.all_complete:
            # In batches, one savepoint per record: one damaged, hostile or incomplete record
            # (altered outside OneSEND, too deep, out of bounds) is skipped with a reason; it
            # never stops the others from being finalised.
            for record_id, revision, new, error in store.finalise_many(store.finalisable()):
                if error is not None:
                    skipped.append({"id": record_id, "reason": _reason(error, record_id)})
                else:
                    finalised.append({"id": record_id, "revision": revision, "queued": new})
        else:
            try:
                revision, new = store.finalise(args.id)
            except (NotReady, TamperedData):
                raise
            except (OneSendError, FormError, RecursionError, ValueError) as exc:
                raise NotReady(_reason(exc, args.id)) from exc
            finalised.append({"id": args.id, "revision": revision, "queued": new})
    if args.json:
        _json_out({"finalised": finalised, "skipped": skipped})
        return 0
    for entry in finalised:
        verb = "Finalised and queued" if entry["queued"] else "Already finalised:"
        _out(f"{verb} assessment {entry['id']} (revision {entry['revision']}).")
    for entry in skipped:
        _out(f"Skipped: {entry['reason']}")
    if args.all_complete:
        _out(f"{len(finalised)} finalised, {len(skipped)} not complete yet.")
    return 0


# -- sync --------------------------------------------------------------------------------------


def _api_settings(args: argparse.Namespace) -> ApiSettings | None:
    """--ca-bundle and --proxy, each else the administrator's DATA_DIR/network.json."""
    configured = network_settings(resolve_data_dir(args.data_dir))
    ca_bundle = getattr(args, "ca_bundle", None)
    proxy = getattr(args, "proxy", None)
    if ca_bundle and not Path(ca_bundle).is_file():
        raise InvalidInput(f"There is no CA bundle file at {ca_bundle}.")
    chosen_ca = Path(ca_bundle).absolute() if ca_bundle else (
        configured.ca_bundle if configured else None)
    chosen_proxy = proxy or (configured.proxy if configured else None)
    if not chosen_ca and not chosen_proxy:
        return None
    return ApiSettings(ca_bundle=chosen_ca, proxy=chosen_proxy)


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
    with _open_vault(args) as vault:
        code = _read_code(args)
        credentials = enrol(vault, args.server, code, _api_settings(args),
                            device_name=args.device_name)
    _out(f"Enrolled this profile with {credentials.server_url} "
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
    with _open_vault(args) as vault:
        status = sync_status(vault)
    if args.json:
        _json_out(status.to_json())
        return 0
    counts = status.counts
    _out(f"Server: {status.server_url or 'not enrolled'}")
    _out(f"Last acknowledgement: {status.last_acknowledged_at or 'never'}")
    _out("Queued {queued}, in flight {in_flight}, acknowledged {acknowledged}, "
         "quarantined {quarantined}, in conflict {conflict}.".format(**counts))
    if status.oldest_unsynced_age_seconds is not None:
        hours = status.oldest_unsynced_age_seconds / 3600
        _out(f"The oldest unsynced assessment was finalised {hours:.1f} hours ago.")
    for item in status.items:
        if item["state"] in ("quarantined", "conflict"):
            reasons = item.get("reasons") or {}
            paths = ", ".join(str(e.get("path")) for e in reasons.get("errors", [])[:5])
            _out(f"  {item['state']}: {item['id']} revision {item['revision']}: "
                 f"{reasons.get('title', '')} {paths}".rstrip())
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if args.status:
        return _print_status(args)
    if not 1 <= args.deadline <= 86_400:
        raise InvalidInput("The sync deadline must be between 1 and 86400 seconds.")
    with _open_vault(args) as vault:
        # --retry-quarantined is done by the run, inside its lock: a sync refused because
        # another is running changes nothing.
        engine = SyncEngine(vault, settings=_api_settings(args), batch_size=args.batch_size,
                            progress=_ProgressBar(), deadline=args.deadline,
                            retry_quarantined=args.retry_quarantined)
        try:
            report = engine.run()
        except SyncBusy:
            raise
        except SyncError:
            partial = engine.report
            _out(f"onesend: stopped after {partial.accepted + partial.duplicates} sent; what "
                 "was not sent stays queued.", sys.stderr)
            raise
    if args.json:
        _json_out(report.to_json())
    else:
        _out(f"Sent {report.accepted}, duplicates {report.duplicates}, recovered "
             f"{report.recovered}, conflicts {report.conflicts}, quarantined "
             f"{report.quarantined}, still queued {report.still_queued}.")
    return 0 if report.still_queued == 0 else 1


def cmd_forms_update(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        result = update_forms(vault, _api_settings(args))
    if args.json:
        _json_out(result.to_json())
        return 0
    for form, version in result.fetched:
        _out(f"Fetched form {form} version {version} (signature verified).")
    archived = sum(entry.archived for entry in result.migrated)
    _out(f"{len(result.fetched)} new form definition(s), {len(result.known)} already known; "
         f"{len(result.migrated)} draft(s) moved to a newer form version "
         f"({archived} answer(s) kept in their archive); {len(result.not_migrated)} left on "
         "their version.")
    for record_id, reason in result.not_migrated:
        _out(f"Not migrated: {record_id}: {reason}.")
    return 0


def _forms_subcommands(commands: Any) -> Any:
    """The `forms` group's own subcommands (forms.cli adds the group; sync adds `update`)."""
    group = commands.choices["forms"]
    return next(action for action in group._actions
                if isinstance(action, argparse._SubParsersAction))


def cmd_reconcile(args: argparse.Namespace) -> int:
    with _open_vault(args) as vault:
        result = reconcile(vault, _api_settings(args))
    if args.json:
        _json_out(result.to_json())
    else:
        _out(f"Acknowledged here: {result.acknowledged}; held by the server: "
             f"{result.server_held}.")
        for name in ("missing", "extra", "mismatched", "unverified"):
            ids = getattr(result, name)
            _out(f"{name}: {', '.join(ids) if ids else 'none'}")
        if result.oldest_unsynced_age_seconds is not None:
            _out(f"Oldest unsynced: {result.oldest_unsynced_age_seconds / 3600:.1f} hours.")
    return 0 if result.consistent else 1


def cmd_reference_server(args: argparse.Namespace) -> int:
    """Run the reference server in the foreground (pilots, demos, tests)."""
    try:
        from sync.server import (  # noqa: PLC0415 - not in the bundle
            Faults,
            ServerConfig,
            administer,
            serve,
        )
    except ImportError:
        raise InvalidInput("The reference server is not part of this installation; "
                       "run it from a development checkout (make setup).") from None

    data = Path(args.data).absolute()
    try:
        codes, unknown = administer(data, issue=args.issue_code, revoke=args.revoke_device)
    except ValueError as exc:
        raise InvalidInput(f"Cannot issue that code: {exc}.") from None
    for setting, code in codes:
        _out(f"Enrolment code for setting {setting}: {code}")
    for device in args.revoke_device:
        if device not in unknown:
            _out(f"Revoked device {device}: its tokens no longer work.")
    sys.stdout.flush()
    if unknown:
        raise InvalidInput(f"No device {unknown[0]} is enrolled (or it is already revoked).")
    if args.no_serve:
        return 0
    published = []
    for name in args.publish:
        try:
            published.append(json.loads(Path(name).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"Cannot read the form definition {name} as JSON.") from exc
    faults = Faults(latency=args.latency, error_rate=args.error_rate,
                    drop_after_commit_rate=args.drop_after_commit_rate,
                    truncate_rate=args.truncate_rate, retry_after=args.retry_after,
                    seed=args.seed)
    config = ServerConfig(data, min_protocol=args.min_protocol, faults=faults,
                          publish=published)
    if args.token_ttl is not None:
        config.token_ttl = args.token_ttl

    def ready(url: str) -> None:
        _out(f"OneSEND reference server listening on {url}")
        sys.stdout.flush()

    tls = (Path(args.tls_cert), Path(args.tls_key)) if args.tls_cert else (None, None)
    serve(config, host=args.host, port=args.port, tls_cert=tls[0], tls_key=tls[1],
          ready=ready)
    return 0


# -- self-test and the window ------------------------------------------------------------------

SELF_TEST_DOCUMENT: dict[str, Any] = {
    "form": "national-send-assessment",
    "form_version": "1.0.0",
    "answers": {
        "child": {"first_name": "Zoë-Self", "last_name": "Test", "date_of_birth": "2015-03-02"},
        "about_me": {"what_matters": "Ünïcode, \"quotes\" and a long line " * 20},
    },
}


def cmd_self_test(args: argparse.Namespace) -> int:
    """Prove a build works: a window opens and closes offscreen; a record round-trips a vault."""
    del args
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from ui.selftest import open_and_close_window  # noqa: PLC0415 - Qt only when asked for

    open_and_close_window()
    if not list_definitions():
        raise OneSendError("Self-test failed: no form definitions were found in this build.")
    with tempfile.TemporaryDirectory(prefix="onesend-self-test-") as tmp:
        profiles = Profiles(Path(tmp), kdf=FAST_KDF)
        vault, _ = profiles.create("self-test", "self-test password")
        with vault:
            record_id, _ = Assessments(vault).create(SELF_TEST_DOCUMENT)
        with profiles.unlock("self-test", "self-test password") as vault:
            document = Assessments(vault).get(record_id)
    if document["answers"] != SELF_TEST_DOCUMENT["answers"]:
        raise OneSendError("Self-test failed: a record did not round-trip through the vault.")
    # The family's copy: WeasyPrint, Pango and a font are all in this build.
    from desktop.family_copy import family_copy_html, render_pdf  # noqa: PLC0415
    from forms.engine import document_session  # noqa: PLC0415

    session = document_session(document)
    pdf = render_pdf(family_copy_html(session, datetime.date(2026, 1, 1)))
    if not pdf.startswith(b"%PDF"):
        raise OneSendError("Self-test failed: the family's copy could not be made.")
    _out("OK")
    return 0


def open_window(args: argparse.Namespace) -> int:
    from ui.display import display_problem  # noqa: PLC0415 - no Qt for headless commands

    problem = display_problem()
    if problem:
        raise OneSendError(problem)
    from ui.app import run_app  # noqa: PLC0415

    data_dir = resolve_data_dir(args.data_dir)
    return run_app(data_dir, Profiles(data_dir).names())


# -- the parser --------------------------------------------------------------------------------


def _add_vault_options(parser: argparse.ArgumentParser, *, json_flag: bool = False) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON (see README)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onesend",
        description="OneSEND: the national SEND assessment, kept encrypted on this computer. "
        "With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"onesend {__version__}")
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="folder holding the profiles (default: $ONESEND_DATA_DIR, else the user data "
        "folder); an existing folder's mode is never changed",
    )
    parser.add_argument(
        "--profile", metavar="NAME", help="profile to use (default: the only profile)"
    )
    parser.set_defaults(handler=open_window)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    profile = commands.add_parser("profile", help="create, list and manage profiles")
    profile_commands = profile.add_subparsers(title="profile commands", metavar="ACTION",
                                              required=True)
    create = profile_commands.add_parser(
        "create", help="create a profile; prints the recovery key once"
    )
    create.add_argument("name", metavar="NAME")
    _add_vault_options(create)
    create.set_defaults(handler=cmd_profile_create)
    listing = profile_commands.add_parser("list", help="list the profiles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_profile_list)
    change = profile_commands.add_parser(
        "change-password", help="old and new password as two lines of standard input"
    )
    _add_vault_options(change)
    change.set_defaults(handler=cmd_profile_change_password)
    recover = profile_commands.add_parser(
        "recover", help="recovery key and new password as two lines of standard input"
    )
    _add_vault_options(recover)
    recover.set_defaults(handler=cmd_profile_recover)
    rekey = profile_commands.add_parser(
        "rekey", help="change the password and re-encrypt the vault under a new key (old and "
        "new password as two lines of standard input); prints a new recovery key once")
    _add_vault_options(rekey)
    rekey.set_defaults(handler=cmd_profile_rekey)
    rotate = profile_commands.add_parser(
        "new-recovery-key", help="make a new recovery key (printed once); the old one stops "
        "working")
    _add_vault_options(rotate)
    rotate.set_defaults(handler=cmd_profile_new_recovery_key)

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
    _add_vault_options(imp, json_flag=True)
    imp.set_defaults(handler=cmd_import)
    lst = acts.add_parser("list", help="list the assessments")
    _add_vault_options(lst, json_flag=True)
    lst.set_defaults(handler=cmd_list)
    show = acts.add_parser("show", help="show an assessment")
    show.add_argument("id", metavar="ID")
    show.add_argument("--revision", type=int, metavar="N", help="an earlier revision")
    _add_vault_options(show, json_flag=True)
    show.set_defaults(handler=cmd_show)
    export = acts.add_parser("export", help="export an assessment document, or the family's "
                             "copy as a tagged PDF")
    export.add_argument("id", metavar="ID")
    export.add_argument("--format", choices=["json", "pdf"], default="json",
                        help="json: the document; pdf: the family's copy (as the window's)")
    export.add_argument("--out", metavar="FILE", required=True)
    export.add_argument("--revision", type=int, metavar="N", help="an earlier revision")
    _add_vault_options(export)
    export.set_defaults(handler=cmd_export)
    history = acts.add_parser("history", help="list an assessment's revisions")
    history.add_argument("id", metavar="ID")
    _add_vault_options(history, json_flag=True)
    history.set_defaults(handler=cmd_history)
    restore = acts.add_parser("restore", help="make an earlier revision current (as a new one)")
    restore.add_argument("id", metavar="ID")
    restore.add_argument("revision", metavar="REVISION", type=int)
    _add_vault_options(restore)
    restore.set_defaults(handler=cmd_restore)
    review = acts.add_parser(
        "start-review", help="a new review draft from an assessment, its outcomes copied")
    review.add_argument("id", metavar="ID", help="the previous assessment (any status)")
    review.add_argument("--kind", choices=["annual_review", "phase_transfer"],
                        default="annual_review")
    _add_vault_options(review, json_flag=True)
    review.set_defaults(handler=cmd_start_review)

    finalise = acts.add_parser(
        "finalise", help="sign off complete, valid assessments and queue them for the server"
    )
    finalise.add_argument("id", metavar="ID", nargs="?", help="the assessment to sign off")
    finalise.add_argument("--all-complete", action="store_true",
                          help="every draft or amended assessment that is complete and valid")
    _add_vault_options(finalise, json_flag=True)
    finalise.set_defaults(handler=cmd_finalise)

    forms.cli.register(commands)
    ctf_cli.register(commands)

    backup_cmd = commands.add_parser(
        "backup", help="write a verified, encrypted backup of the profile to FILE")
    backup_cmd.add_argument("--out", metavar="FILE", required=True,
                            help="the backup file to write (e.g. alex.onesend-backup)")
    _add_vault_options(backup_cmd)
    backup_cmd.set_defaults(handler=cmd_backup)
    restore_cmd = commands.add_parser(
        "restore", help="restore a profile from a backup FILE (this or another computer)")
    restore_cmd.add_argument("file", metavar="FILE")
    restore_cmd.add_argument("--recovery-key", action="store_true",
                             help="unlock with the recovery key instead of the password: "
                             "recovery key and new password as two lines of standard input")
    restore_cmd.add_argument("--replace", action="store_true",
                             help="replace an existing profile of that name (it is kept aside "
                             "in DATA_DIR/replaced/, not deleted)")
    _add_vault_options(restore_cmd)
    restore_cmd.set_defaults(handler=cmd_restore_backup)
    check_cmd = commands.add_parser(
        "check", help="check the vault: SQLite's quick_check and every record decrypted; "
        "exit 1 when something is damaged")
    _add_vault_options(check_cmd, json_flag=True)
    check_cmd.set_defaults(handler=cmd_check)

    def add_network_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--ca-bundle", metavar="FILE",
                            help="extra CA certificates (PEM) for a network that inspects TLS")
        parser.add_argument("--proxy", metavar="URL", help="HTTP(S) proxy (default: the system's)")

    update_cmd = _forms_subcommands(commands).add_parser(
        "update", help="fetch new signed form definitions from the server and move drafts "
        "to the newest version (finalised records are not changed)")
    add_network_options(update_cmd)
    _add_vault_options(update_cmd, json_flag=True)
    update_cmd.set_defaults(handler=cmd_forms_update)

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
    _add_vault_options(enrol_cmd)
    enrol_cmd.set_defaults(handler=cmd_enrol)

    sync_cmd = commands.add_parser(
        "sync", help="send every queued assessment; exit 0 only when nothing is left queued"
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
    _add_vault_options(sync_cmd, json_flag=True)
    sync_cmd.set_defaults(handler=cmd_sync)

    reconcile_cmd = commands.add_parser(
        "reconcile", help="compare what the server acknowledged with what it holds"
    )
    add_network_options(reconcile_cmd)
    _add_vault_options(reconcile_cmd, json_flag=True)
    reconcile_cmd.set_defaults(handler=cmd_reconcile)

    server_cmd = commands.add_parser(
        "reference-server", help="run the reference national API (development only: it keeps "
        "payloads in the clear)",
        description="A development reference of the national API, for tests, pilots and "
        "demos. It keeps payloads in the clear in DIR: use it with made-up data only; the "
        "national service encrypts them at rest.",
    )
    server_cmd.add_argument("--port", type=int, default=8443, metavar="P")
    server_cmd.add_argument("--host", default="127.0.0.1")
    server_cmd.add_argument("--data", metavar="DIR", required=True)
    server_cmd.add_argument("--issue-code", metavar="SETTING", action="append", nargs="?",
                            const="default", default=[],
                            help="issue and print a one-time enrolment code for a device of "
                            "SETTING (a school, say; default: 'default'); repeatable. A device "
                            "sees only its own setting's submissions")
    server_cmd.add_argument("--revoke-device", metavar="ID", action="append", default=[],
                            help="revoke an enrolled device: its tokens stop working at once "
                            "(repeatable; works while a server is running on DIR)")
    server_cmd.add_argument("--no-serve", action="store_true",
                            help="issue codes and revoke devices, then exit without serving")
    server_cmd.add_argument("--min-protocol", type=int, default=1, metavar="N")
    server_cmd.add_argument("--token-ttl", type=float, metavar="SECONDS",
                            help="how long a device token lives (default: 90 days; renewed "
                            "during sync after a day)")
    server_cmd.add_argument("--tls-cert", metavar="PEM")
    server_cmd.add_argument("--tls-key", metavar="PEM")
    server_cmd.add_argument("--publish", metavar="FILE.json", action="append", default=[],
                            help="also publish this form definition, signed (repeatable)")
    faults = server_cmd.add_argument_group("fault injection")
    faults.add_argument("--latency", type=float, default=0.0, metavar="SECONDS")
    faults.add_argument("--error-rate", type=float, default=0.0, metavar="RATE",
                        help="share of requests answered 503 (0 to 1)")
    faults.add_argument("--drop-after-commit-rate", type=float, default=0.0, metavar="RATE",
                        help="share of requests whose connection drops after the server commits")
    faults.add_argument("--truncate-rate", type=float, default=0.0, metavar="RATE",
                        help="share of answers cut off half way")
    faults.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    faults.add_argument("--seed", type=int, metavar="N")
    server_cmd.set_defaults(handler=cmd_reference_server)

    selftest = commands.add_parser(
        "self-test", help="check this installation: a window offscreen and a vault round trip"
    )
    selftest.set_defaults(handler=cmd_self_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the real command (and the window it opens), not a test calling main()
        disable_core_dumps()
    # Whatever is printed (a file name, a folder, an answer) reaches the terminal with its
    # control characters escaped (desktop/terminal.py).
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, SafeStream(saved[0]))
    sys.stderr = cast(TextIO, SafeStream(saved[1]))
    try:
        return _main(argv, saved)
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: Sequence[str] | None, real: tuple[TextIO, TextIO]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    if handler is cmd_reference_server:
        # The development server's own log (uvicorn colours it at a terminal) passes as is.
        sys.stdout, sys.stderr = real
    try:
        return handler(args)
    except (OneSendError, FormError) as exc:
        _out(f"onesend: {line_safe(str(exc))}", sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _out("onesend: interrupted.", sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a full disk or a refused file outside the vault: no traceback
        _out(f"onesend: {paths.describe_os_error(exc)}", sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
