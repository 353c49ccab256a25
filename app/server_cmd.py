"""`onesend reference-server`: the development reference of the national API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.common import out
from desktop.errors import InvalidInput


def cmd_reference_server(args: argparse.Namespace) -> int:
    """Run the reference server in the foreground (pilots, demos, tests)."""
    try:
        from national import (  # noqa: PLC0415 - not in the bundle
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
        out(f"Enrolment code for setting {setting}: {code}")
    for device in args.revoke_device:
        if device not in unknown:
            out(f"Revoked device {device}: its tokens no longer work.")
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
        out(f"OneSEND reference server listening on {url}")
        sys.stdout.flush()

    tls = (Path(args.tls_cert), Path(args.tls_key)) if args.tls_cert else (None, None)
    serve(config, host=args.host, port=args.port, tls_cert=tls[0], tls_key=tls[1],
          ready=ready)
    return 0




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
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

