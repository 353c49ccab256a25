"""The national service's HTTP application (FastAPI), enforcing `contract/openapi.yaml`.

Request bodies are checked against the contract's own schemas (jsonschema), so the document
and the server cannot drift apart; each batch item is checked on its own, so one malformed
item is rejected without stopping the rest.

No small request can stall or swell it: bodies are capped as they stream in and inflated
once, in steps, with a cap per endpoint; the number of values is bounded before parsing and
the depth, numbers and Unicode after; parsing and checking run off the event loop; item
counts are checked before any item is; and the endpoints that need no token are
rate-limited (429 with Retry-After), enrolment also by its failures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import re
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.concurrency import run_in_threadpool

from contract.canonical import now_iso
from contract.protocol import (
    IDEMPOTENCY_HEADER,
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    PROBLEM_MEDIA_TYPE,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
)
from national.body import Body, ProblemError
from national.faults import FaultMiddleware, Faults
from national.logs import log_event
from national.reads import register_reads
from national.stats import THRESHOLD
from national.store import (
    DEFAULT_RENEW_AFTER,
    DEFAULT_TOKEN_GRACE,
    DEFAULT_TOKEN_TTL,
    Principal,
    ServerStore,
    problem,
)

_CONTRACT_URI = "urn:onesend:openapi"
SETTING_HEADER = "OneSEND-Setting"
ENROL_BODY_BYTES = 16 * 1024
QUERY_BODY_BYTES = 512 * 1024
BATCHES_AT_ONCE = 2  # per worker process (`serve --batches-at-once`)
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,128}")


@functools.cache
def contract() -> dict[str, Any]:
    """The OpenAPI document, as shipped beside the client code."""
    text = resources.files("contract").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@functools.cache
def _validator(schema_name: str) -> Draft202012Validator:
    resource = Resource.from_contents(contract(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_CONTRACT_URI, resource)
    ref = {"$ref": f"{_CONTRACT_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=registry)


@functools.cache
def _fast_validator(schema_name: str) -> Any:
    """The same schema compiled by jsonschema-rs (Rust): a yes/no in microseconds, so only a
    value that breaks the contract pays for the Python validator's messages."""
    try:
        import jsonschema_rs  # noqa: PLC0415 - optional: without it every check is in Python
    except ImportError:
        return None
    document = {"$ref": f"#/components/schemas/{schema_name}",
                "components": contract()["components"]}
    return jsonschema_rs.Draft202012Validator(document)


def schema_errors(schema_name: str, value: Any) -> list[dict[str, str]]:
    """Where `value` breaks the contract; messages name the rule, never quote the value."""
    fast = _fast_validator(schema_name)
    if fast is not None and fast.is_valid(value):
        return []
    found = []
    for error in _validator(schema_name).iter_errors(value):
        path = "/" + "/".join(str(p) for p in error.absolute_path)
        rule = str(error.validator)
        message = error.message if rule in ("required", "additionalProperties") else (
            f"does not satisfy '{rule}'")
        found.append({"path": path, "message": message[:200]})
    return found[:50]


@dataclass
class ServerConfig:
    """How to run one service. Enrolment codes are issued by its store
    (`ServerStore.issue_code`, `onesend-server issue-code`, or `onesend reference-server
    --issue-code SETTING`)."""

    data_dir: Path
    # A postgresql:// URL (the national service), or None for SQLite in the data folder.
    database: str | None = None
    pool_size: int = 8
    min_protocol: int = PROTOCOL_VERSION
    token_ttl: float | None = DEFAULT_TOKEN_TTL
    token_renew_after: float | None = DEFAULT_RENEW_AFTER
    token_grace: float = DEFAULT_TOKEN_GRACE
    # Wrong enrolment codes allowed per window, from one client and from all together.
    enrol_failures_per_client: int = 10
    enrol_failures_overall: int = 100
    enrol_failure_window: float = 600.0
    # Requests per minute from one client to the endpoints that need no token.
    open_requests_per_minute: int = 600
    faults: Faults = field(default_factory=Faults)
    # Form definitions to publish beside the shipped ones (say a new version, for a pilot).
    publish: list[dict[str, Any]] = field(default_factory=list)
    # Figures: counts from 1 to this minus 1 are shown as `c` (national/stats.py says what
    # the default 5 rests on, and what is not verified).
    suppression_threshold: int = THRESHOLD
    # Batches one process reads, judges and stores at once (the others wait their turn).
    batches_at_once: int = BATCHES_AT_ONCE


