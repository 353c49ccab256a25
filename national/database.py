"""The service's database engine: PostgreSQL (a pool per worker process) or SQLite (the laptop
reference, one file in the data folder, one writer at a time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

SQLITE_FILE = "server.db"


def make_engine(database: str | None, data_dir: Path, *, pool_size: int = 8) -> Engine:
    """PostgreSQL when `database` is a postgresql:// URL; else SQLite in the data folder."""
    if database and database.startswith(("postgresql", "postgres")):
        url = database.replace("postgres://", "postgresql://", 1)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                             pool_pre_ping=True)
    path = Path(database[len("sqlite:///"):]) if database else data_dir / SQLITE_FILE
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions begin as below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one writer at a time, no upgrade deadlock

    return engine
