"""Reads for officers: an LA's cases, one record with its revisions and receipts, the access
log, and the figures.

An LA officer reads the records of children whose home LA is theirs (`child.home_la`) and of
children placed in their area (the setting's LA, `assessment.setting_la`); any other record
is answered exactly as one that does not exist. Every read of identifiable data (a record,
its revisions, its receipts) is first written to the access log with who, which record, when
and why (a code from WHY_CODES, required). A national analyst reads figures only: never a
record, a name, a date of birth, a UPN or a ULN. Figures are suppressed (national/stats.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from sqlalchemy import Connection, or_, select
from starlette.concurrency import run_in_threadpool

from contract.canonical import now_iso
from national import schema, stats
from national.store import LA_CODE, Principal, ServerStore, problem

WHY_CODES = ("statutory_assessment", "annual_review", "placement_planning", "safeguarding",
             "complaint_or_tribunal", "data_quality")
CASE_FIELDS = ("submission_id", "revision", "setting", "home_la", "placed_la", "kind", "status",
               "primary_need", "current_setting_type", "recommended_setting_type", "nc_year",
               "phase", "academic_year", "next_due", "updated_at")


def _visible(la: str) -> Any:
    cases = schema.cases
    return or_(cases.c.home_la == la, cases.c.placed_la == la)


def case_list(
    store: ServerStore, la: str, *, status: str | None, kind: str | None,
    overdue: bool | None, after: str, limit: int, today: str,
) -> dict[str, Any]:
    cases = schema.cases
    query = select(*(cases.c[name] for name in CASE_FIELDS)).where(_visible(la))
    if status:
        query = query.where(cases.c.status == status)
    if kind:
        query = query.where(cases.c.kind == kind)
    if overdue is True:
        query = query.where(cases.c.next_due < today)
    elif overdue is False:
        query = query.where(or_(cases.c.next_due.is_(None), cases.c.next_due >= today))
    query = query.where(cases.c.submission_id > after).order_by(cases.c.submission_id).limit(
        limit + 1)
    with store.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["overdue"] = bool(row["next_due"] and row["next_due"] < today)
    return {"items": rows, "next": rows[-1]["submission_id"] if more and rows else None}


def _case_for(conn: Connection, la: str, sid: str) -> Any:
    cases = schema.cases
    return conn.execute(select(cases.c.home_la, cases.c.placed_la).where(
        cases.c.submission_id == sid, _visible(la))).first()


def _log(
    conn: Connection, who: Principal, sid: str, *, action: str, why: str, case: Any
) -> None:
    conn.execute(schema.access_log.insert().values(
        at=now_iso(), officer=who.id, organisation=who.organisation, submission_id=sid,
        action=action, why=why, home_la=case.home_la, placed_la=case.placed_la))


def read_record(store: ServerStore, who: Principal, sid: str, why: str) -> dict[str, Any] | None:
    """The record's revisions (payloads and receipts), logged before it is returned."""
    subs = schema.submissions
    with store.engine.begin() as conn:
        case = _case_for(conn, who.organisation, sid)
        if case is None:
            return None
        _log(conn, who, sid, action="read_record", why=why, case=case)
        rows = conn.execute(select(
            subs.c.revision, subs.c.base_revision, subs.c.payload, subs.c.payload_hash,
            subs.c.received_at, subs.c.signature, subs.c.setting).where(
            subs.c.submission_id == sid).order_by(subs.c.revision)).all()
    return {"submission_id": sid, "revisions": [
        {"revision": r.revision, "base_revision": r.base_revision, "setting": r.setting,
         "payload": json.loads(r.payload), "payload_hash": r.payload_hash,
         "receipt": store._receipt(sid, r.revision, r.payload_hash, r.received_at,
                                   r.signature)} for r in rows]}


def read_receipts(
    store: ServerStore, who: Principal, sid: str, why: str
) -> dict[str, Any] | None:
    subs = schema.submissions
    with store.engine.begin() as conn:
        case = _case_for(conn, who.organisation, sid)
        if case is None:
            return None
        _log(conn, who, sid, action="read_receipts", why=why, case=case)
        rows = conn.execute(select(
            subs.c.revision, subs.c.payload_hash, subs.c.received_at, subs.c.signature).where(
            subs.c.submission_id == sid).order_by(subs.c.revision)).all()
    return {"submission_id": sid, "receipts": [
        store._receipt(sid, r.revision, r.payload_hash, r.received_at, r.signature)
        for r in rows]}


