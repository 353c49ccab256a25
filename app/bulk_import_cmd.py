"""`onesend assessments import` with many files, folders or NDJSON: the command's shell.

The work is `desktop.bulk_import`; this module only reads the arguments, draws the progress
bar on stderr and prints one result per source (`--json`: a JSON object). The exit status is
0 when every source was imported, 1 when any was skipped (the others are imported).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from itertools import chain

from desktop.bulk_import import ProgressBar, Source, file_sources, import_all, ndjson_sources
from desktop.errors import InvalidInput
from desktop.vault import Vault

OpenVault = Callable[[argparse.Namespace], AbstractContextManager[Vault]]


def run_bulk_import(args: argparse.Namespace, open_vault: OpenVault) -> int:
    names = [name for name in args.files if name != "-"]
    from_stdin = args.ndjson or "-" in args.files
    if not names and not from_stdin:
        raise InvalidInput("Name the files or folders to import, or give --ndjson (or -) to "
                           "read documents from standard input.")
    files = file_sources(names)
    with open_vault(args) as vault:  # the password line, if any, is read before the documents
        sources: Iterable[Source] = chain(files, ndjson_sources(sys.stdin)) if from_stdin \
            else files
        total = None if from_stdin else len(files)
        bar = ProgressBar(sys.stderr, total) if args.progress or sys.stderr.isatty() else None
        try:
            results = import_all(vault, sources, progress=bar)
        finally:
            if bar is not None:
                bar.finish()
    failed = [result for result in results if not result.ok]
    if args.json:
        _out(json.dumps({"imported": len(results) - len(failed), "skipped": len(failed),
                         "results": [result.to_json() for result in results]},
                        ensure_ascii=False))
    else:
        for result in results:
            if result.ok:
                _out(f"Imported {result.source}: assessment {result.id}, revision "
                      f"{result.revision}.")
            else:
                _out(f"Skipped {result.source}: {result.error}")
        _out(f"{len(results) - len(failed)} imported, {len(failed)} skipped.")
    return 1 if failed else 0


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
