"""The vault on real SQLite files: round trips, no plaintext, errors that change nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF, KdfParams
from desktop.errors import (
    BadDocument,
    CorruptVault,
    DiskFull,
    InvalidInput,
    NotFound,
    ProfileError,
    TamperedData,
    TooManyAttempts,
    VaultLocked,
    VaultTooNew,
    WrongPassword,
    WrongRecoveryKey,
)
from desktop.profiles import Profiles, unlock_delay
from desktop.vault import Vault
from desktop.vault_schema import MIGRATIONS

PASSWORD = "correct horse battery staple"
CHILD_NAME = "Quillonyx"
CHILD_SURNAME = "Farthingdale-Ümlaut"
UPN = "H801200001001"


def document(**answers: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "child": {
            "first_name": CHILD_NAME,
            "last_name": CHILD_SURNAME,
            "date_of_birth": "2016-04-30",
            "upn": UPN,
            "uln": None,
        },
        "assessment": {"kind": "ehc_needs_assessment", "setting_name": "Brook Lane Primary"},
    }
    base.update(answers)
    return {"form": "national-send-assessment", "form_version": "1.0.0", "answers": base}


def vault_files(data_dir: Path) -> dict[str, bytes]:
    files = (p for p in data_dir.rglob("*") if p.is_file())
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in files}


def db_path(profiles: Profiles, name: str = "alex") -> Path:
    return profiles.folder(name) / "vault.db"


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as an attacker or a broken disk would have."""
    return sqlite3.connect(path, isolation_level=None)


def test_round_trip_keeps_every_json_type_unicode_and_long_text(profiles: Profiles) -> None:
    answers = {
        "child": {"first_name": "Siân", "last_name": "Ó Briain-نور",
                  "date_of_birth": "2010-01-01"},
        "about_me": {
            # Within the bounds of forms/bounds.py: an answer the form does not ask is at
            # most 40,000 characters, a number at most 10^15.
            "long": "Ich mag Züge 🚂. " * 2300,
            "int": 42,
            "negative": -7,
            "big": 10**15,
            "float": 3.141592653589793,
            "tiny": 1e-300,
            "true": True,
            "false": False,
            "null": None,
            "list": [1, "two", [3.0, {"four": None}], []],
            "object": {"nested": {"deeper": ["ok"]}, "empty": {}},
            "emoji 🙂 key": "zero\u200bwidth and \u0000 nul",
        },
    }
    doc = {"form": "national-send-assessment", "form_version": "1.0.0", "answers": answers}
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, revision = Assessments(vault).import_document(doc)
    with profiles.unlock("alex", PASSWORD) as vault:
        exported = Assessments(vault).get(record_id)
    assert revision == 1
    assert exported["answers"] == answers
    assert json.dumps(exported["answers"]) == json.dumps(answers)  # key order kept too
    assert exported["form"] == "national-send-assessment"
    assert exported["form_version"] == "1.0.0"
    assert {"id", "revision", "status", "created_at", "updated_at"} <= exported.keys()
    assert exported["status"] == "draft"


def _encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def assert_no_plaintext(data_dir: Path, secrets: list[str]) -> None:
    needles = [needle for secret in secrets for needle in _encodings(secret)]
    for name, content in vault_files(data_dir).items():
        for needle in needles:
            assert needle not in content, f"{name} holds a child's data in the clear"


def test_no_plaintext_anywhere_before_and_after_close(profiles: Profiles, data_dir: Path) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    store = Assessments(vault)
    record_id, _ = store.import_document(document())
    for n in range(5):
        store.save(record_id, document(about_me={"note": f"{CHILD_NAME} edit {n}"}))
    secrets = [CHILD_NAME, CHILD_SURNAME, UPN, "2016-04-30", "Brook Lane"]
    assert (db_path(profiles).with_name("vault.db-wal")).exists()
    assert_no_plaintext(data_dir, secrets)
    vault.close()
    assert_no_plaintext(data_dir, secrets)
    assert not list(data_dir.rglob("*.tmp"))