def access_log(store: ServerStore, la: str, after: int, limit: int) -> dict[str, Any]:
    log = schema.access_log
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(log).where(or_(log.c.home_la == la, log.c.placed_la == la), log.c.id > after)
            .order_by(log.c.id).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": rows[-1]["id"] if more and rows else None}


def register_reads(
    app: FastAPI, store: ServerStore, principal: Callable[[Request], Principal],
    problem_error: Callable[..., Exception], *, threshold: int = stats.THRESHOLD,
) -> None:
    def refuse(name: str, title: str, status: int) -> Exception:
        return problem_error(problem(name, title, status))

    def la_officer(request: Request) -> Principal:
        who = principal(request)
        if who.role != "la_officer":
            raise refuse("forbidden", "Only a local authority officer reads records.", 403)
        return who

    def why_of(request: Request) -> str:
        why = request.query_params.get("why", "")
        if why not in WHY_CODES:
            raise refuse("bad-request", "Say why you read this record: why is one of "
                         + ", ".join(WHY_CODES) + ".", 400)
        return why

    def number(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise refuse("bad-request", f"{name} is a number from {low} to {high}.", 400)
        return value

    def not_found() -> Exception:
        return refuse("not-found", "The server holds no such submission.", 404)

    @app.get("/v1/la/cases")
    def cases(request: Request) -> dict[str, Any]:
        who = la_officer(request)
        params = request.query_params
        overdue = {"true": True, "false": False, "": None}.get(params.get("overdue", ""), "bad")
        if overdue == "bad":
            raise refuse("bad-request", "overdue is true or false.", 400)
        today = datetime.now(tz=UTC).date().isoformat()
        return case_list(store, who.organisation, status=params.get("status") or None,
                         kind=params.get("kind") or None,
                         overdue=overdue if isinstance(overdue, bool) else None,
                         after=params.get("after", "")[:64],
                         limit=number(request, "limit", 100, 1, 1000), today=today)

    @app.get("/v1/la/cases/{submission_id}")
    def record(request: Request, submission_id: str) -> dict[str, Any]:
        who = la_officer(request)
        found = read_record(store, who, submission_id, why_of(request))
        if found is None:
            raise not_found()
        return found

    @app.get("/v1/la/cases/{submission_id}/receipts")
    def receipts(request: Request, submission_id: str) -> dict[str, Any]:
        who = la_officer(request)
        found = read_receipts(store, who, submission_id, why_of(request))
        if found is None:
            raise not_found()
        return found

    @app.get("/v1/la/access-log")
    def log(request: Request) -> dict[str, Any]:
        who = la_officer(request)
        return access_log(store, who.organisation, number(request, "after", 0, 0, 2**62),
                          number(request, "limit", 100, 1, 1000))

    def scope(request: Request) -> str | None:
        """An analyst sees England or any one LA; an LA officer only their own LA."""
        who = principal(request)
        asked = request.query_params.get("la") or None
        if asked is not None and not LA_CODE.fullmatch(asked):
            raise refuse("bad-request", "la is a three-digit LA code.", 400)
        if who.role == "analyst":
            return asked
        if who.role == "la_officer":
            if asked not in (None, who.organisation):
                raise refuse("forbidden", "An LA officer reads their own LA's figures.", 403)
            return who.organisation
        raise refuse("forbidden", "Figures are for LA officers and national analysts.", 403)

    def figures(request: Request, which: str) -> Response:
        la = scope(request)
        year_by = "nc_year" if request.query_params.get("year") == "nc_year" else "phase"
        fmt = request.query_params.get("format", "json")
        with store.engine.connect() as conn:
            result = (stats.sufficiency(conn, la, year_by, threshold=threshold)
                      if which == "sufficiency" else stats.timeline(conn, la, threshold=threshold))
        if fmt == "csv":
            return PlainTextResponse(stats.to_csv(result), media_type="text/csv")
        return JSONResponse(result)

    @app.get("/v1/stats/sufficiency")
    async def sufficiency(request: Request) -> Response:
        return await run_in_threadpool(figures, request, "sufficiency")

    @app.get("/v1/stats/requests")
    async def requests_over_time(request: Request) -> Response:
        return await run_in_threadpool(figures, request, "timeline")

    @app.get("/v1/stats/page")
    def stats_page(request: Request) -> Response:
        la = scope(request)
        with store.engine.connect() as conn:
            body = stats.page(stats.sufficiency(conn, la, threshold=threshold),
                              stats.timeline(conn, la, threshold=threshold))
        return HTMLResponse(body)
