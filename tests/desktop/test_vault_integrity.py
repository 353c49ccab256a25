"""Tampering with vault.db as an attacker holding the file would (raw sqlite3, no key).

Each attack is noticed: the record is shown as damaged (never hidden, never trusted), or the
check that covers it says so in one sentence; the other record is unaffected.
"""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from desktop.assessments import Assessments
from desktop.errors import TamperedData
from desktop.listing import list_rows
from desktop.outbox import Outbox
from desktop.profiles import Profiles
from desktop.vault import Vault
from desktop.vault_schema import MIGRATIONS

PASSWORD = "correct horse battery staple"
VICTIM_UPN = "H801200001001"
OTHER_UPN = "A123456789012"


def document(first_name: str, upn: str, **extra: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "child": {"first_name": first_name, "last_name": "Farthingdale",
                  "date_of_birth": "2016-04-30", "upn": upn},
        **extra,
    }
    return {"form": "national-send-assessment", "form_version": "1.0.0", "answers": answers}


def complete(first_name: str) -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", "primary.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("id", None)
    doc["answers"]["child"]["first_name"] = first_name
    return doc


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


@dataclass
class Scene:
    profiles: Profiles
    path: Path
    victim: str  # three revisions
    other: str  # one revision, must be unaffected by every attack

    def attack(self, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
        """What an attacker with the file can do: drop our triggers, change any row."""
        conn = raw(self.path)
        conn.execute("DROP TRIGGER IF EXISTS revisions_no_update")
        conn.execute("DROP TRIGGER IF EXISTS revisions_no_delete")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, ())
            conn.execute(sql, params)
        conn.close()

    def open(self) -> Vault:
        return self.profiles.unlock("alex", PASSWORD)

    def listed(self) -> dict[str, Any]:
        with self.open() as vault:
            return {s.id: s for s in Assessments(vault).summaries()}

    def problems(self) -> list[str]:
        with self.open() as vault:
            return vault.check_metadata()

    def other_is_unaffected(self) -> None:
        with self.open() as vault:
            store = Assessments(vault)
            assert store.get(self.other)["answers"]["child"]["first_name"] == "Bystander"
            assert store.problems(self.other) is None
            assert not {s.id: s for s in store.summaries()}[self.other].damaged


@pytest.fixture
def scene(profiles: Profiles) -> Scene:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        store = Assessments(vault)
        victim, _ = store.create(document("Victim", VICTIM_UPN))
        store.save(victim, document("Victim", VICTIM_UPN, about_me={"likes": "trains"}))
        store.save(victim, document("Victim", VICTIM_UPN, about_me={"likes": "boats"}))
        other, _ = store.create(document("Bystander", OTHER_UPN))
        assert vault.check_metadata() == []
    return Scene(profiles, profiles.folder("alex") / "vault.db", victim, other)


def test_an_untouched_vault_verifies_everywhere(scene: Scene) -> None:
    assert scene.problems() == []
    assert not any(s.damaged for s in scene.listed().values())
    with scene.open() as vault:
        store = Assessments(vault)
        assert store.problems(scene.victim) is None
        assert [h.damaged for h in store.history(scene.victim)] == [False, False, False]
        assert store.find_by_upn(VICTIM_UPN) == [scene.victim]


def test_a_draft_set_to_synced_is_damaged_and_not_already_finalised(scene: Scene) -> None:
    scene.attack(("UPDATE assessments SET status = 'synced' WHERE id = ?", (scene.victim,)))
    assert scene.listed()[scene.victim].damaged
    with scene.open() as vault, pytest.raises(TamperedData, match=(
            f"^Assessment {scene.victim} has been altered or damaged outside OneSEND")):
        Assessments(vault).finalise(scene.victim)
    scene.other_is_unaffected()


