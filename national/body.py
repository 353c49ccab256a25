"""The national service's request bodies: taken as they arrive, capped, inflated once in
steps, parsed with bounded size, depth and values (finite numbers, valid Unicode); and the
problem answer a handler raises."""

from __future__ import annotations

import json
import math
import re
import zlib
from typing import Any

from national.store import problem

MAX_JSON_VALUES = 1_000_000  # commas and brackets: an upper bound on the values to build
MAX_JSON_DEPTH = 64


class ProblemError(Exception):
    """Raised inside a handler to answer with a problem document."""

    def __init__(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body["title"])
        self.body = body
        self.headers = headers or {}


class Body:
    """A request body taken as it arrives, on the event loop (no thread hop a chunk): never
    past `limit` bytes received, a plain one refused as soon as it holds more values than any
    request may. A gzip body is inflated once it is all here, in one call off the event loop,
    in steps of 1 MiB, never past `limit` bytes and refused at the step that holds too many
    values."""

    _STEP = 1024 * 1024

    def __init__(self, limit: int, gzipped: bool) -> None:
        self.limit = limit
        self.data = bytearray()
        self.received = 0
        self.values = 0
        self.compressed: list[bytes] | None = [] if gzipped else None

    def take(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.limit:
            raise too_large("The request is too large.")
        if self.compressed is None:
            self._add(chunk)
        else:
            self.compressed.append(chunk)

    def json(self) -> Any:
        """The body parsed (parse_json), inflated first if it came gzipped."""
        if self.compressed is not None:
            inflater = zlib.decompressobj(wbits=31)
            pending = b"".join(self.compressed)
            self.compressed = None
            while pending:
                try:
                    out = inflater.decompress(pending, self._STEP)
                except zlib.error as exc:
                    damaged = problem("bad-request", "The gzip body is damaged.", 400)
                    raise ProblemError(damaged) from exc
                pending = inflater.unconsumed_tail
                self._add(out)
        return parse_json(self.data)

    def _add(self, out: bytes) -> None:
        self.values += out.count(b",") + out.count(b"[") + out.count(b"{")
        if self.values > MAX_JSON_VALUES:
            raise too_large("The request holds too many values.")
        if len(self.data) + len(out) > self.limit:
            raise too_large("The request is too large.")
        self.data.extend(out)


def too_large(title: str) -> ProblemError:
    return ProblemError(problem("payload-too-large", title, 413))


def _bad_json(title: str) -> ProblemError:
    return ProblemError(problem("bad-request", title, 400))


def parse_json(data: bytes | bytearray) -> Any:
    """JSON with bounded size, depth and values: finite numbers, valid Unicode."""
    if data.count(b",") + data.count(b"[") + data.count(b"{") > MAX_JSON_VALUES:
        raise too_large("The request holds too many values.")
    try:
        value = json.loads(data, parse_constant=_no_constants, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise _bad_json("The body is not valid JSON.") from exc
    if _no_surrogates(data):
        _check_depth(value)  # only containers: every string is known to be valid
        return value
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise _bad_json("The body holds text that is not valid Unicode.") from None
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise _bad_json(f"The body is nested more than {MAX_JSON_DEPTH} deep.")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB]")


def _no_surrogates(data: bytes | bytearray) -> bool:
    """Whether the body certainly holds no lone surrogate (the only text json.loads lets
    through that is not valid Unicode): strict UTF-8, and no \\uD800-\\uDFFF escape. When
    unsure, the caller looks at every string."""
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\\u" not in data or _SURROGATE_ESCAPE.search(data) is None


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if type(item) is not dict and type(item) is not list:
            continue
        if depth > MAX_JSON_DEPTH:
            raise _bad_json(f"The body is nested more than {MAX_JSON_DEPTH} deep.")
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