def test_wrong_password_says_so_and_changes_nothing(profiles: Profiles) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    before = db_path(profiles).read_bytes()
    with pytest.raises(WrongPassword, match=r"^That password does not unlock the profile 'alex'"):
        profiles.unlock("alex", "not the password")
    assert db_path(profiles).read_bytes() == before
    assert not db_path(profiles).with_name("vault.db-wal").exists()


def test_unlock_attempts_are_throttled_across_restarts(data_dir: Path) -> None:
    clock = [1_000_000.0]
    profiles = Profiles(data_dir, kdf=FAST_KDF, clock=lambda: clock[0])
    profiles.create("alex", PASSWORD)[0].close()
    for _ in range(3):
        with pytest.raises(WrongPassword):
            profiles.unlock("alex", "wrong password")
    restarted = Profiles(data_dir, kdf=FAST_KDF, clock=lambda: clock[0])
    with pytest.raises(TooManyAttempts, match="wait 3 seconds"):
        restarted.unlock("alex", PASSWORD)  # even the right password waits
    clock[0] += unlock_delay(3) + 0.5
    restarted.unlock("alex", PASSWORD).close()
    # Success resets the counter.
    with pytest.raises(WrongPassword, match=r"'alex'\.$"):
        restarted.unlock("alex", "wrong password")
    assert [unlock_delay(n) for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    assert unlock_delay(100) == 300


def test_password_change_rewraps_only_the_key(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).import_document(document())
    with raw(db_path(profiles)) as conn:
        blobs_before = conn.execute("SELECT body FROM revisions").fetchall()
        summary_before = conn.execute("SELECT summary FROM assessments").fetchall()
    profiles.change_password("alex", PASSWORD, "a brand new passphrase")
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", PASSWORD)
    with profiles.unlock("alex", "a brand new passphrase") as vault:
        assert Assessments(vault).get(record_id)["answers"] == document()["answers"]
        actions = [entry["action"] for entry in vault.audit_log()]
    assert "profile.change-password" in actions
    with raw(db_path(profiles)) as conn:
        assert conn.execute("SELECT body FROM revisions").fetchall() == blobs_before
        assert conn.execute("SELECT summary FROM assessments").fetchall() == summary_before


def test_password_change_needs_the_old_password_and_a_long_new_one(profiles: Profiles) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    profile_file = profiles.folder("alex") / "profile.json"
    before = profile_file.read_bytes()
    with pytest.raises(WrongPassword):
        profiles.change_password("alex", "not it at all", "another long passphrase")
    with pytest.raises(InvalidInput, match="at least 10 characters"):
        profiles.change_password("alex", PASSWORD, "short")
    assert profile_file.read_bytes() == before


def test_recovery_sets_a_new_password_and_the_old_one_fails(profiles: Profiles) -> None:
    vault, recovery_key = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).import_document(document())
    typed = recovery_key.lower().replace("-", " ")  # as a person might type it
    profiles.recover("alex", typed, "recovered passphrase!")
    with pytest.raises(WrongPassword):
        profiles.unlock("alex", PASSWORD)
    with profiles.unlock("alex", "recovered passphrase!") as vault:
        assert Assessments(vault).get(record_id)["answers"]["child"]["first_name"] == CHILD_NAME
    # The recovery key keeps working after a recovery.
    profiles.recover("alex", recovery_key, "recovered again, twice")


def test_wrong_recovery_key_says_so_and_changes_nothing(profiles: Profiles) -> None:
    _, key = profiles.create("alex", PASSWORD)
    files_before = vault_files(profiles.data_dir)
    other = profiles.create("sam", PASSWORD)[1]
    with pytest.raises(WrongRecoveryKey, match="does not belong to the profile 'alex'"):
        profiles.recover("alex", other, "a new password here")
    with pytest.raises(InvalidInput, match="32 letters and digits"):
        profiles.recover("alex", "not-a-key", "a new password here")
    after = vault_files(profiles.data_dir)
    for name, content in files_before.items():
        if name.startswith("profiles/alex/") and not name.endswith(("-wal", "-shm")):
            assert after[name] == content, name
    del key


