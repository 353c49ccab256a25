"""The national service: exactly once under racing workers, tenants and roles, reads that are
logged, figures that are suppressed. Every test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import event
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine

from national import Faults, ServerConfig, ServerThread, stats
from national.stats import suppress
from national.store import make_engine
from tests.national.conftest import (
    CHILD_NAME,
    HEADERS,
    Client,
    enrol_device,
    item,
    officer,
    tenants,
)


def stored_rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    """What the service's database holds, read as an operator would (plain SQL)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sql_text(sql))]



def test_a_batch_is_stored_once_and_a_repeat_is_a_duplicate(service: ServerThread) -> None:
    device = enrol_device(service, "default")
    items = [item() for _ in range(5)]
    first = device.batch(*items).json()["results"]
    assert [r["status"] for r in first] == ["accepted"] * 5
    again = device.batch(*items).json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 5
    assert [r["receipt"] for r in again] == [r["receipt"] for r in first]
    assert len(service.store.holdings()) == 5


def test_two_workers_racing_with_the_same_revisions_store_each_once(
    database: str | None, tmp_path: Path
) -> None:
    """Two workers (each its own application and connection pool, one database) receive the
    same batch at the same moment, again and again: each revision is stored once, and both
    answers carry the one receipt."""
    data = tmp_path / "national"
    one = ServerThread(ServerConfig(data, database=database, faults=Faults(seed=1))).start()
    two = ServerThread(ServerConfig(data, database=database, faults=Faults(seed=2))).start()
    try:
        device = enrol_device(one, "default")
        other = Client(two.url, device.session.headers["Authorization"].split(" ", 1)[1])
        for _round in range(4):
            items = [item() for _ in range(30)]
            barrier = threading.Barrier(2)
            answers: dict[str, Any] = {}

            def send(name: str, client: Client, items: list[dict[str, Any]] = items,
                     barrier: threading.Barrier = barrier,
                     answers: dict[str, Any] = answers) -> None:
                barrier.wait()
                answers[name] = client.batch(*items).json()["results"]

            def send_reversed(name: str, client: Client, items: list[dict[str, Any]] = items,
                              barrier: threading.Barrier = barrier,
                              answers: dict[str, Any] = answers) -> None:
                barrier.wait()  # the same items the other way round: no deadlock either
                answers[name] = client.batch(*reversed(items)).json()["results"][::-1]

            threads = [threading.Thread(target=send, args=("one", device)),
                       threading.Thread(target=send_reversed if _round % 2 else send,
                                        args=("two", other))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            results = [answers[n] for n in ("one", "two")]
            for a, b in zip(*results, strict=True):
                assert {a["status"], b["status"]} <= {"accepted", "duplicate"}
                assert "accepted" in {a["status"], b["status"]}
                assert a["receipt"] == b["receipt"]
        held = one.store.holdings()
        assert len(held) == 120
        assert len({(sid, rev) for sid, rev, _ in held}) == 120
        # The kept sufficiency counts count each case once too.
        with one.store.engine.connect() as conn:
            assert stats.sufficiency(conn, None, threshold=1)["total"] == 120
            assert (stats.sufficiency(conn, None, threshold=1)
                    == stats.sufficiency(conn, None, threshold=1, source="cases"))
    finally:
        two.stop()
        one.stop()


def test_a_batch_asks_the_database_the_same_number_of_times_whatever_its_size(
    service: ServerThread,
) -> None:
    """No query per record: a batch of 40 new and 40 revised records takes as many
    statements as a batch of 2 and 2."""
    device = enrol_device(service, "default")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split(None, 1)[0])

    engine = service.store.engine
    asked = []
    for size in (2, 40):
        first = [item() for _ in range(size)]
        assert device.batch(*first).status_code == 200
        again = [{**record, "revision": 2, "base_revision": 1} for record in first]
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            answer = device.batch(*again, *[item() for _ in range(size)])
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert [r["status"] for r in answer.json()["results"]] == ["accepted"] * (2 * size)
        asked.append(list(statements))
    assert asked[0] == asked[1]
    assert len(asked[1]) <= 12


