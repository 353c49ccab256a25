"""The sufficiency figures: the counts kept as revisions are stored equal a count over the
cases (both backends), migration 2 counts what a version-1 database holds, the suppression
threshold is a setting, and secondary suppression leaves no hidden count to work out."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from contract.canonical import payload_hash
from national import ServerConfig, ServerThread, schema, stats
from national.migrations import MIGRATIONS, migrate
from national.stats import SUPPRESSED, suppress
from national.store import make_engine
from tests.national.conftest import enrol_device, item, officer, tenants


def revised(record: dict[str, Any], *, home_la: str | None = None,
            need: str | None = None) -> dict[str, Any]:
    """The next revision of `record`, perhaps with another home LA or primary need."""
    payload = copy.deepcopy(record["payload"])
    if home_la is not None:
        payload["answers"]["child"]["home_la"] = home_la
    if need is not None:
        payload["answers"]["needs"]["primary_need"] = need
    return {**record, "revision": record["revision"] + 1, "base_revision": record["revision"],
            "payload": payload, "payload_hash": payload_hash(payload)}


def both_ways(engine: Engine, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    with engine.connect() as conn:
        return (stats.sufficiency(conn, source="counts", **kwargs),
                stats.sufficiency(conn, source="cases", **kwargs))


def assert_counts_equal_cases(engine: Engine) -> None:
    for la in (None, "204", "839", "301"):
        for year_by in ("phase", "nc_year"):
            for threshold in (1, 5):  # 1: every count as it is; 5: as published
                kept, counted = both_ways(engine, la=la, year_by=year_by,
                                          threshold=threshold)
                assert kept == counted, (la, year_by, threshold)


def test_kept_counts_equal_a_count_over_the_cases(service: ServerThread) -> None:
    tenants(service)
    school = enrol_device(service, "100010")
    first = ([item(home_la="204") for _ in range(6)] + [item(home_la="839") for _ in range(3)]
             + [item(home_la="301")])
    assert school.batch(*first).status_code == 200
    # Revisions move cases between LAs and needs (one twice in a batch), or change nothing.
    moved = revised(first[0], home_la="839")
    second = [moved, revised(moved, need="ASD"), revised(first[1], need="ASD"),
              revised(first[6], home_la="204"), revised(first[9]), item(home_la="301")]
    answer = school.batch(*second)
    assert [r["status"] for r in answer.json()["results"]] == ["accepted"] * 6
    engine = service.store.engine
    assert_counts_equal_cases(engine)
    with engine.connect() as conn:
        raw = stats.sufficiency(conn, None, threshold=1)
    assert raw["total"] == 11
    assert {r["la"]: r["count"] for r in raw["la_totals"]} == {"204": 6, "839": 3, "301": 2}
    # A duplicate and a rejected item move nothing.
    school.batch(second[-1], {**item(), "payload_hash": "sha256:" + "0" * 64})
    assert_counts_equal_cases(engine)


def test_migration_2_counts_the_cases_a_version_1_database_holds(
    database: str | None, tmp_path: Path
) -> None:
    engine = make_engine(database, tmp_path)
    try:
        with engine.begin() as conn:
            schema.schema_migrations.create(conn)
            MIGRATIONS[0].apply(conn)
            conn.execute(schema.schema_migrations.insert().values(
                version=1, name=MIGRATIONS[0].name, applied_at="2026-01-01T00:00:00.000Z"))
            conn.execute(schema.cases.insert(), [
                {"submission_id": f"s{n}", "latest_seq": n, "revision": 1,
                 "setting": "default", "home_la": ("204", "839", None)[n % 3],
                 "primary_need": ("ASD", None)[n % 2], "nc_year": str(n % 4 + 1),
                 "phase": "primary", "academic_year": "2026/27",
                 "updated_at": "2026-01-01T00:00:00.000Z"} for n in range(40)])
        assert migrate(engine) == [2]
        assert_counts_equal_cases(engine)
        with engine.connect() as conn:
            assert stats.sufficiency(conn, None, threshold=1)["total"] == 40
    finally:
        engine.dispose()


def test_the_suppression_threshold_is_a_setting(database: str | None, tmp_path: Path) -> None:
    config = ServerConfig(tmp_path / "national", database=database, suppression_threshold=10,
                          pool_size=2)
    with ServerThread(config) as service:
        tenants(service)
        school = enrol_device(service, "100010")
        school.batch(*[item(home_la="204") for _ in range(7)],
                     *[item(home_la="839") for _ in range(12)],
                     *[item(home_la="301") for _ in range(15)])
        figures = officer(service, "analyst", None).get("/v1/stats/sufficiency").json()
        assert figures["threshold"] == 10
        by_la = {row["la"]: row["count"] for row in figures["la_totals"]}
        assert by_la == {"204": SUPPRESSED, "839": SUPPRESSED, "301": 15}
        with service.store.engine.connect() as conn:  # the default would show the 7
            default = stats.sufficiency(conn, None)
        assert {row["la"]: row["count"] for row in default["la_totals"]}["204"] == 7
        assert "Counts from 1 to 9" in officer(service, "analyst", None).get(
            "/v1/stats/page").text


def test_a_threshold_below_2_is_refused_with_one_sentence(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "national.cli", "--data", str(tmp_path / "d"), "serve",
         "--suppression-threshold", "1"], capture_output=True, text=True, timeout=60,
        check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == ("onesend-server: the suppression threshold is a count of "
                                   "2 or more.")
    assert not (tmp_path / "d").exists()  # nothing was made


def test_one_la_asked_alone_is_suppressed_as_in_england(service: ServerThread) -> None:
    tenants(service)
    school = enrol_device(service, "100010")
    school.batch(*[item(home_la="204") for _ in range(7)], item(home_la="839"),
                 *[item(home_la="301") for _ in range(9)])
    analyst = officer(service, "analyst", None)
    england = analyst.get("/v1/stats/sufficiency").json()
    alone = analyst.get("/v1/stats/sufficiency", la="204").json()
    # 839's one child is hidden, so 204's total is too (else 17 - 9 - 7 gives it back); and
    # so is 204's one cell, else it adds up to the hidden total. Asking for 204 alone must
    # not give the 7 back either.
    assert {r["la"]: r["count"] for r in england["la_totals"]} == {
        "204": SUPPRESSED, "839": SUPPRESSED, "301": 9}
    assert england["total"] == 17
    for figures in (england, alone):
        assert all(r["count"] == SUPPRESSED for r in figures["rows"] if r["la"] == "204")
    assert alone["total"] == SUPPRESSED
    assert alone["la_totals"] == [{"la": "204", "count": SUPPRESSED}]
    requests_alone = analyst.get("/v1/stats/requests", la="204").json()
    assert requests_alone["total"]["requests"] == SUPPRESSED


def test_hidden_cells_that_would_each_be_known_to_be_1_take_one_more() -> None:
    rows = [{"la": "204", "need": need, "count": count}
            for need, count in (("ASD", 1), ("SLCN", 1), ("MLD", 10), ("SEMH", 12))]
    shown = {r["need"]: r["count"] for r in suppress(rows, ["count"])}
    # 24 - 12 - 10 = 2 would make both hidden cells 1 (zeros are shown, so a c is not 0).
    assert shown == {"ASD": "c", "SLCN": "c", "MLD": "c", "SEMH": 12}
    rows = [{"la": "204", "need": need, "count": count}
            for need, count in (("ASD", 2), ("SLCN", 3), ("MLD", 10))]
    shown = {r["need"]: r["count"] for r in suppress(rows, ["count"])}
    assert shown == {"ASD": "c", "SLCN": "c", "MLD": 10}  # 5 hidden: 1+4, 2+3, ...
    rows = [{"la": "839", "need": need, "count": count}
            for need, count in (("ASD", 1), ("SLCN", 1), ("SEMH", 1), ("MLD", 7))]
    shown = {r["need"]: r["count"] for r in suppress(rows, ["count"])}
    assert shown == {"ASD": "c", "SLCN": "c", "SEMH": "c", "MLD": "c"}
    # A group whose own total is hidden hides a cell, and then one more.
    rows = [{"la": "204", "need": "ASD", "count": 6}, {"la": "204", "need": "MLD", "count": 8},
            {"la": "839", "need": "ASD", "count": 9}]
    shown_rows = suppress(rows, ["count"], must_hide={"count": {"204"}})
    assert [r["count"] for r in shown_rows] == ["c", "c", 9]
