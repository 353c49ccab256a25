"""The vault's SQLite store: durable transactions, migrations run, the audit log.

Every blob in it is sealed by a `RecordCipher`; this module knows rows, not children. SQLite
errors are classified here, at the boundary, into the errors a user can be told about. The
schema and its migrations are desktop/vault_schema.py's.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract.canonical import now_iso
from desktop import integrity
from desktop.crypto import RecordCipher
from desktop.errors import (
    CorruptVault,
    DiskFull,
    OneSendError,
    VaultBusy,
    VaultFilesChanged,
    VaultLocked,
    VaultTooNew,
)
from desktop.vault_schema import (
    MIGRATIONS,
    KeyedMigration,
    Migration,
)
from forms.registry import Catalogue

if TYPE_CHECKING:
    from desktop.owner import OwnerLock

__all__ = ["RESTORE_HOW", "Vault", "is_our_bug"]

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15_000

_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 5, 6, 11, 13, 26
_SQLITE_IOERR, _SQLITE_READONLY, _SQLITE_CANTOPEN = 10, 8, 14
# Extended I/O error codes (sqlite.org/rescode.html): SQLITE_IOERR | (n << 8).
# SHMOPEN SHMSIZE SHMLOCK SHMMAP; WRITE FSYNC DIR_FSYNC TRUNCATE; READ SHORT_READ.
_IOERR_SHM = {_SQLITE_IOERR | (n << 8) for n in (18, 19, 20, 21)}
_IOERR_WRITE = {_SQLITE_IOERR | (n << 8) for n in (3, 4, 5, 6)}
_IOERR_READ = {_SQLITE_IOERR | (n << 8) for n in (1, 2)}
RESTORE_HOW = ("restore your last backup (in the window: File → Restore a backup…; or "
               "'onesend restore FILE --replace')")



# The vault's own tables: one of them missing means the file was altered (the environment's
# fault); any other missing table is a mistake in our own SQL.
VAULT_TABLES = frozenset({"assessments", "revisions", "audit", "meta", "outbox", "sync_heads",
                          "form_definitions", "secrets"})
# What SQLite says of a statement that could never have run: a bug in OneSEND, not the file.
_BUG_WORDS = ("syntax error", "incomplete input", "unrecognized token", "no such function",
              "wrong number of arguments", "ambiguous column name", "has no column named")


def is_our_bug(exc: sqlite3.Error) -> bool:
    """Whether a SQLite error comes from our own code (a crash to report, never a damaged
    vault): misuse of the API, a statement that cannot parse, a table we never made."""
    if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return True
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    if any(word in text for word in _BUG_WORDS):
        return True
    if text.startswith("no such table:"):
        table = text.removeprefix("no such table:").strip().rsplit(".", 1)[-1]
        return table not in VAULT_TABLES
    return False


def classify(exc: sqlite3.Error, path: Path) -> OneSendError:
    """Turn a SQLite error into the one sentence a user can act on."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary == _SQLITE_FULL or "disk is full" in text:
        return DiskFull(f"The disk holding {path.parent} is full: nothing was saved; free some "
                        "space and try again.")
    if code in _IOERR_SHM:
        return DiskFull(f"OneSEND could not create or grow the vault's shared-memory file "
                        f"({path.name}-shm) in {path.parent}, usually because that disk is full: "
                        "nothing was saved; free some space and try again.")
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return VaultBusy("Another OneSEND window or command is using this profile; try again "
                         "in a moment.")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a data" in text:
        return CorruptVault(f"The vault file {path} is damaged (nothing in it was changed): "
                            f"{RESTORE_HOW}.")
    if primary == _SQLITE_READONLY:
        return CorruptVault(f"The vault file {path} cannot be written (it is read-only).")
    if code in _IOERR_WRITE:
        return CorruptVault(f"The disk refused to write the vault file {path} (a disk error): "
                            "nothing was saved; check the disk and try again.")
    if code in _IOERR_READ:
        return CorruptVault(f"The vault file {path} could not be read (a disk error, or the file "
                            "is shorter than it should be).")
    if primary == _SQLITE_CANTOPEN:
        return CorruptVault(f"The vault file {path} could not be opened: check that its disk is "
                            "connected and that its folder can be written.")
    if primary == _SQLITE_IOERR:
        return CorruptVault(f"The vault file {path} could not be read or written (a disk error).")
    return CorruptVault(f"The vault file {path} could not be used ({type(exc).__name__}).")


