"""Storing submissions: the verdict on one item, and a batch written in one transaction.

Per batch, whatever its size: one locking read of the cases it touches, one read of what is
held of its submissions, one multi-row INSERT of the new revisions, one of new cases, one
executemany UPDATE of changed cases and one upsert of the sufficiency counts. Nothing is asked
of the database per record. Each item is decided in order against what the batch read (so
revisions 1 and 2 in one batch both go in).

Locks are taken in one order (cases by id, then counts by key), so two batches holding the
same submissions wait for each other instead of deadlocking; a batch waiting on another's
case reads that case's submissions only once it has committed, so a revision is always based
on the latest one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from contract.canonical import canonical_json
from forms.engine import verdict_for
from forms.errors import FormError
from forms.model import FormDefinition
from national import schema, stats
from national.facts import Facts, facts_of


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one submitted item: a batch result or a single PUT's answer."""

    status: str  # ok (judged, may be stored) | accepted | duplicate | conflict | rejected
    http_status: int
    receipt: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    facts: Facts | None = None
    blob: bytes | None = None  # the payload's canonical JSON, made once to hash and to store

    def result(self, item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "submission_id": str(item.get("submission_id", "")),
            "revision": item.get("revision") if isinstance(item.get("revision"), int) else 0,
            "status": self.status,
        }
        if self.receipt is not None:
            out["receipt"] = self.receipt
        if self.problem is not None:
            out["problem"] = self.problem
        return out


def problem(name: str, title: str, status: int, **extra: Any) -> dict[str, Any]:
    return {"type": f"urn:onesend:problem:{name}", "title": title, "status": status, **extra}


def verdict(definition: FormDefinition | None, key: tuple[str, str],
            payload: dict[str, Any]) -> ItemOutcome:
    """The forms engine's verdict on the answers: 'ok' with the facts to file them under, or
    a rejection naming what is wrong (never quoting an answer)."""
    if definition is None:
        return ItemOutcome("rejected", 422, problem=problem(
            "invalid-payload", f"The form {key[0]} version {key[1]} is not published.",
            422, errors=[{"path": "form_version", "message": "not a published version"}]))
    try:
        judged = verdict_for(definition, payload["answers"])
    except FormError:
        return ItemOutcome("rejected", 422, problem=problem(
            "invalid-payload", "The answers cannot be read as this form's answers.", 422,
            errors=[{"path": "answers", "message": "not readable as answers"}]))
    if judged.problems:
        return ItemOutcome("rejected", 422, problem=problem(
            "invalid-payload", "The assessment is incomplete or invalid.", 422,
            errors=[{"path": p.path, "message": p.message} for p in judged.problems]))
    return ItemOutcome("ok", 0, facts=facts_of(payload["answers"], judged.deadlines))


Receipt = Callable[[str, int, str, str, str], dict[str, Any]]
Sign = Callable[[dict[str, Any]], dict[str, Any]]
_CASE_COPIED = tuple(c.name for c in schema.cases.columns
                     if c.name not in ("submission_id", "latest_seq", "updated_at"))


def store_batch(
    conn: Connection, items: Sequence[dict[str, Any]], judged: Sequence[ItemOutcome | None],
    *, setting: str, device_id: str, now: str, sign: Sign, receipt: Receipt,
) -> list[ItemOutcome]:
    """Decide and write one batch inside the caller's transaction; one outcome per item."""
    subs, cases = schema.submissions, schema.cases
    sids = sorted({str(item["submission_id"]) for item in items})
    # Lock the cases first (by id): a batch racing on one waits here, then reads below what
    # the other committed.
    before = {row[0]: tuple(row[1:]) for row in conn.execute(
        select(cases.c.submission_id, *(cases.c[k] for k in schema.COUNT_KEY))
        .where(cases.c.submission_id.in_(sids)).order_by(cases.c.submission_id)
        .with_for_update())}
    owners: dict[str, str] = {}
    held: dict[tuple[str, int], tuple[str, str, str]] = {}
    latest: dict[str, int] = {}
    for sid, revision, digest, received_at, signature, owner in conn.execute(select(
            subs.c.submission_id, subs.c.revision, subs.c.payload_hash,
            subs.c.received_at, subs.c.signature, subs.c.setting).where(
            subs.c.submission_id.in_(sids))):
        owners.setdefault(sid, owner)
        held[(sid, revision)] = (digest, received_at, signature)
        latest[sid] = max(latest.get(sid, 0), revision)
    outcomes: list[ItemOutcome] = []
    rows: list[dict[str, Any]] = []
    for item, judgement in zip(items, judged, strict=True):
        sid, revision, base = item["submission_id"], item["revision"], item["base_revision"]
        owner = owners.get(sid)
        if owner is not None and owner != setting:
            # Another setting's record: refused, with nothing said about what it holds.
            outcomes.append(ItemOutcome("rejected", 403, problem=problem(
                "forbidden", "This device may not write this submission.", 403)))
            continue
        found = held.get((sid, revision))
        if found is not None:
            if found[0] == item["payload_hash"]:
                outcomes.append(ItemOutcome("duplicate", 200,
                                            receipt=receipt(sid, revision, *found)))
            else:
                outcomes.append(ItemOutcome("conflict", 409, problem=problem(
                    "conflict", "The server holds this revision with different content.",
                    409, latest_revision=latest.get(sid))))
            continue
        if judgement is not None and judgement.status != "ok":
            outcomes.append(judgement)
            continue
        now_latest = latest.get(sid)
        if base != now_latest or revision <= (now_latest or 0):
            outcomes.append(ItemOutcome("conflict", 409, problem=problem(
                "conflict", "The revision is based on one that is not the server's latest.",
                409, latest_revision=now_latest)))
            continue
        signed = sign({"submission_id": sid, "revision": revision,
                       "payload_hash": item["payload_hash"], "received_at": now})
        payload = item["payload"]
        facts = judgement.facts if judgement is not None and judgement.facts else Facts()
        blob = judgement.blob if judgement is not None and judgement.blob else None
        rows.append(dict(
            submission_id=sid, revision=revision, base_revision=base,
            form=payload["form"], form_version=payload["form_version"],
            payload=blob if blob is not None else canonical_json(payload),
            payload_hash=item["payload_hash"], device_id=device_id, received_at=now,
            signature=signed["signature"], setting=setting, **facts.columns()))
        owners[sid] = setting
        held[(sid, revision)] = (item["payload_hash"], now, signed["signature"])
        latest[sid] = revision
        outcomes.append(ItemOutcome("accepted", 201, receipt=signed))
    if rows:
        rows.sort(key=lambda row: (row["submission_id"], row["revision"]))
        seqs = _insert_revisions(conn, rows)
        newest: dict[str, dict[str, Any]] = {}
        for row, seq in zip(rows, seqs, strict=True):
            newest[row["submission_id"]] = {"submission_id": row["submission_id"],
                                            "latest_seq": seq, "updated_at": now,
                                            **{name: row[name] for name in _CASE_COPIED}}
        _file_cases(conn, [newest[sid] for sid in sorted(newest)], before)
    return outcomes