class RateWindow:
    """At most `limit` events per key in a sliding window of `seconds` (keys bounded too)."""

    def __init__(self, limit: int, seconds: float, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may go on, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                return None
            while events and events[0] <= now - self.seconds:
                events.popleft()
            if len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.seconds - now))

    def add(self, key: str) -> None:
        with self._lock:
            events = self._events.setdefault(key, deque())
            self._events.move_to_end(key)
            events.append(time.monotonic())
            while len(events) > self.limit:
                events.popleft()
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)


def _rate_limited(wait: int) -> ProblemError:
    return ProblemError(problem("rate-limited", "Too many requests; try again later.", 429),
                        {"Retry-After": str(wait)})


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=int(body["status"]), headers=headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def create_app(config: ServerConfig) -> FastAPI:
    """The application; `app.state.store` and `app.state.faults` are there for tests."""
    if config.suppression_threshold < 2:
        raise ValueError("the suppression threshold is a count of 2 or more")
    if config.batches_at_once < 1:
        raise ValueError("batches at once is a count of 1 or more")
    store = ServerStore(config.data_dir, database=config.database, token_ttl=config.token_ttl,
                        renew_after=config.token_renew_after, token_grace=config.token_grace,
                        pool_size=config.pool_size)
    open_requests = RateWindow(config.open_requests_per_minute, 60.0)
    client_failures = RateWindow(config.enrol_failures_per_client, config.enrol_failure_window)
    all_failures = RateWindow(config.enrol_failures_overall, config.enrol_failure_window)
    app = FastAPI(title="OneSEND national service", openapi_url=None, docs_url=None,
                  redoc_url=None)
    for definition in config.publish:
        store.publish(definition)
    app.state.store = store
    app.state.faults = config.faults
    app.add_middleware(FaultMiddleware, faults=config.faults)

    @app.middleware("http")
    async def log_requests(request: Request, call_next: Any) -> Response:
        """One JSON line a request: method, route template (never the filled-in path, which
        holds ids), status and duration. No header, query or body is logged."""
        began = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        log_event(event="request", method=request.method,
                  route=getattr(route, "path", "unmatched"), status=response.status_code,
                  ms=round((time.perf_counter() - began) * 1000, 1))
        return response

    @app.exception_handler(ProblemError)
    async def on_problem(_request: Request, exc: ProblemError) -> Response:
        return _problem_response(exc.body, exc.headers)

    @app.exception_handler(404)
    async def on_not_found(_request: Request, _exc: Exception) -> Response:
        return _problem_response(problem("not-found", "There is nothing at this address.", 404))

    @app.exception_handler(405)
    async def on_bad_method(_request: Request, exc: Exception) -> Response:
        allow = dict(getattr(exc, "headers", None) or {})
        return _problem_response(problem("bad-request", "This method is not allowed here.", 405),
                                 {k: v for k, v in allow.items() if k.lower() == "allow"})

    def check_protocol(request: Request) -> None:
        raw = request.headers.get(PROTOCOL_HEADER)
        try:
            version = int(raw) if raw is not None else None
        except ValueError:
            version = None
        if version is None or version < 1:
            raise ProblemError(problem("bad-request",
                                       f"Say which protocol you speak in {PROTOCOL_HEADER}.", 400))
        if version < config.min_protocol:
            raise ProblemError(problem(
                "update-required", "This version of OneSEND is too old for the server.", 426,
                min_protocol=config.min_protocol))

    def principal(request: Request) -> Principal:
        """Whoever the bearer token speaks for, of any role."""
        check_protocol(request)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(problem("token-missing", "A device token is needed.", 401))
        found, expired = store.principal_for(token.strip())
        if found is None:
            name = "token-expired" if expired else "token-invalid"
            title = "The device token has expired." if expired else "The device token is unknown."
            raise ProblemError(problem(name, title, 401))
        return found

    def authenticate(request: Request) -> Principal:
        """A setting's device, or a trust officer writing for one of the trust's settings
        (named in the OneSEND-Setting header): the only ones that submit and hold manifests."""
        found = principal(request)
        if found.role == "device":
            return found
        if found.role == "trust_officer":
            setting = request.headers.get(SETTING_HEADER, "")
            if not store.trust_setting(found.organisation, setting):
                raise ProblemError(problem(
                    "forbidden", f"Name one of the trust's settings in {SETTING_HEADER}.", 403))
            return dataclasses.replace(found, setting=setting)
        raise ProblemError(problem("forbidden", "This token may not submit or sync.", 403))

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def limit_open(request: Request) -> None:
        """The endpoints that need no token: a bounded number of requests per client."""
        client = client_of(request)
        wait = open_requests.retry_after(client)
        if wait is not None:
            raise _rate_limited(wait)
        open_requests.add(client)

    async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
        """The body, refused once it passes `limit` bytes or holds more values than any
        request may; inflated (if gzip) and parsed in one call off the event loop."""
        body = Body(limit, request.headers.get("content-encoding", "").lower() == "gzip")
        async for chunk in request.stream():
            if chunk:
                body.take(chunk)
        return await run_in_threadpool(body.json)

    def require(schema: str, value: Any) -> None:
        errors = schema_errors(schema, value)
        if errors:
            raise ProblemError(problem("bad-request", "The request breaks the contract.", 400,
                                       errors=errors))

    @app.get("/health")
    def liveness() -> dict[str, str]:
        """The process answers (no database, no rate limit): for a load balancer."""
        return {"status": "ok"}

    @app.get("/ready")
    def readiness() -> Response:
        """The database answers: 200, else 503 (take this worker out of service)."""
        if store.ping():
            return JSONResponse({"status": "ready"})
        return _problem_response(problem("not-ready", "The database does not answer.", 503))

    @app.get("/v1/health")
    async def health(request: Request) -> dict[str, Any]:
        limit_open(request)
        return {"status": "ok", "protocol": {"min": config.min_protocol,
                                             "current": PROTOCOL_VERSION},
                "server_time": now_iso()}

    @app.post("/v1/enrol", status_code=201)
    async def enrol(request: Request) -> Response:
        limit_open(request)
        check_protocol(request)
        client = client_of(request)
        # After too many wrong codes every attempt waits, a right one too: no guessing on.
        for window, key in ((client_failures, client), (all_failures, "")):
            wait = window.retry_after(key)
            if wait is not None:
                raise _rate_limited(wait)
        repeat = request.headers.get(IDEMPOTENCY_HEADER)
        if repeat is not None and not _IDEMPOTENCY_KEY.fullmatch(repeat):
            raise ProblemError(problem(
                "bad-request", f"{IDEMPOTENCY_HEADER} is 16 to 128 letters, digits, - or _.",
                400))
        body = await read_json(request, ENROL_BODY_BYTES)
        require("EnrolRequest", body)
        enrolment = await run_in_threadpool(store.enrol, body["code"],
                                            str(body.get("device_name") or "device"), repeat)
        if enrolment is None:
            client_failures.add(client)
            all_failures.add("")
            raise ProblemError(problem("enrolment-refused",
                                       "That enrolment code is unknown or already used.", 403))
        return JSONResponse(enrolment, status_code=201)

    @app.post("/v1/token")
    def renew_token(request: Request) -> dict[str, Any]:
        device = authenticate(request)
        renewed = store.renew_token(device)
        if renewed is None:
            raise ProblemError(problem("token-invalid", "The device token is unknown.", 401))
        return renewed

    @app.get("/v1/forms")
    def list_forms(request: Request) -> dict[str, Any]:
        authenticate(request)
        return {"forms": store.forms()}

    @app.get("/v1/forms/{form}/{version}")
    def get_form(request: Request, form: str, version: str) -> dict[str, Any]:
        authenticate(request)
        found = store.form(form, version)
        if found is None:
            raise ProblemError(problem("not-found", "No such form version is published.", 404))
        return found

    def check_item(item: Any) -> dict[str, Any] | None:
        errors = schema_errors("Submission", item)
        if not errors:
            return None
        return problem("bad-request", "The item breaks the contract.", 400, errors=errors)

    def submit_batch(device: Principal, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProblemError(problem("bad-request", "Send an object with a list of items.",
                                       400))
        if not 1 <= len(body["items"]) <= MAX_BATCH_ITEMS:
            raise ProblemError(problem(
                "bad-request", f"Send 1 to {MAX_BATCH_ITEMS} items at a time.", 400))
        require("Batch", body)  # 1 to MAX_BATCH_ITEMS objects
        items = body["items"]
        malformed = [check_item(item) for item in items]
        good = [item for item, bad in zip(items, malformed, strict=True) if bad is None]
        judged = [store.judge_with_facts(item) for item in good]
        outcomes = iter(store.submit(device, good, judged))
        results = []
        for item, bad in zip(items, malformed, strict=True):
            if bad is not None:
                results.append({
                    "submission_id": str(item.get("submission_id", ""))[:64]
                    if isinstance(item, dict) else "",
                    "revision": item.get("revision") if isinstance(item, dict)
                    and isinstance(item.get("revision"), int)
                    and not isinstance(item.get("revision"), bool) else 0,
                    "status": "rejected", "problem": bad})
            else:
                results.append(next(outcomes).result(item))
        return {"results": results, "server_time": now_iso()}

    # Batches judged at once in this process: judging is CPU under one GIL, so more at once
    # only interleave (each batch finishes later, and holds its row locks longer while its
    # thread waits for the GIL); two keep one judging while the other waits on the database.
    judging = asyncio.Semaphore(config.batches_at_once)

    @app.post("/v1/submissions/batch")
    async def batch(request: Request) -> Response:
        device = await run_in_threadpool(authenticate, request)
        async with judging:
            body = await read_json(request)
            # Plain JSON types only: answered as they are, without FastAPI's encoder's walk.
            return JSONResponse(await run_in_threadpool(submit_batch, device, body))

    def submit_single(device: Principal, sid: str, revision: int, body: Any) -> Response:
        require("Submission", body)
        if body["submission_id"] != sid or body["revision"] != revision:
            raise ProblemError(problem("bad-request",
                                       "The body names another submission or revision.", 400))
        (outcome,) = store.submit(device, [body], [store.judge_with_facts(body)])
        if outcome.problem is not None:
            return _problem_response(outcome.problem)
        return JSONResponse(outcome.result(body), status_code=outcome.http_status)

    @app.put("/v1/submissions/{submission_id}/revisions/{revision}")
    async def single(request: Request, submission_id: str, revision: str) -> Response:
        device = await run_in_threadpool(authenticate, request)
        try:
            number = int(revision)
        except ValueError as exc:
            raise ProblemError(problem("bad-request", "The revision must be a number.", 400)
                               ) from exc
        body = await read_json(request)
        return await run_in_threadpool(submit_single, device, submission_id, number, body)

    @app.get("/v1/submissions/{submission_id}/latest")
    def latest(request: Request, submission_id: str) -> dict[str, Any]:
        device = authenticate(request)
        found = store.latest(submission_id, device)  # another setting's: as if unknown
        if found is None:
            raise ProblemError(problem("not-found", "The server holds no such submission.", 404))
        return found

    @app.post("/v1/manifest/query")
    async def manifest_query(request: Request) -> dict[str, Any]:
        device = await run_in_threadpool(authenticate, request)
        body = await read_json(request, QUERY_BODY_BYTES)
        return await run_in_threadpool(query_manifest, device, body)

    def query_manifest(device: Principal, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProblemError(problem("bad-request", "Send an object with a list of items.",
                                       400))
        if len(body["items"]) > MAX_BATCH_ITEMS or set(body) != {"items"}:
            raise ProblemError(problem("bad-request", "Query 0 to 1000 items at a time.", 400))
        for item in body["items"]:
            require("RevisionRef", item)
        return {"items": store.manifest_query(device, body["items"])}

    @app.get("/v1/manifest")
    def manifest(request: Request, after: str = "0", limit: str = "1000") -> dict[str, Any]:
        device = authenticate(request)
        try:
            start, size = int(after), int(limit)
        except ValueError as exc:
            raise ProblemError(problem("bad-request", "after and limit are numbers.", 400)
                               ) from exc
        if not 0 <= start <= 2**63 - 1 or not 1 <= size <= 5000:
            raise ProblemError(problem("bad-request", "after >= 0 and 1 <= limit <= 5000.", 400))
        return store.manifest_page(device, start, size)

    register_reads(app, store, principal, ProblemError,
                   threshold=config.suppression_threshold)
    return app
