"""Sufficiency and place-planning figures, with small numbers suppressed.

Counts are of cases (each submission's latest revision). A cell from 1 to THRESHOLD - 1 is
shown as `c` ("confidential", the Government Statistical Service's symbol that DfE's official
statistics use), and so that a published total cannot give it back, secondary suppression:
where a group (one LA's cells, or the LAs of the national total) would have exactly one
suppressed cell, the next smallest non-zero cell of the group is suppressed too. Zeros are
shown: they identify nobody.

The sufficiency figures are read from `case_counts`, the counts kept as each revision is
stored (national/ingest.py), so the query at national scale groups thousands of rows, not
millions; `sufficiency(..., source="cases")` is the same figures counted over `cases`, and the
tests hold the two equal.
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, case, func, select

from national import schema

# The suppression threshold: counts from 1 to THRESHOLD - 1 are shown as `c`. A setting
# (`onesend-server serve --suppression-threshold N`, ServerConfig.suppression_threshold),
# default 5. What is sourced and what is not:
# - Sourced: `c` is the symbol for confidential data in the Government Statistical Service's
#   guidance on symbols in tables, and the one DfE's official statistics use on Explore
#   Education Statistics (the SEN2 release, "Education, health and care plans";
#   methodology: https://explore-education-statistics.service.gov.uk/methodology/
#   education-health-and-care-plans).
# - Not verified: DfE's exact threshold for SEN2. We did not find the number in the sources
#   we could read; 5 follows the common UK practice of protecting cell counts below 5 (the
#   ONS and Department of Health disclosure guidance as reported to us, not read here).
#   Check it with DfE's statistics team before publishing, and set it here if it differs.
THRESHOLD = 5
SUPPRESSED = "c"
TIMELINE_DIMENSIONS = ("la", "month")


def suppress(
    rows: Sequence[dict[str, Any]], measures: Sequence[str], group: str = "la",
    threshold: int = THRESHOLD, must_hide: dict[str, set[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows with small counts replaced by `c`, per group and measure. Primary: every count
    from 1 to threshold - 1. Secondary, so the group's published total cannot give them back:
    while a group has exactly one hidden cell, or its hidden cells add up to no more than
    their number (then each is known to be 1, since zeros are shown and a `c` is not 0), the
    smallest shown non-zero cell is hidden too. A group named in `must_hide`
    (one whose own total is hidden) hides at least one cell, so its cells cannot add up to
    that total."""
    out = [dict(row) for row in rows]
    groups: dict[Any, list[int]] = defaultdict(list)
    for index, row in enumerate(out):
        groups[row.get(group)].append(index)
    for measure in measures:
        forced = (must_hide or {}).get(measure, set())
        for key, members in groups.items():
            hidden = [i for i in members if 0 < out[i][measure] < threshold]
            shown = sorted((out[i][measure], i) for i in members
                           if out[i][measure] >= threshold)
            if not hidden and key in forced and shown:
                hidden.append(shown.pop(0)[1])
            while hidden and shown and (
                    len(hidden) == 1 or sum(out[i][measure] for i in hidden) <= len(hidden)):
                hidden.append(shown.pop(0)[1])
            for index in hidden:
                out[index][measure] = SUPPRESSED
    return out