def test_an_la_officer_reads_only_children_of_their_la_or_placed_in_it(
    service: ServerThread,
) -> None:
    tenants(service)
    school_204 = enrol_device(service, "100010")
    school_839 = enrol_device(service, "100020")
    ours = item(home_la="204", setting_la="204")
    placed_here = item(home_la="839", setting_la="204")  # an 839 child at a 204 school
    theirs = item(home_la="839", setting_la="839")
    assert school_204.batch(ours, placed_here).status_code == 200
    assert school_839.batch(theirs).status_code == 200
    la_204 = officer(service, "la_officer", "204")

    listed = la_204.get("/v1/la/cases").json()["items"]
    assert {c["submission_id"] for c in listed} == {ours["submission_id"],
                                                     placed_here["submission_id"]}
    # Filters narrow the LA's own list; none reaches past it.
    for params in ({"kind": "ehc_request"}, {"status": "plan_recommended"},
                   {"overdue": "true"}, {"overdue": "false"}, {"after": ""}):
        found = {c["submission_id"] for c in la_204.get("/v1/la/cases", **params)
                 .json()["items"]}
        assert theirs["submission_id"] not in found
    # By id guessing: another LA's record answers as one that does not exist.
    for path in (f"/v1/la/cases/{theirs['submission_id']}",
                 f"/v1/la/cases/{theirs['submission_id']}/receipts"):
        refused = la_204.get(path, why="statutory_assessment")
        assert refused.status_code == 404
        assert refused.json()["type"].endswith(":not-found")
    read = la_204.get(f"/v1/la/cases/{placed_here['submission_id']}",
                      why="placement_planning").json()
    assert read["revisions"][0]["payload"] == placed_here["payload"]
    # The device endpoints are not theirs: no manifest, no latest, no submitting.
    assert la_204.get("/v1/manifest").status_code == 403
    assert la_204.get(f"/v1/submissions/{theirs['submission_id']}/latest").status_code == 403
    assert la_204.batch(item()).status_code == 403
    # Statistics: only their own LA, whatever they ask.
    assert la_204.get("/v1/stats/sufficiency", la="839").status_code == 403
    figures = la_204.get("/v1/stats/sufficiency").json()
    assert {row["la"] for row in figures["rows"]} == {"204"}
    assert figures["scope"] == "204"


def test_every_read_of_a_record_is_logged_with_its_reason(service: ServerThread) -> None:
    tenants(service)
    school = enrol_device(service, "100010")
    record = item(home_la="204", setting_la="204")
    school.batch(record)
    la_204 = officer(service, "la_officer", "204", name="A. Officer")
    la_839 = officer(service, "la_officer", "839")
    path = f"/v1/la/cases/{record['submission_id']}"
    no_reason = la_204.get(path)
    assert no_reason.status_code == 400
    assert la_204.get("/v1/la/access-log").json()["items"] == []  # refused: nothing read
    assert la_204.get(path, why="annual_review").status_code == 200
    assert la_204.get(path + "/receipts", why="data_quality").status_code == 200
    log = la_204.get("/v1/la/access-log").json()["items"]
    assert [(e["submission_id"], e["action"], e["why"]) for e in log] == [
        (record["submission_id"], "read_record", "annual_review"),
        (record["submission_id"], "read_receipts", "data_quality")]
    assert all(e["officer"] and e["at"] for e in log)
    assert la_839.get("/v1/la/access-log").json()["items"] == []


def test_an_analyst_gets_figures_and_never_an_identifier(service: ServerThread) -> None:
    tenants(service)
    school = enrol_device(service, "100010")
    records = ([item(home_la="204") for _ in range(7)] + [item(home_la="839")]
               + [item(home_la="301") for _ in range(9)])
    school.batch(*records)
    analyst = officer(service, "analyst", None)
    bodies = [analyst.get("/v1/stats/sufficiency").text,
              analyst.get("/v1/stats/sufficiency", format="csv").text,
              analyst.get("/v1/stats/sufficiency", year="nc_year").text,
              analyst.get("/v1/stats/requests").text,
              analyst.get("/v1/stats/requests", format="csv").text,
              analyst.get("/v1/stats/page").text]
    answers = records[0]["payload"]["answers"]
    for body in bodies:
        assert CHILD_NAME not in body
        assert answers["child"]["upn"] not in body
        assert answers["child"]["date_of_birth"] not in body
        for record in records:
            assert record["submission_id"] not in body
    figures = json.loads(bodies[0])
    by_la = {row["la"]: row["count"] for row in figures["la_totals"]}
    # One child in 839: suppressed; and so is the next smallest LA, or 17 - 9 - 7 gives it.
    assert by_la == {"204": "c", "839": "c", "301": 9}
    assert figures["total"] == 17
    assert "<svg" in bodies[-1]
    # No record reads at all for an analyst.
    assert analyst.get(f"/v1/la/cases/{records[0]['submission_id']}",
                       why="data_quality").status_code == 403
    assert analyst.get("/v1/la/cases").status_code == 403
    assert analyst.get("/v1/manifest").status_code == 403


