"""Faults the reference server can inject, for tests and demos: the network as it really is.

Rates (latency, 5xx, dropping the connection after the server committed, a truncated body)
are drawn from a seeded random generator; tests may instead script exact faults for the
next requests to a path, so a test asserts behaviour without depending on chance.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULTS = ("503", "500", "429", "drop", "truncate", "trickle")
_UNCLEAN_CLOSE = "ASGI callable returned without completing response"


@dataclass
class Faults:
    """What to break, and how often. Changeable while the server runs (thread-safe)."""

    latency: float = 0.0
    error_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    truncate_rate: float = 0.0
    retry_after: int = 1
    trickle_interval: float = 0.05
    seed: int | None = None
    _script: deque[tuple[str, str]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)
    injected: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def plan(self, path_prefix: str, *faults: str) -> None:
        """The next requests whose path starts with `path_prefix` meet these faults, in turn."""
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._script.extend((path_prefix, fault) for fault in faults)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.error_rate = self.drop_after_commit_rate = self.truncate_rate = 0.0
            self.latency = 0.0

    def pick(self, path: str) -> str | None:
        with self._lock:
            for index, (prefix, fault) in enumerate(self._script):
                if path.startswith(prefix):
                    del self._script[index]
                    self.injected.append((path, fault))
                    return fault
            roll = self._random.random()
            for fault, rate in (("503", self.error_rate),
                                ("drop", self.drop_after_commit_rate),
                                ("truncate", self.truncate_rate)):
                if roll < rate:
                    self.injected.append((path, fault))
                    return fault
                roll -= rate
        return None


# What h11 raises when a response ends before its declared length: only a drop or a truncation
# injected here does that (every real answer declares the length of the body it sends).
_CUT_SHORT = "Too little data for declared Content-Length"


class _QuietUncleanClose(logging.Filter):
    """Uvicorn logs an error for every connection we cut on purpose; those are not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(_UNCLEAN_CLOSE):
            return False
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and type(error).__name__ == "LocalProtocolError"
                    and str(error) == _CUT_SHORT)


_QUIET_UNCLEAN_CLOSE = _QuietUncleanClose()


def quiet_injected_faults() -> None:
    # One filter, however many servers a process starts (the logger keeps no duplicates).
    logging.getLogger("uvicorn.error").addFilter(_QUIET_UNCLEAN_CLOSE)


class FaultMiddleware:
    """ASGI middleware applying `Faults` to every request but the health check."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/v1/health":
            await self.app(scope, receive, send)
            return
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        fault = self.faults.pick(scope["path"])
        if fault in ("503", "500", "429"):
            await _problem(send, int(fault), self.faults.retry_after)
            return
        if fault is None:
            await self.app(scope, receive, send)
            return
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        # The handler runs (and commits) in full; only the answer is lost or mangled.
        await self.app(scope, receive, capture)
        start = next(m for m in captured if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"],
                    "headers": headers})
        if fault == "drop":
            return  # headers only: the connection closes before the body
        if fault == "truncate":
            await send({"type": "http.response.body", "body": body[: len(body) // 2],
                        "more_body": True})
            return
        for offset in range(0, len(body), 8):  # trickle: a few bytes at a time, for ever-ish
            await send({"type": "http.response.body", "body": body[offset:offset + 8],
                        "more_body": True})
            try:
                message = await asyncio.wait_for(receive(), self.faults.trickle_interval)
            except TimeoutError:
                continue
            if message["type"] == "http.disconnect":
                return  # the client gave up, as it should
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _problem(send: Send, status: int, retry_after: int) -> None:
    names = {503: "unavailable", 500: "unavailable", 429: "rate-limited"}
    body: dict[str, Any] = {
        "type": f"urn:onesend:problem:{names[status]}",
        "title": "Try again later." if status != 500 else "The server failed.",
        "status": status,
    }
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/problem+json"),
               (b"content-length", str(len(raw)).encode())]
    if status in (429, 503):
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw, "more_body": False})
