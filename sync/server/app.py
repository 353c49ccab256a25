"""The reference server's HTTP application (FastAPI), enforcing `sync/openapi.yaml`.

Request bodies are checked against the contract's own schemas (jsonschema), so the document
and the server cannot drift apart; each batch item is checked on its own, so one malformed
item is rejected without stopping the rest.
"""

from __future__ import annotations

import functools
import json
import zlib
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

from desktop.vault import now_iso
from sync.protocol import (
    MAX_BATCH_ITEMS,
    MAX_BODY_BYTES,
    PROBLEM_MEDIA_TYPE,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
)
from sync.server.faults import FaultMiddleware, Faults
from sync.server.store import Device, ServerStore, problem

_CONTRACT_URI = "urn:onesend:openapi"


@functools.cache
def contract() -> dict[str, Any]:
    """The OpenAPI document, as shipped beside the client code."""
    text = resources.files("sync").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@functools.cache
def _validator(schema_name: str) -> Draft202012Validator:
    resource = Resource.from_contents(contract(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_CONTRACT_URI, resource)
    ref = {"$ref": f"{_CONTRACT_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=registry)


def schema_errors(schema_name: str, value: Any) -> list[dict[str, str]]:
    """Where `value` breaks the contract; messages name the rule, never quote the value."""
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
    """How to run one reference server."""

    data_dir: Path
    enrol_codes: list[str] = field(default_factory=list)
    min_protocol: int = PROTOCOL_VERSION
    token_ttl: float | None = None
    faults: Faults = field(default_factory=Faults)
    # Form definitions to publish beside the shipped ones (say a new version, for a pilot).
    publish: list[dict[str, Any]] = field(default_factory=list)


class ProblemError(Exception):
    """Raised inside a handler to answer with a problem document."""

    def __init__(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body["title"])
        self.body = body
        self.headers = headers or {}


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=int(body["status"]), headers=headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def create_app(config: ServerConfig) -> FastAPI:
    """The application; `app.state.store` and `app.state.faults` are there for tests."""
    store = ServerStore(config.data_dir, enrol_codes=config.enrol_codes,
                        token_ttl=config.token_ttl)
    app = FastAPI(title="OneSEND reference server", openapi_url=None, docs_url=None,
                  redoc_url=None)
    for definition in config.publish:
        store.publish(definition)
    app.state.store = store
    app.state.faults = config.faults
    app.add_middleware(FaultMiddleware, faults=config.faults)

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

    def authenticate(request: Request) -> Device:
        check_protocol(request)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(problem("token-missing", "A device token is needed.", 401))
        device, expired = store.device_for(token.strip())
        if device is None:
            name = "token-expired" if expired else "token-invalid"
            title = "The device token has expired." if expired else "The device token is unknown."
            raise ProblemError(problem(name, title, 401))
        return device

    async def read_json(request: Request) -> Any:
        raw = bytearray()
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > MAX_BODY_BYTES:
                raise ProblemError(problem("payload-too-large", "The request is too large.", 413))
        data = bytes(raw)
        if request.headers.get("content-encoding", "").lower() == "gzip":
            inflater = zlib.decompressobj(wbits=31)
            try:
                data = inflater.decompress(data, MAX_BODY_BYTES + 1)
            except zlib.error as exc:
                damaged = problem("bad-request", "The gzip body is damaged.", 400)
                raise ProblemError(damaged) from exc
            if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
                raise ProblemError(problem("payload-too-large", "The request is too large.", 413))
        try:
            return json.loads(data, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise ProblemError(problem("bad-request", "The body is not valid JSON.", 400)) from exc

    def require(schema: str, value: Any) -> None:
        errors = schema_errors(schema, value)
        if errors:
            raise ProblemError(problem("bad-request", "The request breaks the contract.", 400,
                                       errors=errors))

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "protocol": {"min": config.min_protocol,
                                             "current": PROTOCOL_VERSION},
                "server_time": now_iso()}

    @app.post("/v1/enrol", status_code=201)
    async def enrol(request: Request) -> Response:
        check_protocol(request)
        body = await read_json(request)
        require("EnrolRequest", body)
        enrolment = await run_in_threadpool(store.enrol, body["code"],
                                            str(body.get("device_name") or "device"))
        if enrolment is None:
            raise ProblemError(problem("enrolment-refused",
                                       "That enrolment code is unknown or already used.", 403))
        return JSONResponse(enrolment, status_code=201)

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

    def submit_batch(device: Device, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProblemError(problem("bad-request", "Send an object with a list of items.",
                                       400))
        require("Batch", body)  # 1 to MAX_BATCH_ITEMS objects
        items = body["items"]
        malformed = [check_item(item) for item in items]
        good = [item for item, bad in zip(items, malformed, strict=True) if bad is None]
        judged = [store.judge(item) for item in good]
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

    @app.post("/v1/submissions/batch")
    async def batch(request: Request) -> dict[str, Any]:
        device = authenticate(request)
        body = await read_json(request)
        return await run_in_threadpool(submit_batch, device, body)

    def submit_single(device: Device, sid: str, revision: int, body: Any) -> Response:
        require("Submission", body)
        if body["submission_id"] != sid or body["revision"] != revision:
            raise ProblemError(problem("bad-request",
                                       "The body names another submission or revision.", 400))
        (outcome,) = store.submit(device, [body], [store.judge(body)])
        if outcome.problem is not None:
            return _problem_response(outcome.problem)
        return JSONResponse(outcome.result(body), status_code=outcome.http_status)

    @app.put("/v1/submissions/{submission_id}/revisions/{revision}")
    async def single(request: Request, submission_id: str, revision: str) -> Response:
        device = authenticate(request)
        try:
            number = int(revision)
        except ValueError as exc:
            raise ProblemError(problem("bad-request", "The revision must be a number.", 400)
                               ) from exc
        body = await read_json(request)
        return await run_in_threadpool(submit_single, device, submission_id, number, body)

    @app.get("/v1/submissions/{submission_id}/latest")
    def latest(request: Request, submission_id: str) -> dict[str, Any]:
        authenticate(request)
        found = store.latest(submission_id)
        if found is None:
            raise ProblemError(problem("not-found", "The server holds no such submission.", 404))
        return found

    @app.post("/v1/manifest/query")
    async def manifest_query(request: Request) -> dict[str, Any]:
        authenticate(request)
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProblemError(problem("bad-request", "Send an object with a list of items.",
                                       400))
        for item in body["items"]:
            require("RevisionRef", item)
        if len(body["items"]) > MAX_BATCH_ITEMS or set(body) != {"items"}:
            raise ProblemError(problem("bad-request", "Query 0 to 1000 items at a time.", 400))
        return {"items": await run_in_threadpool(store.manifest_query, body["items"])}

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

    return app


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