def test_revoked_and_expired_tokens_are_refused(service: ServerThread) -> None:
    tenants(service)
    officer_id, token = service.store.issue_token("la_officer", "204")
    la_204 = Client(service.url, token)
    assert la_204.get("/v1/la/cases").status_code == 200
    assert service.store.revoke(officer_id)
    refused = la_204.get("/v1/la/cases")
    assert refused.status_code == 401
    assert refused.json()["type"].endswith(":token-invalid")
    _id, short = service.store.issue_token("analyst", None, ttl=60)
    analyst = Client(service.url, short)
    assert analyst.get("/v1/stats/sufficiency").status_code == 200
    real = service.store.clock
    service.store.clock = lambda: real() + 61
    expired = analyst.get("/v1/stats/sufficiency")
    assert expired.status_code == 401
    assert expired.json()["type"].endswith(":token-expired")
    # Tokens are stored keyed, never as themselves.
    stored = stored_rows(service.store.engine, "SELECT token_hash FROM officers")
    assert all(token not in str(row) and short not in str(row) for row in stored)


def test_a_device_or_trust_officer_writes_only_for_its_own_settings(
    service: ServerThread,
) -> None:
    tenants(service)
    school_839 = enrol_device(service, "100020")
    record = item(home_la="839", setting_la="839")
    school_839.batch(record)
    school_204 = enrol_device(service, "100010")
    # A device's setting is the one it enrolled for: naming another changes nothing.
    school_204.session.headers["OneSEND-Setting"] = "100020"
    later = item(home_la="839", sid=record["submission_id"], revision=2, base=1)
    result = school_204.batch(later).json()["results"][0]
    assert result["status"] == "rejected"
    assert result["problem"]["status"] == 403
    # A trust officer syncs for the trust's settings, and for no other.
    _id, token = service.store.issue_token("trust_officer", "trust-1")
    for_school = Client(service.url, token, setting="100010")
    answer = for_school.batch(item()).json()["results"][0]
    assert answer["status"] == "accepted"
    outside = Client(service.url, token, setting="100020")
    assert outside.batch(item()).status_code == 403
    assert Client(service.url, token).batch(item()).status_code == 403
    assert len(service.store.holdings()) == 2


def test_health_and_readiness(service: ServerThread) -> None:
    assert requests.get(service.url + "/health", timeout=10).json() == {"status": "ok"}
    ready = requests.get(service.url + "/ready", timeout=10)
    assert ready.status_code == 200
    # The database goes away (a PostgreSQL where nothing listens): not ready, still alive.
    working = service.store.engine
    service.store.engine = make_engine("postgresql://onesend@127.0.0.1:1/gone", Path(),
                                       pool_size=1)
    try:
        gone = requests.get(service.url + "/ready", timeout=30)
        assert gone.status_code == 503
        assert gone.json()["type"].endswith(":not-ready")
        assert requests.get(service.url + "/health", timeout=10).status_code == 200
    finally:
        service.store.engine.dispose()
        service.store.engine = working


def test_small_numbers_are_suppressed_and_a_total_cannot_give_them_back() -> None:
    rows = [{"la": "204", "need": "ASD", "count": 12},
            {"la": "204", "need": "SLCN", "count": 3},
            {"la": "204", "need": "MLD", "count": 6},
            {"la": "204", "need": "PMLD", "count": 0},
            {"la": "839", "need": "ASD", "count": 2},
            {"la": "839", "need": "SLCN", "count": 1},
            {"la": "839", "need": "MLD", "count": 20}]
    shown = {(r["la"], r["need"]): r["count"] for r in suppress(rows, ["count"])}
    assert shown[("204", "SLCN")] == "c"
    assert shown[("204", "MLD")] == "c"  # secondary: else 21 - 12 - 6 gives 3
    assert shown[("204", "ASD")] == 12
    assert shown[("204", "PMLD")] == 0
    assert shown[("839", "ASD")] == shown[("839", "SLCN")] == "c"
    assert shown[("839", "MLD")] == 20  # two hidden already: neither can be worked out


def test_a_device_still_syncs_with_headers_of_today(service: ServerThread) -> None:
    """The client's own requests, unchanged: enrol, forms, manifest, latest."""
    device = enrol_device(service, "default")
    record = item()
    device.batch(record)
    assert device.get("/v1/forms").status_code == 200
    page = device.get("/v1/manifest").json()
    assert [i["submission_id"] for i in page["items"]] == [record["submission_id"]]
    latest = device.get(f"/v1/submissions/{record['submission_id']}/latest").json()
    assert latest["payload"] == record["payload"]
    assert time.time() > 0
    assert HEADERS
