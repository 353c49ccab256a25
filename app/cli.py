"""The `onesend` command: the window with no arguments, and headless subcommands for the rest.

Each group of commands lives in its own module of this package and adds itself to the parser
(`register`). Errors a user can cause print one line on stderr (`onesend: …`) and exit 2; no
traceback. Anything else is a bug in OneSEND: one line saying so and a crash report with no
child data (exit 70).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from app import (
    assessment_cmds,
    backup_cmds,
    ctf_cmds,
    forms_cmds,
    profile_cmds,
    selftest_cmd,
    server_cmd,
    sync_cmds,
)
from app.common import EXIT_USER_ERROR, Handler, out
from app.server_cmd import cmd_reference_server
from app.window import open_window
from desktop import __version__, paths
from desktop.hardening import disable_core_dumps
from desktop.paths import resolve_data_dir
from desktop.terminal import SafeStream, line_safe
from forms.errors import UserError

# sysexits.h EX_SOFTWARE: an internal software error.
EXIT_BUG = 70


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

    for group in (profile_cmds, assessment_cmds, forms_cmds, ctf_cmds, backup_cmds, sync_cmds,
                  server_cmd, selftest_cmd):
        group.register(commands)
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
    except UserError as exc:  # the user's input or the environment: one sentence
        out(f"onesend: {line_safe(str(exc))}", sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        out("onesend: interrupted.", sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a full disk or a refused file outside the vault: no traceback
        out(f"onesend: {paths.describe_os_error(exc)}", sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:  # noqa: BLE001 - anything else is our bug: reported, not shown
        return _bug(exc, args)


def _bug(error: Exception, args: argparse.Namespace) -> int:
    """A bug in OneSEND: one line saying so, and a crash report holding no child data (the
    exception's type and code locations only; ui/crash.py), as the window writes."""
    path = None
    try:
        from ui.crash import CrashReporter  # noqa: PLC0415 - Qt only after a crash

        reporter = CrashReporter(resolve_data_dir(args.data_dir))
        path = reporter.write_report(type(error), error, error.__traceback__,
                                     origin=f"onesend {' '.join(_command_words(args))}")
    except Exception:  # noqa: BLE001, S110 - the report is a help, never a second crash
        pass
    saved = f"; a report without any child's details was saved as {path}" if path else ""
    out(f"onesend: OneSEND met an unexpected problem (a bug, not something you did){saved}.",
        sys.stderr)
    return EXIT_BUG


def _command_words(args: argparse.Namespace) -> list[str]:
    handler = getattr(args, "handler", None)
    return [getattr(handler, "__name__", "command")]


if __name__ == "__main__":
    sys.exit(main())