def publish(
    rows: Sequence[dict[str, Any]], la_rows: Sequence[dict[str, Any]],
    measures: Sequence[str], la: str | None, threshold: int = THRESHOLD,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(cells, LA totals, total) as published. `la_rows` are every LA's totals, whatever the
    scope, so that an LA's figures are suppressed exactly as in England's (else asking for
    one LA would give back a total that England's figures hid). An LA total that is hidden
    hides at least one of that LA's cells too."""
    la_shown = suppress([{**row, "_all": 0} for row in la_rows], measures, group="_all",
                        threshold=threshold)
    for row in la_shown:
        row.pop("_all", None)
    hidden_las = {m: {row["la"] for row in la_shown if row[m] == SUPPRESSED}
                  for m in measures}
    cells = suppress(rows, measures, threshold=threshold, must_hide=hidden_las)
    if la is not None:
        la_shown = [row for row in la_shown if row["la"] == la]
        total: dict[str, Any] = (dict(la_shown[0]) if la_shown
                                 else dict.fromkeys(measures, 0))
        total.pop("la", None)
        return cells, la_shown, total
    overall = {m: sum(int(r[m]) for r in la_rows) for m in measures}
    return cells, la_shown, {m: (SUPPRESSED if 0 < overall[m] < threshold else overall[m])
                             for m in measures}


def count_key(values: Iterable[Any]) -> tuple[str, ...]:
    """A case's combination of COUNT_KEY values as `case_counts` holds it (absent: '')."""
    return tuple("" if value is None else str(value) for value in values)


def add_counts(conn: Connection, delta: dict[tuple[str, ...], int]) -> None:
    """Move cases between combinations: one upsert, in key order (so two batches lock the
    counts they share in the same order)."""
    counts = schema.case_counts
    rows = [{**dict(zip(schema.COUNT_KEY, key, strict=True)), "n": change}
            for key, change in sorted(delta.items()) if change]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # noqa: PLC0415
    statement = insert(counts)
    conn.execute(statement.on_conflict_do_update(
        index_elements=list(schema.COUNT_KEY), set_={"n": counts.c.n + statement.excluded.n}),
        rows)


def rebuild_counts(conn: Connection) -> None:
    """`case_counts` counted afresh from `cases` (migration 2; a bulk load)."""
    cases, counts = schema.cases, schema.case_counts
    keys = [func.coalesce(cases.c[name], "") for name in schema.COUNT_KEY]
    conn.execute(counts.delete())
    conn.execute(counts.insert().from_select(
        [*schema.COUNT_KEY, "n"], select(*keys, func.count()).group_by(*keys)))


def _cells(conn: Connection, la: str | None, year_by: str, source: str) -> list[dict[str, Any]]:
    """The sufficiency cells, from the kept counts or counted over `cases`, in one order."""
    table = schema.case_counts if source == "counts" else schema.cases
    year_col = table.c.nc_year if year_by == "nc_year" else table.c.phase
    columns = [table.c.home_la.label("la"), table.c.primary_need,
               table.c.current_setting_type, table.c.recommended_setting_type,
               year_col.label(year_by), table.c.academic_year]
    measure = func.sum(table.c.n) if source == "counts" else func.count()
    query = select(*columns, measure.label("count")).group_by(*columns)
    if source == "counts":
        query = query.where(table.c.n > 0)
    if la is not None:
        query = query.where(table.c.home_la == la)
    rows = []
    for row in conn.execute(query):
        cell: dict[str, Any] = {name: (None if value == "" else value)
                                for name, value in row._mapping.items()}
        cell["count"] = int(row._mapping["count"])
        rows.append(cell)
    rows.sort(key=lambda cell: tuple("" if cell[name] is None else str(cell[name])
                                     for name in cell if name != "count"))
    return rows


def sufficiency(
    conn: Connection, la: str | None, year_by: str = "phase", *, threshold: int = THRESHOLD,
    source: str = "counts",
) -> dict[str, Any]:
    """Counts by LA by primary need by current and recommended setting type by phase (or NC
    year) by academic year a place is needed."""
    rows = _cells(conn, la, year_by, source)
    table = schema.case_counts if source == "counts" else schema.cases
    measure = func.sum(table.c.n) if source == "counts" else func.count()
    query = select(table.c.home_la, measure).group_by(table.c.home_la)
    if source == "counts":
        query = query.where(table.c.n > 0)
    la_rows = sorted(({"la": None if found == "" else found, "count": int(n)}
                      for found, n in conn.execute(query)), key=lambda r: str(r["la"] or ""))
    cells, la_totals, total = publish(rows, la_rows, ("count",), la, threshold)
    return {"dimensions": ["la", "primary_need", "current_setting_type",
                           "recommended_setting_type", year_by, "academic_year"],
            "threshold": threshold, "suppressed_as": SUPPRESSED, "scope": la or "england",
            "rows": cells, "la_totals": la_totals, "total": total["count"]}


def timeline(conn: Connection, la: str | None, *, threshold: int = THRESHOLD) -> dict[str, Any]:
    """EHC needs assessment requests and plans recommended, by LA and month."""
    cases = schema.cases
    requests = func.sum(case((cases.c.kind == "ehc_request", 1), else_=0))
    plans = func.sum(case((cases.c.plan_needed.is_(True), 1), else_=0))
    sums = (func.coalesce(requests, 0).label("requests"), func.coalesce(plans, 0).label("plans"))
    query = select(cases.c.home_la.label("la"), cases.c.event_month.label("month"), *sums
                   ).where(cases.c.event_month.is_not(None))
    if la is not None:
        query = query.where(cases.c.home_la == la)
    rows = [{**dict(row._mapping), "requests": int(row.requests), "plans": int(row.plans)}
            for row in conn.execute(query.group_by(cases.c.home_la, cases.c.event_month))]
    rows.sort(key=lambda r: (str(r["la"] or ""), str(r["month"])))
    la_rows = sorted(({"la": row.la, "requests": int(row.requests), "plans": int(row.plans)}
                      for row in conn.execute(select(cases.c.home_la.label("la"), *sums)
                                              .where(cases.c.event_month.is_not(None))
                                              .group_by(cases.c.home_la))),
                     key=lambda r: str(r["la"] or ""))
    cells, la_totals, total = publish(rows, la_rows, ("requests", "plans"), la, threshold)
    return {"dimensions": list(TIMELINE_DIMENSIONS), "threshold": threshold,
            "suppressed_as": SUPPRESSED, "scope": la or "england",
            "rows": cells, "la_totals": la_totals, "total": total}


def to_csv(figures: dict[str, Any]) -> str:
    rows = figures["rows"]
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


def _bars(pairs: Sequence[tuple[str, Any]], title: str) -> str:
    """A plain SVG bar chart; a suppressed bar is drawn empty and labelled c."""
    numbers = [v for _, v in pairs if isinstance(v, int)]
    top = max(numbers, default=1) or 1
    height = 22 * len(pairs) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">']
    for n, (label, value) in enumerate(pairs):
        y = 20 + 22 * n
        width = int(400 * value / top) if isinstance(value, int) else 0
        parts.append(f'<text x="0" y="{y + 14}" font-size="13">{html.escape(str(label))}'
                     "</text>")
        parts.append(f'<rect x="200" y="{y}" width="{width}" height="16" fill="#1d70b8"/>')
        parts.append(f'<text x="{206 + width}" y="{y + 14}" font-size="13">'
                     f"{html.escape(str(value))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def page(suff: dict[str, Any], time_: dict[str, Any]) -> str:
    """A short page a person can read: totals by LA and by need, requests over time."""
    by_need: dict[str, int] = defaultdict(int)
    for row in suff["rows"]:
        if isinstance(row["count"], int):
            by_need[str(row["primary_need"] or "not recorded")] += row["count"]
    months = [(str(r["month"]), r["requests"]) for r in time_["rows"]][-24:]
    scope = html.escape(str(suff["scope"]))
    rows = "".join(f"<tr><td>{html.escape(str(r['la']))}</td><td>{html.escape(str(r['count']))}"
                   "</td></tr>" for r in suff["la_totals"])
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>OneSEND sufficiency: {scope}</title></head><body>"
        f"<h1>Children with assessments: {scope}</h1>"
        f"<p>Total: {html.escape(str(suff['total']))}. Counts from 1 to "
        f"{suff['threshold'] - 1} are "
        f"shown as <strong>{SUPPRESSED}</strong>, and so is one more where a total would "
        "give them away.</p>"
        "<h2>By home local authority</h2><table><tr><th>LA</th><th>Children</th></tr>"
        f"{rows}</table>"
        "<h2>By primary need (published cells only)</h2>"
        f"{_bars(sorted(by_need.items()), 'Children by primary need')}"
        "<h2>EHC needs assessment requests by month</h2>"
        f"{_bars(months, 'Requests by month')}"
        "</body></html>")
