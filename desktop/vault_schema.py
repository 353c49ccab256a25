"""The vault's schema: MIGRATIONS[n] takes a database from user_version n to n + 1.

Each migration runs inside the transaction `Vault` opens for it (desktop/vault.py); a
`KeyedMigration` also needs the profile's cipher (the MACs of desktop/integrity.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from desktop import integrity
from desktop.crypto import RecordCipher
from desktop.record_status import OutboxState, sql_list


def _schema_v1(conn: sqlite3.Connection) -> None:
    db = sqlite_utils.Database(conn)
    db.execute(
        """CREATE TABLE assessments (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            current_revision INTEGER NOT NULL,
            status TEXT NOT NULL,
            upn_index BLOB,
            summary BLOB NOT NULL
        )"""
    )
    db.execute("CREATE INDEX assessments_upn_index ON assessments(upn_index)")
    db.execute(
        """CREATE TABLE revisions (
            assessment_id TEXT NOT NULL REFERENCES assessments(id),
            revision INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            author TEXT NOT NULL,
            action TEXT NOT NULL,
            status TEXT NOT NULL,
            form TEXT NOT NULL,
            form_version TEXT NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY (assessment_id, revision)
        ) WITHOUT ROWID"""
    )
    # Revisions are append-only: the store itself refuses to rewrite history.
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER revisions_no_{event.lower()} BEFORE {event} ON revisions
            BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END"""
        )
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            profile TEXT NOT NULL,
            action TEXT NOT NULL,
            assessment_id TEXT
        )"""
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _schema_v2_sync(conn: sqlite3.Connection) -> None:
    """The outbox of finalised revisions, what the server last acknowledged, sealed secrets."""
    db = sqlite_utils.Database(conn)
    # One row per finalised revision: its identity (assessment id + revision) and payload hash
    # are fixed here, so every retry is recognisably the same delivery.
    db.execute(
        f"""CREATE TABLE outbox (
            assessment_id TEXT NOT NULL REFERENCES assessments(id),
            revision INTEGER NOT NULL,
            base_revision INTEGER,
            form TEXT NOT NULL,
            form_version TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            sign_off BLOB NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                {sql_list(OutboxState)}),
            queued_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            acknowledged_at TEXT,
            receipt BLOB,
            reasons BLOB,
            PRIMARY KEY (assessment_id, revision),
            FOREIGN KEY (assessment_id, revision) REFERENCES revisions(assessment_id, revision)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX outbox_state ON outbox(state, queued_at)")
    # The latest revision the server is known to hold, per assessment: the next one's base.
    db.execute(
        """CREATE TABLE sync_heads (
            assessment_id TEXT PRIMARY KEY REFERENCES assessments(id),
            server_revision INTEGER NOT NULL
        )"""
    )
    # Form definitions fetched from the server, with the signature checked again on load.
    db.execute(
        """CREATE TABLE form_definitions (
            form TEXT NOT NULL,
            version TEXT NOT NULL,
            definition TEXT NOT NULL,
            signature TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (form, version)
        )"""
    )
    # Secrets (the device token, the server's keys): each sealed, bound to its name.
    db.execute(
        """CREATE TABLE secrets (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )


def _schema_v3_columns(conn: sqlite3.Connection) -> None:
    """A MAC on every row's metadata (desktop/integrity.py), and the list's own columns."""
    for column in ("revision_count INTEGER", "form TEXT", "form_version TEXT", "tip BLOB",
                   "mac BLOB"):
        conn.execute(f"ALTER TABLE assessments ADD COLUMN {column}")
    for table in ("revisions", "outbox", "sync_heads", "audit"):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN mac BLOB")
    # What the list reads of the revisions: small, so it never touches the sealed bodies.
    conn.execute("CREATE INDEX revisions_chain ON revisions(assessment_id, revision, mac)")


def _schema_v3_macs(conn: sqlite3.Connection, cipher: RecordCipher) -> None:
    """MAC what an older version wrote (trusted as found: it was not authenticated before)."""
    mac_every_row(conn, cipher)


def mac_every_row(conn: sqlite3.Connection, cipher: RecordCipher) -> None:
    """Compute every row's MAC, the audit chain and the vault state afresh, in `conn`'s
    transaction: after the schema 3 migration, and after re-keying (each checks first)."""
    conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
    tips: dict[str, tuple[int, bytes]] = {}
    previous: tuple[str, bytes] | None = None
    for row in conn.execute(
        "SELECT assessment_id, revision, created_at, author, action, status, form, "
        "form_version, CAST(body AS BLOB) FROM revisions ORDER BY assessment_id, revision"
    ).fetchall():
        record_id, revision = str(row[0]), int(row[1])
        prior = previous[1] if previous is not None and previous[0] == record_id else None
        created_at, author, action, status, form, form_version, body = row[2:]
        mac = integrity.revision_mac(cipher, record_id, revision, created_at, author, action,
                                     status, form, form_version, body, prior)
        conn.execute("UPDATE revisions SET mac = ? WHERE assessment_id = ? AND revision = ?",
                     (mac, record_id, revision))
        previous = (record_id, mac)
        tips[record_id] = (tips.get(record_id, (0, b""))[0] + 1, mac)
    _create_revision_update_trigger(conn)
    heads = integrity.EMPTY
    for row in conn.execute(
        "SELECT a.id, a.created_at, a.updated_at, a.current_revision, a.status, "
        "CAST(a.upn_index AS BLOB), r.form, r.form_version, CAST(a.summary AS BLOB) "
        "FROM assessments a JOIN revisions r ON r.assessment_id = a.id "
        "AND r.revision = a.current_revision"
    ).fetchall():
        count, tip = tips[str(row[0])]
        head = integrity.Head(str(row[0]), str(row[1]), str(row[2]), int(row[3]), count,
                              str(row[4]), row[5], str(row[6]), str(row[7]), bytes(row[8]),
                              tip, None)
        head_mac = head.compute_mac(cipher)
        heads = integrity.xor(heads, head_mac)
        conn.execute(
            "UPDATE assessments SET revision_count = ?, form = ?, form_version = ?, tip = ?, "
            "mac = ? WHERE id = ?",
            (count, head.form, head.form_version, tip, head_mac, head.id))
    for row in conn.execute(
        f"SELECT {integrity.OUTBOX_MAC_COLUMNS} FROM outbox"  # noqa: S608 - constant
    ).fetchall():
        conn.execute("UPDATE outbox SET mac = ? WHERE assessment_id = ? AND revision = ?",
                     (integrity.outbox_mac(cipher, row), row[0], row[1]))
    for aid, server_revision in conn.execute(
            "SELECT assessment_id, server_revision FROM sync_heads").fetchall():
        conn.execute("UPDATE sync_heads SET mac = ? WHERE assessment_id = ?",
                     (integrity.sync_head_mac(cipher, aid, int(server_revision)), aid))
    prior_mac: bytes | None = None
    last_id = 0
    for entry_id, at, profile, action, aid in conn.execute(
            "SELECT id, at, profile, action, assessment_id FROM audit ORDER BY id").fetchall():
        prior_mac = integrity.audit_mac(cipher, int(entry_id), at, profile, action, aid,
                                        prior_mac)
        conn.execute("UPDATE audit SET mac = ? WHERE id = ?", (prior_mac, entry_id))
        last_id = int(entry_id)
    records = int(conn.execute("SELECT count(*) FROM assessments").fetchone()[0])
    state = integrity.VaultState(records, heads, last_id, prior_mac)
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (integrity.STATE_KEY, state.to_text(cipher)))


def _create_revision_update_trigger(conn: sqlite3.Connection) -> None:
    # Revisions are append-only, but for one: the record's newest revision, when it is an
    # editing session's working revision (action `edit`), which each autosave of that session
    # replaces (re-MAC'd on the same chain link). Every other revision — sign-off, import,
    # restore, amendment, migration, an earlier session — can never be rewritten.
    conn.execute(
        """CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
        WHEN NOT (old.action = 'edit' AND new.action = 'edit'
                  AND new.assessment_id = old.assessment_id AND new.revision = old.revision
                  AND old.revision = (SELECT max(revision) FROM revisions
                                      WHERE assessment_id = old.assessment_id))
        BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END"""
    )


def _schema_v4_working_revision(conn: sqlite3.Connection) -> None:
    """Autosaves of one editing session replace its working revision (see above)."""
    conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
    _create_revision_update_trigger(conn)


@dataclass(frozen=True)
class KeyedMigration:
    """A migration step that needs the profile's keys (to compute MACs); it runs at unlock."""

    plain: Callable[[sqlite3.Connection], None]
    keyed: Callable[[sqlite3.Connection, RecordCipher], None]

    def run(self, conn: sqlite3.Connection, cipher: RecordCipher) -> None:
        self.plain(conn)
        self.keyed(conn, cipher)


Migration = Callable[[sqlite3.Connection], None] | KeyedMigration
# MIGRATIONS[n] takes a database from user_version n to n + 1.
MIGRATIONS: tuple[Migration, ...] = (
    _schema_v1, _schema_v2_sync, KeyedMigration(_schema_v3_columns, _schema_v3_macs),
    _schema_v4_working_revision,
)
