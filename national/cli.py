"""`onesend-server`: migrate, add organisations, issue codes and tokens, revoke, serve.

Every command takes the data folder (the signing keys and the token secret; on a shared disk
when several hosts serve) and the database: `--database postgresql://…` or
ONESEND_DATABASE_URL, else SQLite in the data folder (the laptop reference).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from national.logs import configure_logging

DATA_ENV = "ONESEND_SERVER_DATA"
DATABASE_ENV = "ONESEND_DATABASE_URL"
THRESHOLD_ENV = "ONESEND_SUPPRESSION_THRESHOLD"
BATCHES_ENV = "ONESEND_BATCHES_AT_ONCE"


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _store(args: argparse.Namespace, *, migrate: bool = True) -> Any:
    from national.store import ServerStore  # noqa: PLC0415 - keeps --help fast

    return ServerStore(Path(args.data).absolute(), database=args.database,
                       auto_migrate=migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    from national.migrations import LATEST, current_version, ddl, migrate  # noqa: PLC0415
    from national.store import make_engine, private_dir  # noqa: PLC0415

    data = private_dir(Path(args.data).absolute())
    engine = make_engine(args.database, data)
    try:
        if args.sql:
            sys.stdout.write(ddl(engine))
            return 0
        before = current_version(engine)
        applied = migrate(engine)
    finally:
        engine.dispose()
    _out(f"Schema at version {LATEST} (was {before}; applied: "
         f"{', '.join(map(str, applied)) or 'nothing'}).")
    store = _store(args)  # makes the keys, the server id and publishes the shipped forms
    store.close()
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        store.ensure_organisation(
            args.id, args.kind, args.name, la_code=getattr(args, "la", None),
            trust=getattr(args, "trust", None), urn=getattr(args, "urn", None),
            ukprn=getattr(args, "ukprn", None), ofsted_ref=getattr(args, "ofsted_ref", None))
    finally:
        store.close()
    _out(f"Organisation {args.id} ({args.kind}) is there.")
    return 0


def cmd_issue_code(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        known = store.organisation(args.setting)
        if known is None or known["kind"] != "setting":
            raise ValueError(f"there is no setting {args.setting}: add it with add-setting")
        code = store.issue_code(args.setting)
    finally:
        store.close()
    _out(f"Enrolment code for setting {args.setting}: {code}")
    return 0


def cmd_issue_token(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        ttl = args.ttl_days * 86400.0 if args.ttl_days else None
        officer, token = store.issue_token(args.role, args.org, args.name, ttl)
    finally:
        store.close()
    _out(f"Token {officer} ({args.role}{' of ' + args.org if args.org else ''}): {token}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        done = store.revoke(args.id)
    finally:
        store.close()
    if not done:
        raise ValueError(f"no device or token {args.id} (or it is already revoked)")
    _out(f"Revoked {args.id}: its token no longer works.")
    return 0


def app_from_env() -> Any:
    """The application of one worker (uvicorn's factory): its settings from the environment."""
    from national.app import ServerConfig, create_app  # noqa: PLC0415

    configure_logging()
    config = ServerConfig(Path(os.environ[DATA_ENV]),
                          database=os.environ.get(DATABASE_ENV) or None,
                          pool_size=int(os.environ.get("ONESEND_POOL_SIZE", "8")),
                          suppression_threshold=int(os.environ.get(THRESHOLD_ENV, "5")),
                          batches_at_once=int(os.environ.get(BATCHES_ENV, "2")))
    app = create_app(config)
    # What the worker made to start (modules, form definitions, the schema) lives as long as
    # it does: out of the collector's way, so a full collection walks only the batches in
    # flight (it was a third of parsing a batch's JSON).
    gc.freeze()
    # A batch builds a few hundred thousand objects and no cycles: collect the youngest
    # after 100,000 allocations instead of 700 (parsing a batch 15% less CPU; the memory
    # held is bounded by the batches in flight).
    gc.set_threshold(100_000, 50, 1000)
    return app


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    if args.suppression_threshold < 2:
        raise ValueError("the suppression threshold is a count of 2 or more")
    if args.batches_at_once < 1:
        raise ValueError("--batches-at-once is a count of 1 or more")
    store = _store(args)  # migrate once, before the workers start
    store.close()
    os.environ[DATA_ENV] = str(Path(args.data).absolute())
    if args.database:
        os.environ[DATABASE_ENV] = args.database
    os.environ[THRESHOLD_ENV] = str(args.suppression_threshold)
    os.environ[BATCHES_ENV] = str(args.batches_at_once)
    logging.getLogger("onesend.national").info(json.dumps(
        {"event": "serve", "host": args.host, "port": args.port, "workers": args.workers,
         "database": "postgresql" if args.database else "sqlite", "at": time.time()}))
    uvicorn.run("national.cli:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, http="h11", lifespan="off", access_log=False,
                log_level="warning", ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
                timeout_keep_alive=30)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onesend-server", description="Run and administer the OneSEND national service.")
    parser.add_argument("--data", default=os.environ.get(DATA_ENV, "national-data"),
                        help=f"the data folder: keys and secret (default ${DATA_ENV} or "
                        "./national-data)")
    parser.add_argument("--database", default=os.environ.get(DATABASE_ENV) or None,
                        help=f"postgresql://… (default ${DATABASE_ENV}); without it, SQLite "
                        "in the data folder")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="bring the database's schema up to date")
    p.add_argument("--sql", action="store_true", help="print the DDL instead, for a DBA")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("add-la", help="add a local authority by its three-digit LA code")
    p.add_argument("id", metavar="LA_CODE")
    p.add_argument("name")
    p.set_defaults(handler=cmd_add, kind="la")

    p = sub.add_parser("add-trust", help="add a trust (a multi-academy trust, say)")
    p.add_argument("id")
    p.add_argument("name")
    p.set_defaults(handler=cmd_add, kind="trust")

    p = sub.add_parser("add-setting", help="add a school, college or early years setting")
    p.add_argument("id", help="its id here (its URN, say)")
    p.add_argument("name")
    p.add_argument("--la", help="the LA code of the area it is in")
    p.add_argument("--trust", help="the trust it belongs to")
    p.add_argument("--urn")
    p.add_argument("--ukprn")
    p.add_argument("--ofsted-ref", dest="ofsted_ref")
    p.set_defaults(handler=cmd_add, kind="setting")

    p = sub.add_parser("issue-code", help="a one-time enrolment code for a device of a setting")
    p.add_argument("setting")
    p.set_defaults(handler=cmd_issue_code)

    p = sub.add_parser("issue-token", help="a token for a trust officer, LA officer or analyst")
    p.add_argument("role", choices=["trust_officer", "la_officer", "analyst"])
    p.add_argument("--org", help="the trust's id or the LA code (none for an analyst)")
    p.add_argument("--name", default="officer", help="whose token it is (for the access log)")
    p.add_argument("--ttl-days", type=float, default=30.0,
                   help="days until it expires (default 30; 0: never)")
    p.set_defaults(handler=cmd_issue_token)

    p = sub.add_parser("revoke", help="revoke a device or an officer's token by its id")
    p.add_argument("id")
    p.set_defaults(handler=cmd_revoke)

    p = sub.add_parser("serve", help="serve the API with several worker processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: one per core; judging is CPU-bound)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--suppression-threshold", type=int,
                   default=int(os.environ.get(THRESHOLD_ENV, "5")),
                   help="figures show counts from 1 to N-1 as c (default 5, or "
                   f"${THRESHOLD_ENV}; DfE's exact threshold for SEN2 not verified: see "
                   "national/stats.py)")
    p.add_argument("--batches-at-once", type=int, default=2,
                   help="batches each worker reads, judges and stores at once; the others "
                   "wait (default 2: one judged while one waits on the database)")
    p.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        code: int = args.handler(args)
    except ValueError as exc:
        sys.stderr.write(f"onesend-server: {exc}.\n")
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