def check_header(path: Path) -> None:
    """Refuse, without writing anything, a file that is not (or no longer) a whole SQLite file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.read(100)
    except FileNotFoundError as exc:
        raise CorruptVault(f"The vault file {path} is missing.") from exc
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise CorruptVault(f"The vault file {path} is damaged or is not a OneSEND vault.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    change_counter, valid_for = header[24:28], header[92:96]
    wal = path.with_name(path.name + "-wal")
    # With a WAL left by an interrupted checkpoint, the missing pages are in the WAL.
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if change_counter == valid_for and pages and size < pages * page_size and not wal_pending:
        raise CorruptVault(f"The vault file {path} is truncated: {RESTORE_HOW}.")


# -- one process's connections to one file ---------------------------------------------------
#
# On POSIX, closing *any* descriptor of a file drops all of the process's fcntl locks on it,
# SQLite's included ("How to corrupt an SQLite database", section 2.2): another process then
# believes it is alone, checkpoints and deletes the WAL this process is still writing. So the
# header is read (with Python's open) only while this process has no connection to the file,
# and never again until the last one has closed.

_registry_lock = threading.Lock()
_connections: dict[str, int] = {}  # real path -> open connections in this process


def _key(path: Path) -> str:
    return os.path.realpath(path)


def connections_open(path: Path) -> int:
    """How many SQLite connections this process has open on `path` (through `Vault`)."""
    with _registry_lock:
        return _connections.get(_key(path), 0)


def _release(key: str) -> None:
    with _registry_lock:
        left = _connections.get(key, 0) - 1
        if left > 0:
            _connections[key] = left
        else:
            _connections.pop(key, None)


class _TrackedConnection(sqlite3.Connection):
    """A connection that tells the registry when it closes, whoever closes it."""

    registry_key: str | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            key, self.registry_key = self.registry_key, None
            if key is not None:
                _release(key)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is left; never let this hide the error that made us roll back.

    SQLite may already have rolled back itself (a full disk, an I/O error), and a ROLLBACK
    then fails with an error of its own that would replace the real one.
    """
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class Vault:
    """An open, unlocked vault: one SQLite connection and the profile's record cipher.

    Each thread or process opens its own `Vault` on the same WAL database; none is shared.
    """

    def __init__(
        self,
        path: Path,
        cipher: RecordCipher,
        profile: str,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        create: bool = False,
    ) -> None:
        self.path = path
        self.profile = profile
        self.owner: OwnerLock | None = None  # held by the window for its session
        # The open session's form catalogue (set by sync/session.py, dropped when it closes):
        # what reads a record on a fetched form version looks its definition up there.
        self.catalogue: Catalogue | None = None
        self._cipher: RecordCipher | None = cipher
        self._conn: sqlite3.Connection | None = None
        self._files: tuple[tuple[int, int] | None, tuple[int, int] | None] = (None, None)
        key = _key(path)
        with _registry_lock:
            # Only while no connection of this process is open (see the registry above).
            if not create and not _connections.get(key):
                check_header(path)
            _connections[key] = _connections.get(key, 0) + 1
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                check_same_thread=True, factory=_TrackedConnection,
            )
        except sqlite3.Error as exc:
            _release(key)
            raise classify(exc, path) from exc
        conn.registry_key = key
        self._conn = conn
        try:
            self._configure_and_migrate(migrations)
            # The files this connection writes: a save is "saved" only while they are still
            # the ones at these paths (see `_check_files`).
            self._files = (_identity(path), _identity(self._wal_path))
        except BaseException:
            self._conn = None
            conn.close()
            raise

    @property
    def cipher(self) -> RecordCipher:
        if self._cipher is None:
            raise VaultLocked("The vault is locked: unlock it to continue.")
        return self._cipher

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise VaultLocked("The vault is locked: unlock it to continue.")
        return self._conn

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    @property
    def _wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _check_files(self, conn: sqlite3.Connection) -> None:
        """After a commit: is it in the vault file, or in a WAL that is still there?

        Something outside OneSEND may delete the WAL (or replace the vault file) while it is
        open; SQLite keeps writing into the deleted file and a crash would lose every save
        since. When the WAL is gone, the commit is copied into the vault file itself (a full
        checkpoint, synced), and the caller is still told, so nothing is reported as simply
        saved; when the vault file itself was replaced, nothing more can be done safely.
        """
        database, wal = self._files
        if _identity(self.path) != database:
            raise VaultFilesChanged(
                f"The vault file {self.path} was replaced or removed by another program while "
                "OneSEND had it open, so this change may not be saved: close OneSEND and open "
                "it again.")
        if _identity(self._wal_path) == wal:
            return
        with contextlib.suppress(sqlite3.Error):
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
            if busy == 0 and frames == copied:
                raise VaultFilesChanged(
                    f"Another program deleted a file OneSEND keeps beside {self.path} while it "
                    "was open; this change was written into the vault itself, but close "
                    "OneSEND and open it again before you carry on.")
        raise VaultFilesChanged(
            f"Another program deleted a file OneSEND keeps beside {self.path} while it was "
            "open, so this change may not be saved: close OneSEND (do not force it) and open "
            "it again.")

    def _configure_and_migrate(self, migrations: Sequence[Migration]) -> None:
        conn = self.conn
        with self.errors():
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > len(migrations):
                raise VaultTooNew(
                    f"This vault was written by a newer version of OneSEND (schema {version}; "
                    f"this version reads up to {len(migrations)}): update OneSEND to open it."
                )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if version == 0 or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA temp_store = MEMORY")
            if version < len(migrations):
                self._migrate(version, migrations)

    def _migrate(self, version: int, migrations: Sequence[Migration]) -> None:
        conn = self.conn
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.schema{version}.bak")
            target = sqlite3.connect(backup)
            try:
                conn.backup(target)
            finally:
                target.close()
            backup.chmod(0o600)
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, len(migrations)):
                migration = migrations[step]
                if isinstance(migration, KeyedMigration):
                    migration.run(conn, self.cipher)
                else:
                    migration(conn)
                conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Classify SQLite errors raised inside the block: the disk's or the file's fault as
        one sentence (OneSendError); our own bug raised as it is, for the crash report."""
        try:
            yield
        except sqlite3.Error as exc:
            if is_our_bug(exc):
                raise
            raise classify(exc, self.path) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error."""
        conn = self.conn
        with self.errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            self._check_files(conn)

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement inside sees the same committed state."""
        conn = self.conn
        with self.errors():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                _rollback(conn)  # nothing was written: ending it is all

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.errors():
            return list(self.conn.execute(sql, params).fetchall())

    def data_version(self) -> int:
        """SQLite's count of commits made to the file by other connections (another process,
        or another thread's connection) since this one opened: it changes when they write."""
        return int(self.read("PRAGMA data_version")[0][0])

    # -- the meta table (small named values of the vault) ------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def delete_meta(conn: sqlite3.Connection, key: str) -> None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def key_matches(self) -> bool:
        """Whether this data key is the vault's: its state row verifies under it, or (if that
        row was altered) its first audit entry or one of its records does."""
        cipher = self.cipher
        state = self.meta(integrity.STATE_KEY)
        if state is not None and integrity.VaultState.from_text(state, cipher) is not None:
            return True
        first = self.read("SELECT id, at, profile, action, assessment_id, CAST(mac AS BLOB) "
                          "FROM audit ORDER BY id LIMIT 1")
        if first and cipher.mac_ok(first[0][5], "audit", *first[0][:5], None):
            return True
        heads = self.read(f"SELECT {integrity.Head.COLUMNS} FROM assessments "  # noqa: S608
                          "LIMIT 20")
        return any(integrity.Head.from_row(row).ok(cipher) for row in heads)

    def first_audit_at(self) -> str | None:
        """When the first entry of the audit log was written (the profile's creation)."""
        rows = self.read("SELECT MIN(at) FROM audit")
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def check_integrity(self) -> None:
        """SQLite's quick_check over every page; CorruptVault names the file when it fails."""
        rows = self.read("PRAGMA quick_check")
        if [tuple(row) for row in rows] != [("ok",)]:
            raise CorruptVault(
                f"The vault file {self.path} is damaged (nothing in it was changed): "
                f"{RESTORE_HOW}."
            )

    def audit(
        self, conn: sqlite3.Connection, action: str, assessment_id: str | None, *,
        new_record: bool = False,
    ) -> None:
        """Record who did what to which record, and when; never any child data.

        Each entry's MAC covers the previous entry's MAC (a hash chain), and the vault's state
        row moves on with it. A state row that no longer verifies is left as found: the next
        check still reports it, rather than a write quietly blessing it.
        """
        cipher = self.cipher
        last = conn.execute(
            "SELECT id, CAST(mac AS BLOB) FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        entry_id = (int(last[0]) if last else 0) + 1
        previous = last[1] if last else None
        at = now_iso()
        mac = integrity.audit_mac(cipher, entry_id, at, self.profile, action, assessment_id,
                                  previous)
        conn.execute(
            "INSERT INTO audit (id, at, profile, action, assessment_id, mac) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (entry_id, at, self.profile, action, assessment_id, mac),
        )
        self.move_state(conn, audit=(entry_id, mac), new_record=new_record)

    def audit_many(
        self, conn: sqlite3.Connection, action: str, assessment_ids: Sequence[str],
    ) -> None:
        """`audit` for many records at once: one INSERT, one move of the state row."""
        if not assessment_ids:
            return
        cipher = self.cipher
        last = conn.execute(
            "SELECT id, CAST(mac AS BLOB) FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        entry_id = int(last[0]) if last else 0
        previous: bytes | None = last[1] if last else None
        at = now_iso()
        rows = []
        for assessment_id in assessment_ids:
            entry_id += 1
            previous = integrity.audit_mac(cipher, entry_id, at, self.profile, action,
                                           assessment_id, previous)
            rows.append((entry_id, at, self.profile, action, assessment_id, previous))
        conn.executemany(
            "INSERT INTO audit (id, at, profile, action, assessment_id, mac) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)
        assert previous is not None
        self.move_state(conn, audit=(entry_id, previous))

    def move_state(
        self, conn: sqlite3.Connection, *, audit: tuple[int, bytes] | None = None,
        new_record: bool = False, head: tuple[bytes | None, bytes] | None = None,
    ) -> None:
        """Move the vault's MAC'd state row on by one change, inside `conn`'s transaction:
        the audit chain's new end, one more record, a record's MAC replaced (old, new)."""
        cipher = self.cipher
        row = conn.execute("SELECT value FROM meta WHERE key = ?",
                           (integrity.STATE_KEY,)).fetchone()
        state = integrity.VaultState.from_text(str(row[0]), cipher) if row else None
        if state is None:
            return  # left as found, so the next check still reports it
        heads = state.heads
        if head is not None:
            heads = integrity.xor(integrity.xor(heads, head[0]), head[1])
        audit_id, audit_mac = audit or (state.audit_id, state.audit_mac)
        moved = integrity.VaultState(state.records + int(new_record), heads, audit_id,
                                     audit_mac)
        conn.execute("UPDATE meta SET value = ? WHERE key = ?",
                     (moved.to_text(cipher), integrity.STATE_KEY))

    def audit_log(self) -> list[dict[str, Any]]:
        rows = self.read("SELECT at, profile, action, assessment_id FROM audit ORDER BY id")
        return [
            {"at": at, "profile": profile, "action": action, "assessment_id": aid}
            for at, profile, action, aid in rows
        ]

    def check_metadata(self) -> list[str]:
        """Vault-wide checks of what no single row can show: one sentence per problem found.

        The audit log's chain, the number of assessments and the audit chain's last entry
        against the MAC'd state row. (Each record's own rows are checked where they are read.)
        """
        cipher = self.cipher
        problems: list[str] = []
        previous: bytes | None = None
        last_id = 0
        for entry_id, at, profile, action, aid, mac in self.read(
                "SELECT id, at, profile, action, assessment_id, CAST(mac AS BLOB) FROM audit "
                "ORDER BY id"):
            if not cipher.mac_ok(mac, "audit", int(entry_id), str(at), str(profile),
                                 str(action), aid, previous):
                problems.append(
                    f"The audit log has been altered outside OneSEND (entry {entry_id} does "
                    "not follow from the one before it).")
                break
            previous, last_id = mac, int(entry_id)
        rows = self.read("SELECT value FROM meta WHERE key = ?", (integrity.STATE_KEY,))
        state = integrity.VaultState.from_text(str(rows[0][0]), cipher) if rows else None
        if state is None:
            problems.append("The vault's record of its own state is missing or has been "
                            "altered outside OneSEND.")
            return problems
        heads = integrity.EMPTY
        records = 0
        for (mac,) in self.read("SELECT CAST(mac AS BLOB) FROM assessments"):
            heads = integrity.xor(heads, mac)
            records += 1
        if records != state.records:
            problems.append(
                f"The vault should hold {state.records} assessment(s) but holds {records}: "
                "assessments were removed or added outside OneSEND.")
        elif heads != state.heads:
            problems.append("One or more assessments were changed or rolled back to an older "
                            "copy outside OneSEND.")
        if not problems and (state.audit_id != last_id or state.audit_mac != previous):
            problems.append("The end of the audit log has been removed outside OneSEND.")
        return problems

    def close(self) -> None:
        """Lock: drop the keys from the object graph and close the database."""
        if self._cipher is not None:
            self._cipher.forget()
            self._cipher = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # Every write was already committed durably: a failing close loses nothing.
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        owner, self.owner = self.owner, None
        if owner is not None:
            owner.release()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
