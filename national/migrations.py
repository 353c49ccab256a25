"""Versioned migrations: each a numbered step applied once, in order, in its own transaction,
and recorded in `schema_migrations`. `onesend-server migrate --sql` prints the DDL a step would
run, for a DBA to read before it is applied.

Version 1 is the schema of `national/schema.py` as first released; later steps are written
here as explicit changes (ALTER TABLE ...), never by editing version 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.schema import CreateIndex, CreateTable

from contract.canonical import now_iso
from national import schema, stats


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


_ADDED_LATER = ("case_counts",)  # version 2


def _initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, checkfirst=True, tables=[
        table for table in schema.metadata.sorted_tables if table.name not in _ADDED_LATER])


def _case_counts(conn: Connection) -> None:
    """The sufficiency counts kept as revisions are stored, counted once from the cases."""
    schema.case_counts.create(conn, checkfirst=True)
    stats.rebuild_counts(conn)


MIGRATIONS = (
    Migration(1, "organisations, devices, officers, forms, submissions, cases, access log",
              _initial),
    Migration(2, "case_counts: the sufficiency figures kept as revisions are stored",
              _case_counts),
)
LATEST = MIGRATIONS[-1].version


def ddl(engine: Engine) -> str:
    """The tables and indexes of the latest version, for this database's dialect (version 2
    adds `case_counts` and fills it from `cases`)."""
    out = []
    for table in schema.metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=engine.dialect)).strip() + ";")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            out.append(str(CreateIndex(index).compile(dialect=engine.dialect)).strip() + ";")
    return "\n\n".join(out) + "\n"


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_migrations"):
            return 0
        found = conn.execute(select(schema.schema_migrations.c.version)).scalars().all()
    return max(found, default=0)


def migrate(engine: Engine) -> list[int]:
    """Apply the steps this database lacks; the versions applied. Safe to run from several
    processes at once (PostgreSQL: an advisory lock; SQLite: a write transaction)."""
    applied = []
    for step in MIGRATIONS:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(74210014)"))
            schema.schema_migrations.create(conn, checkfirst=True)
            done = conn.execute(select(schema.schema_migrations.c.version).where(
                schema.schema_migrations.c.version == step.version)).first()
            if done is not None:
                continue
            step.apply(conn)
            conn.execute(schema.schema_migrations.insert().values(
                version=step.version, name=step.name, applied_at=now_iso()))
            applied.append(step.version)
    return applied
