"""The window: `onesend` with no command opens it."""

from __future__ import annotations

import argparse

from desktop.errors import OneSendError
from desktop.paths import resolve_data_dir
from desktop.profiles import Profiles


def open_window(args: argparse.Namespace) -> int:
    from ui.display import display_problem  # noqa: PLC0415 - no Qt for headless commands

    problem = display_problem()
    if problem:
        raise OneSendError(problem)
    from ui.app import run_app  # noqa: PLC0415

    data_dir = resolve_data_dir(args.data_dir)
    return run_app(data_dir, Profiles(data_dir).names())