def _insert_revisions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the new revisions; their `seq` numbers, in order. The numbers are drawn first:
    on PostgreSQL from the sequence, in one query, and the rows then go in by one COPY (an
    executemany costs a parameter conversion and a pipelined statement per row, a third of
    the service's CPU per record outside judging; COPY checks the same constraints, and a
    unique violation rolls the batch back as before); on SQLite after the highest ever given
    (the batch holds the one write lock, BEGIN IMMEDIATE; SQLAlchemy would send a RETURNING
    insert there one row at a time)."""
    if conn.dialect.name == "postgresql":
        seqs = [int(n) for n in conn.execute(text(
            "SELECT nextval(pg_get_serial_sequence('submissions', 'seq')) "
            "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars()]
        _copy_rows(conn, "submissions", [{"seq": seq, **row}
                                         for row, seq in zip(rows, seqs, strict=True)])
        return seqs
    top = int(conn.execute(text(
        "SELECT max(n) FROM (SELECT max(seq) AS n FROM submissions UNION ALL "
        "SELECT seq FROM sqlite_sequence WHERE name = 'submissions')")).scalar() or 0)
    seqs = list(range(top + 1, top + 1 + len(rows)))
    conn.execute(schema.submissions.insert(),
                 [{**row, "seq": seq} for row, seq in zip(rows, seqs, strict=True)])
    return seqs


def _copy_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """New rows of one table by COPY, on this transaction's own psycopg connection. A
    constraint they break is raised as SQLAlchemy's IntegrityError, as an executemany's
    would be (the caller retries a lost race on it)."""
    import psycopg  # noqa: PLC0415 - PostgreSQL only: the SQLite reference runs without it
    from sqlalchemy.exc import IntegrityError  # noqa: PLC0415

    names = list(rows[0])  # every row is made with the same keys
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    raw = conn.connection.driver_connection
    assert raw is not None  # a connection in a transaction
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc


def _file_cases(conn: Connection, fresh_cases: list[dict[str, Any]],
                before: dict[str, tuple[Any, ...]]) -> None:
    """Each submission's latest revision into `cases`, and its move between combinations
    into `case_counts`."""
    cases = schema.cases
    added = [row for row in fresh_cases if row["submission_id"] not in before]
    changed = [row for row in fresh_cases if row["submission_id"] in before]
    if added and conn.dialect.name == "postgresql":
        _copy_rows(conn, "cases", added)
    elif added:
        conn.execute(cases.insert(), added)
    if changed:
        fields = [name for name in changed[0] if name != "submission_id"]
        conn.execute(update(cases).where(cases.c.submission_id == bindparam("b_sid")).values(
            {name: bindparam(f"b_{name}") for name in fields}),
            [{"b_sid": row["submission_id"], **{f"b_{k}": row[k] for k in fields}}
             for row in changed])
    delta: dict[tuple[str, ...], int] = {}
    for row in fresh_cases:
        new = stats.count_key(row[k] for k in schema.COUNT_KEY)
        delta[new] = delta.get(new, 0) + 1
        old = before.get(row["submission_id"])
        if old is not None:
            old_key = stats.count_key(old)
            delta[old_key] = delta.get(old_key, 0) - 1
    stats.add_counts(conn, delta)
