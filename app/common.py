"""What every `onesend` command shares: output, secrets from stdin or the terminal, the
session of the chosen profile, and the options common to several commands."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from desktop.assessments import parse_document
from desktop.errors import InvalidInput
from desktop.paths import resolve_data_dir
from desktop.profiles import Profiles
from desktop.vault import Vault
from forms.bounds import MAX_DOCUMENT_BYTES
from sync.http import ApiSettings, network_settings
from sync.session import Session

EXIT_USER_ERROR = 2
Handler = Callable[[argparse.Namespace], int]

# -- input and output --------------------------------------------------------------------------


def out(text: str = "", stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(text + "\n")


def json_out(value: Any) -> None:
    out(json.dumps(value, ensure_ascii=False, indent=2))


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
            values.append(valid_text(line.rstrip("\r\n"), prompt))
        return values
    return [valid_text(getpass.getpass(f"{prompt}: "), prompt) for prompt in prompts]


def valid_text(value: str, prompt: str) -> str:
    """Bytes that are not UTF-8 arrive as lone surrogates: refuse them in one sentence."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The {prompt.lower()} given is not valid UTF-8 text; type it "
                           "again.") from None
    return value


def profiles_of(args: argparse.Namespace) -> Profiles:
    return Profiles(resolve_data_dir(args.data_dir))


@contextlib.contextmanager
def open_vault(args: argparse.Namespace) -> Iterator[Vault]:
    """The command's session of the chosen profile (closed, keys forgotten, at the end)."""
    profiles = profiles_of(args)
    name = profiles.choose(args.profile)
    (password,) = read_secrets(args, ["Password"])
    # Form versions published after this release, fetched by `forms update`, become usable.
    with Session.open(profiles.unlock(name, password)) as session:
        yield session.vault


def read_document_file(path: str) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as handle:
            # One byte past the bound is enough to refuse it: a huge file is never read whole.
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or 'unreadable'}.") from exc
    return parse_document(raw, path)



def add_vault_options(parser: argparse.ArgumentParser, *, json_flag: bool = False) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON (see README)")



def add_network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca-bundle", metavar="FILE",
                        help="extra CA certificates (PEM) for a network that inspects TLS")
    parser.add_argument("--proxy", metavar="URL", help="HTTP(S) proxy (default: the system's)")


def api_settings(args: argparse.Namespace) -> ApiSettings | None:
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