def _tamper(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    conn = raw(path)
    conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
    conn.execute(sql, params)
    conn.close()


def test_tampered_blob_is_refused_and_the_others_still_open(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        victim, _ = store.import_document(document())
        other, _ = store.import_document(document(child={"first_name": "Other"}))
    _tamper(
        db_path(profiles),
        # A byte that really changes (writing 00 over a 00 would change nothing).
        "UPDATE revisions SET body = substr(body, 1, 20) || "
        "CASE WHEN substr(body, 21, 1) = x'00' THEN x'01' ELSE x'00' END || substr(body, 22) "
        "WHERE assessment_id = ?",
        (victim,),
    )
    before = db_path(profiles).read_bytes()
    with profiles.unlock("alex", PASSWORD) as vault:
        store = Assessments(vault)
        with pytest.raises(TamperedData, match=f"^Assessment {victim} .*altered or damaged"):
            store.get(victim)
        assert store.get(other)["answers"]["child"]["first_name"] == "Other"
    assert db_path(profiles).read_bytes() == before


def test_blob_moved_to_another_row_fails_to_open(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        first, _ = store.import_document(document())
        second, _ = store.import_document(document(child={"first_name": "Second"}))
    path = db_path(profiles)
    _tamper(
        path,
        "UPDATE revisions SET body = (SELECT body FROM revisions WHERE assessment_id = ?) "
        "WHERE assessment_id = ?",
        (first, second),
    )
    _tamper(
        path,
        "UPDATE assessments SET summary = (SELECT summary FROM assessments WHERE id = ?) "
        "WHERE id = ?",
        (first, second),
    )
    with profiles.unlock("alex", PASSWORD) as vault:
        store = Assessments(vault)
        with pytest.raises(TamperedData):
            store.get(second)
        summaries = {s.id: s for s in store.summaries()}
    assert summaries[second].damaged
    assert summaries[second].first_name == ""
    assert not summaries[first].damaged
    assert summaries[first].first_name == CHILD_NAME


@pytest.mark.parametrize("damage", ["truncate", "garbage", "zero-page"])
def test_damaged_database_is_refused_without_writing(profiles: Profiles, damage: str) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        for n in range(40):
            store.import_document(document(about_me={"n": n, "text": "x" * 3000}))
    path = db_path(profiles)
    content = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(content[: len(content) // 2])
    elif damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
    else:
        page = 4096
        path.write_bytes(content[: page * 3] + b"\xff" * page + content[page * 4 :])
    before = path.read_bytes()

    def open_and_read_everything() -> None:
        with profiles.unlock("alex", PASSWORD) as vault:
            vault.check_integrity()
            for summary in Assessments(vault).summaries():
                Assessments(vault).get(summary.id)

    with pytest.raises(CorruptVault, match=r"^The vault file .*vault\.db is (damaged|truncated)"):
        open_and_read_everything()
    assert path.read_bytes() == before


def test_database_too_new_is_refused_without_writing(profiles: Profiles) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    path = db_path(profiles)
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(VaultTooNew, match="newer version of OneSEND"):
        profiles.unlock("alex", PASSWORD)
    assert path.read_bytes() == before


def test_migration_backs_up_first_and_rolls_back_on_failure(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).import_document(document())
    path = db_path(profiles)
    cipher = profiles.unlock("alex", PASSWORD).cipher  # a live cipher for opening by hand

    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE assessments ADD COLUMN archived INTEGER DEFAULT 0")

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE assessments ADD COLUMN half_done INTEGER")
        raise sqlite3.OperationalError("simulated failure in the middle of a migration")

    with pytest.raises(CorruptVault):
        Vault(path, cipher, "alex", migrations=(*MIGRATIONS, broken))
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(assessments)")]
        assert "half_done" not in columns
    with Vault(path, cipher, "alex", migrations=(*MIGRATIONS, add_column)) as migrated:
        assert migrated.read("PRAGMA user_version")[0][0] == len(MIGRATIONS) + 1
        assert Assessments(migrated).get(record_id)["answers"] == document()["answers"]
    backup = path.with_name(f"vault.db.schema{len(MIGRATIONS)}.bak")
    assert backup.exists()
    with raw(backup) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == 1


def test_kdf_parameters_outside_floor_and_ceiling_are_refused(profiles: Profiles) -> None:
    profiles.create("alex", PASSWORD)[0].close()
    profile_file = profiles.folder("alex") / "profile.json"
    original = json.loads(profile_file.read_text())
    for field, value in [("memory_kib", 1024), ("iterations", 1), ("memory_kib", 2**30),
                         ("iterations", 10_000), ("lanes", 0), ("memory_kib", "lots")]:
        tampered = json.loads(json.dumps(original))
        tampered["kdf"][field] = value
        profile_file.write_text(json.dumps(tampered))
        with pytest.raises(TamperedData, match="key-derivation settings"):
            profiles.unlock("alex", PASSWORD)
    profile_file.write_text("{not json")
    with pytest.raises(TamperedData, match=r"profile file .* is damaged"):
        profiles.unlock("alex", PASSWORD)
    assert KdfParams.from_json(original["kdf"]) == FAST_KDF


def test_locking_drops_the_keys(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    store = Assessments(vault)
    store.import_document(document())
    cipher = vault.cipher
    vault.close()
    with pytest.raises(VaultLocked):
        store.summaries()
    with pytest.raises(VaultLocked):
        cipher.seal(b"x", "answers", "id", 1)
    with pytest.raises(VaultLocked):
        cipher.blind_index("X", "child.upn")
    assert not vault.is_open


def test_history_restore_and_upn_search(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        record_id, _ = store.import_document(document())
        first = store.get(record_id)
        second_doc = document(about_me={"likes": "trains"})
        assert store.import_document({**second_doc, "id": record_id}) == (record_id, 2)
        assert store.restore(record_id, 1) == 3
        assert store.get(record_id)["answers"] == first["answers"]
        assert store.get(record_id, 2)["answers"] == second_doc["answers"]
        history = store.history(record_id)
        assert [(h.revision, h.action, h.author) for h in history] == [
            (1, "import", "alex"), (2, "import", "alex"), (3, "restore-from-1", "alex")]
        assert store.find_by_upn(" h801 2000 0100 1 ") == [record_id]
        assert store.find_by_upn("X00180001701A") == []
        with pytest.raises(NotFound, match="has no revision 9"):
            store.get(record_id, 9)
        with pytest.raises(NotFound, match="no assessment with id nope"):
            store.history("nope")
        audit = vault.audit_log()
    assert [a["action"] for a in audit][-3:] == [
        "assessment.import", "assessment.import", "assessment.restore-from-1"]
    assert all(a["profile"] == "alex" for a in audit)
    assert CHILD_NAME not in json.dumps(audit)


def test_revisions_are_append_only(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        Assessments(vault).import_document(document())
    conn = raw(db_path(profiles))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM revisions")
    conn.close()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must hold a JSON object"),
        ({"form": "f", "form_version": "1", "answers": []}, "object of sections"),
        ({"form": "", "form_version": "1", "answers": {}}, "text value at /form"),
        ({"form": "f", "form_version": "1", "answers": {"a": 1}}, "/answers/a must be"),
        ({"form": "f", "form_version": "1", "answers": {}, "extra": 1}, "does not know: extra"),
        ({"form": "f", "form_version": "1", "answers": {}, "id": "../x"}, "/id must be"),
    ],
)
def test_malformed_documents_are_refused(profiles: Profiles, doc: Any, message: str) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault, pytest.raises(BadDocument, match=message):
        Assessments(vault).import_document(doc)
    with profiles.unlock("alex", PASSWORD) as vault:
        assert Assessments(vault).count() == 0


def test_profile_names_and_choice(profiles: Profiles) -> None:
    with pytest.raises(ProfileError, match=r"no profile in .* yet"):
        profiles.choose(None)
    profiles.create("alex", PASSWORD)[0].close()
    assert profiles.choose(None) == "alex"
    profiles.create("sam", PASSWORD)[0].close()
    with pytest.raises(ProfileError, match=r"several profiles \(alex, sam\)"):
        profiles.choose(None)
    with pytest.raises(ProfileError, match="already exists"):
        profiles.create("alex", PASSWORD)
    with pytest.raises(InvalidInput, match="profile name"):
        profiles.create("../evil", PASSWORD)
    assert profiles.names() == ["alex", "sam"]
    mode = profiles.folder("alex").stat().st_mode & 0o777
    assert mode == 0o700
    assert (profiles.folder("alex") / "profile.json").stat().st_mode & 0o777 == 0o600
    assert (profiles.folder("alex") / "vault.db").stat().st_mode & 0o777 == 0o600


# -- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 3 MiB tmpfs where the machine lets us mount one; else SQLite's own page cap."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True, check=False,
    )
    yield mount_point if result.returncode == 0 else None, mount_point
    if result.returncode == 0:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_says_so_and_loses_nothing(small_disk: Any) -> None:
    mounted, folder = small_disk
    profiles = Profiles(folder / "data", kdf=FAST_KDF)
    vault, _ = profiles.create("alex", PASSWORD)
    if mounted is None:  # no tmpfs here: cap the database file instead (a real SQLITE_FULL)
        pages = vault.read("PRAGMA page_count")[0][0]
        vault.conn.execute(f"PRAGMA max_page_count = {pages + 200}")
    store = Assessments(vault)
    committed: dict[str, dict[str, Any]] = {}

    def fill_the_disk() -> None:
        for n in range(2000):
            doc = document(about_me={"n": n, "filler": f"{n:06d}" * 4000})
            record_id, _ = store.import_document(doc)
            committed[record_id] = doc

    with pytest.raises(DiskFull, match="is full: nothing was saved"):
        fill_the_disk()
    assert len(committed) > 3
    count_after_failure = store.count()
    vault.close()
    assert count_after_failure == len(committed)
    if mounted is not None:
        subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True)
    with profiles.unlock("alex", PASSWORD) as vault:
        store = Assessments(vault)
        assert vault.read("PRAGMA integrity_check")[0][0] == "ok"
        for record_id, doc in committed.items():
            assert store.get(record_id)["answers"] == doc["answers"]


# -- two processes at once -------------------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.profiles import Profiles
profiles = Profiles(Path(sys.argv[1]), kdf=FAST_KDF)
with profiles.unlock("alex", sys.argv[2]) as vault:
    store = Assessments(vault)
    for n in range(int(sys.argv[4])):
        doc = {"form": "national-send-assessment", "form_version": "1.0.0",
               "answers": {"about_me": {"writer": sys.argv[3], "n": n}}}
        store.save(sys.argv[5], doc)
"""


def test_two_processes_writing_at_once_lose_nothing(profiles: Profiles, tmp_path: Path) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record_id, _ = Assessments(vault).import_document(document())
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writers = [
        subprocess.Popen([sys.executable, str(script), str(profiles.data_dir), PASSWORD, name,
                          "40", record_id], cwd=Path(__file__).parents[2])
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with profiles.unlock("alex", PASSWORD) as vault:
        store = Assessments(vault)
        history = store.history(record_id)
        seen = sorted(
            (store.get(record_id, h.revision)["answers"]["about_me"]["writer"],
             store.get(record_id, h.revision)["answers"]["about_me"]["n"])
            for h in history[1:]
        )
    assert len(history) == 81
    assert seen == sorted((w, n) for w in ("a", "b") for n in range(40))
