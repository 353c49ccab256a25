"""Reads for officers: an LA's cases, one record, its receipts, the access log; the figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from national.store import Principal, ServerStore


def register_reads(
    app: FastAPI, store: ServerStore, principal: Callable[[Request], Principal],
    problem_error: Callable[..., Exception],
) -> None:
    del app, store, principal, problem_error
    _: Any = None