def test_finalise_of_a_finalised_record_set_back_to_draft_is_refused(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        record, _ = Assessments(vault).create(complete("Signed"))
        Assessments(vault).finalise(record)
    conn = raw(profiles.folder("alex") / "vault.db")
    conn.execute("UPDATE assessments SET status = 'draft' WHERE id = ?", (record,))
    conn.close()
    with profiles.unlock("alex", PASSWORD) as vault:
        with pytest.raises(TamperedData, match="altered or damaged outside OneSEND"):
            Assessments(vault).finalise(record)
        assert Outbox(vault).counts()["queued"] == 1  # nothing more was queued


@pytest.mark.parametrize("how", ["revision-number", "old-row-copy"])
def test_a_record_rolled_back_is_damaged(scene: Scene, how: str) -> None:
    if how == "revision-number":
        scene.attack(("UPDATE assessments SET current_revision = 1 WHERE id = ?",
                      (scene.victim,)))
    else:
        # The record's whole row as an older copy of the file held it.
        older = scene.path.with_name("older.db")
        with scene.open() as vault:
            Assessments(vault).save(scene.victim, document("Victim", VICTIM_UPN))
        shutil.copy(scene.path, older)  # (the WAL was checkpointed at close)
        with scene.open() as vault:
            Assessments(vault).save(scene.victim, document("Victim", VICTIM_UPN, x={"n": 1}))
        scene.attack(
            (f"ATTACH '{older}' AS old", ()),
            ("DELETE FROM assessments WHERE id = ?", (scene.victim,)),
            ("INSERT INTO assessments SELECT * FROM old.assessments WHERE id = ?",
             (scene.victim,)),
        )
    assert scene.listed()[scene.victim].damaged
    with scene.open() as vault, pytest.raises(TamperedData, match="altered or damaged outside"):
        Assessments(vault).get(scene.victim)
    scene.other_is_unaffected()


def test_a_record_rolled_back_with_its_revisions_shows_in_the_vault_check(scene: Scene) -> None:
    older = scene.path.with_name("older.db")
    shutil.copy(scene.path, older)
    with scene.open() as vault:
        Assessments(vault).save(scene.victim, document("Victim", VICTIM_UPN, x={"n": 1}))
    # A consistent roll-back of one record: its row and its revisions as the old copy had them.
    scene.attack(
        (f"ATTACH '{older}' AS old", ()),
        ("DELETE FROM revisions WHERE assessment_id = ? AND revision = 4", (scene.victim,)),
        ("DELETE FROM assessments WHERE id = ?", (scene.victim,)),
        ("INSERT INTO assessments SELECT * FROM old.assessments WHERE id = ?", (scene.victim,)),
    )
    assert scene.problems() == [
        "One or more assessments were changed or rolled back to an older copy outside OneSEND."]
    scene.other_is_unaffected()


def test_deleting_a_middle_revision_is_noticed(scene: Scene) -> None:
    scene.attack(("DELETE FROM revisions WHERE assessment_id = ? AND revision = 2",
                  (scene.victim,)))
    assert scene.listed()[scene.victim].damaged
    with scene.open() as vault:
        store = Assessments(vault)
        assert [(h.revision, h.damaged) for h in store.history(scene.victim)] == [
            (1, False), (3, True)]
        with pytest.raises(TamperedData, match="a revision is missing"):
            store.get(scene.victim, 1)
    scene.other_is_unaffected()


def test_deleting_the_current_revision_shows_the_record_as_damaged_not_hidden(
    scene: Scene,
) -> None:
    scene.attack(("DELETE FROM revisions WHERE assessment_id = ? AND revision = 3",
                  (scene.victim,)))
    listed = scene.listed()
    assert set(listed) == {scene.victim, scene.other}
    assert listed[scene.victim].damaged
    with scene.open() as vault:
        today = datetime.datetime.now(tz=datetime.UTC).date()
        rows = {row.id: row for row in list_rows(vault, today)}
    assert rows[scene.victim].damaged
    scene.other_is_unaffected()


def test_a_forged_author_is_marked_in_the_history(scene: Scene) -> None:
    scene.attack(("UPDATE revisions SET author = 'mallory' WHERE assessment_id = ? "
                  "AND revision = 2", (scene.victim,)))
    with scene.open() as vault:
        store = Assessments(vault)
        assert [h.damaged for h in store.history(scene.victim)] == [False, True, False]
        with pytest.raises(TamperedData, match="revision 2's details do not verify"):
            store.get(scene.victim, 2)
        assert store.problems(scene.victim) == (
            f"Assessment {scene.victim} has been altered or damaged outside OneSEND (revision "
            "2's details do not verify); it is shown as damaged and nothing in it is trusted "
            "or changed. Restore it from a backup.")
    scene.other_is_unaffected()


@pytest.mark.parametrize("attack", ["edit", "delete-middle", "delete-end"])
def test_editing_the_audit_log_is_noticed(scene: Scene, attack: str) -> None:
    sql = {
        "edit": "UPDATE audit SET action = 'assessment.view' WHERE id = 3",
        "delete-middle": "DELETE FROM audit WHERE id = 2",
        "delete-end": "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)",
    }[attack]
    scene.attack(sql)
    problems = scene.problems()
    assert len(problems) == 1
    assert "audit log" in problems[0]
    scene.other_is_unaffected()


def test_swapped_upn_indexes_never_name_the_other_child(scene: Scene) -> None:
    scene.attack(
        ("UPDATE assessments SET upn_index = (SELECT upn_index FROM assessments WHERE id = ?) "
         "WHERE id = ?", (scene.other, scene.victim)),
    )
    with scene.open() as vault:
        store = Assessments(vault)
        with pytest.raises(TamperedData, match=f"^Assessment {scene.victim} .*UPN index"):
            store.find_by_upn(OTHER_UPN)
        assert store.find_by_upn(VICTIM_UPN) == []
    assert scene.listed()[scene.victim].damaged


def test_deleting_a_whole_record_is_noticed(scene: Scene) -> None:
    scene.attack(
        ("DELETE FROM revisions WHERE assessment_id = ?", (scene.other,)),
        ("DELETE FROM assessments WHERE id = ?", (scene.other,)),
    )
    assert scene.problems() == [
        "The vault should hold 2 assessment(s) but holds 1: assessments were removed or added "
        "outside OneSEND."]
    assert not scene.listed()[scene.victim].damaged


def test_a_forged_outbox_state_is_never_sent_and_shows(profiles: Profiles) -> None:
    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        first, _ = Assessments(vault).create(complete("First"))
        second, _ = Assessments(vault).create(complete("Second"))
        Assessments(vault).finalise(first)
        Assessments(vault).finalise(second)
    conn = raw(profiles.folder("alex") / "vault.db")
    conn.execute("UPDATE outbox SET state = 'acknowledged' WHERE assessment_id = ?", (first,))
    conn.execute("UPDATE outbox SET payload_hash = 'sha256:00' WHERE assessment_id = ?",
                 (second,))
    conn.close()
    with profiles.unlock("alex", PASSWORD) as vault:
        outbox = Outbox(vault)
        damaged = {item.assessment_id for item in outbox.items() if item.damaged}
        assert damaged == {first, second}
        assert outbox.take(10) == []  # neither is ever sent
        assert {item.state for item in outbox.items()} == {"acknowledged", "queued"}


def test_a_vault_from_the_previous_schema_is_macd_at_unlock(profiles: Profiles) -> None:
    """Schema 2 (no MACs) is migrated at unlock: backed up first, then every row MAC'd."""
    profiles.create("alex", PASSWORD)[0].close()
    cipher = profiles.unlock("alex", PASSWORD).cipher  # a live cipher, to write as v2 did
    path = profiles.folder("alex") / "vault.db"
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with Vault(path, cipher, "alex", migrations=MIGRATIONS[:2], create=True) as old:
        conn = old.conn
        conn.execute(
            "INSERT INTO assessments (id, created_at, updated_at, current_revision, status, "
            "summary) VALUES ('old-1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', "
            "1, 'draft', ?)",
            (cipher.seal(b'{"first_name":"Legacy"}', "summary", "old-1", 1),))
        conn.execute(
            "INSERT INTO revisions (assessment_id, revision, created_at, author, action, status, "
            "form, form_version, body) VALUES ('old-1', 1, '2026-01-01T00:00:00.000Z', 'alex', "
            "'import', 'draft', 'national-send-assessment', '1.0.0', ?)",
            (cipher.seal(json.dumps(document("Legacy", VICTIM_UPN)).encode(), "answers",
                         "old-1", 1),))
        conn.execute("INSERT INTO audit (at, profile, action, assessment_id) VALUES "
                     "('2026-01-01T00:00:00.000Z', 'alex', 'assessment.import', 'old-1')")
    with profiles.unlock("alex", PASSWORD) as vault:
        assert vault.read("PRAGMA user_version")[0][0] == len(MIGRATIONS)
        store = Assessments(vault)
        assert store.get("old-1")["answers"]["child"]["first_name"] == "Legacy"
        assert not store.summaries()[0].damaged
        assert vault.check_metadata() == []
        store.save("old-1", document("Legacy", VICTIM_UPN, about_me={"n": 1}))
        assert store.problems("old-1") is None
        assert vault.check_metadata() == []
    assert path.with_name("vault.db.schema2.bak").exists()
    conn = raw(path)
    conn.execute("UPDATE assessments SET status = 'synced'")
    conn.close()
    with profiles.unlock("alex", PASSWORD) as vault:
        assert Assessments(vault).summaries()[0].damaged


def test_finalise_all_complete_skips_an_altered_record_and_finalises_the_rest(
    profiles: Profiles, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import io  # noqa: PLC0415

    from app import cli  # noqa: PLC0415

    vault, _ = profiles.create("alex", PASSWORD)
    with vault:
        altered, _ = Assessments(vault).create(complete("Altered"))
        fine, _ = Assessments(vault).create(complete("Fine"))
    conn = raw(profiles.folder("alex") / "vault.db")
    conn.execute("UPDATE assessments SET form_version = '9.9.9' WHERE id = ?", (altered,))
    conn.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = cli.main(["--data-dir", str(profiles.data_dir), "assessments", "finalise",
                     "--all-complete", "--json", "--password-stdin"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert [entry["id"] for entry in out["finalised"]] == [fine]
    assert [entry["id"] for entry in out["skipped"]] == [altered]
    assert "altered or damaged outside OneSEND" in out["skipped"][0]["reason"]


def test_the_command_says_what_is_damaged(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import io  # noqa: PLC0415

    from app import cli  # noqa: PLC0415

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        code = cli.main(["--data-dir", str(scene.profiles.data_dir), *args, "--password-stdin"])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    scene.attack(
        ("UPDATE assessments SET status = 'synced' WHERE id = ?", (scene.victim,)),
        ("UPDATE revisions SET author = 'mallory' WHERE assessment_id = ? AND revision = 2",
         (scene.victim,)),
        "DELETE FROM audit WHERE id = 2",
    )
    code, out, err = run("assessments", "list")
    assert code == 0
    assert "(damaged: cannot be read)" in out
    assert "Bystander" in out
    assert err.splitlines() == [
        "onesend: warning: The audit log has been altered outside OneSEND (entry 3 does not "
        "follow from the one before it).",
        f"onesend: warning: 1 assessment(s) are damaged or were altered outside OneSEND and "
        f"are not trusted: {scene.victim}.",
    ]
    code, out, err = run("assessments", "history", scene.victim)
    assert code == 0
    assert [line.endswith("DAMAGED (altered outside OneSEND)") for line in out.splitlines()] \
        == [False, True, False]
    assert err.startswith(f"onesend: warning: Assessment {scene.victim} has been altered")
    code, out, err = run("assessments", "show", scene.victim)
    assert code == 2
    assert err == (f"onesend: Assessment {scene.victim} has been altered or damaged outside "
                   "OneSEND (its status, revision or index does not verify); it is shown as "
                   "damaged and nothing in it is trusted or changed. Restore it from a "
                   "backup.\n")
