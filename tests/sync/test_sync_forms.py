"""Published form definitions: fetched when new, refused when their signature fails."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.errors import UntrustedServer
from forms import registry
from forms.engine import check_document
from forms.errors import FormError
from sync.form_updates import register_stored_definitions, stored_definitions, update_forms

PASSWORD = "correct horse battery staple"
FIXTURES = Path(__file__).parents[1] / "forms" / "fixtures"


def demo(version: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((FIXTURES / f"demo-{version}.json").read_text("utf-8"))
    return raw


def test_a_new_definition_is_fetched_once_and_kept_signed(device: Any, server: Any) -> None:
    server.store.publish(demo("1.0.0"))
    first = update_forms(device.vault, device.settings)
    assert first.fetched == [("demo", "1.0.0")]
    assert ("national-send-assessment", "1.0.0") in first.known  # shipped with the app
    (definition,) = stored_definitions(device.vault)
    assert (definition.id, definition.version) == ("demo", "1.0.0")
    again = update_forms(device.vault, device.settings)
    assert again.fetched == []


def test_a_tampered_definition_is_refused_and_nothing_is_stored(
    device: Any, server: Any
) -> None:
    server.store.publish(demo("1.1.0"))
    server.store.tamper_form("demo", "1.1.0")
    with pytest.raises(UntrustedServer, match=(
            r"^The form definition demo version 1\.1\.0 from the server was refused \(its "
            r"signature does not verify\); nothing was changed\.$")):
        update_forms(device.vault, device.settings)
    assert stored_definitions(device.vault) == []


def test_a_definition_altered_in_the_vault_is_refused_on_load(device: Any, server: Any) -> None:
    server.store.publish(demo("1.0.0"))
    update_forms(device.vault, device.settings)
    with device.vault.write() as conn:
        conn.execute("UPDATE form_definitions SET definition = replace(definition, "
                     "'Demo form', 'Evil form')")
    with pytest.raises(UntrustedServer, match="signature does not verify"):
        stored_definitions(device.vault)


def _draft(device: Any, record_id: str, answers: dict[str, Any]) -> None:
    device.store.create({"form": "demo", "form_version": "1.0.0", "answers": answers},
                        record_id=record_id)


def test_an_update_migrates_drafts_as_new_revisions_and_leaves_finalised_ones(
    device: Any, server: Any,
) -> None:
    catalogue = registry.Catalogue()  # the open session's: nothing fetched yet
    device.vault.catalogue = catalogue
    server.store.publish(demo("1.0.0"))
    _draft(device, "draft-1", {"about": {"name": "Ada", "colour": "R", "hobby": "Chess",
                                         "nickname": "A"},
                               "items": [{"_key": "k1", "title": "Swim", "when": "2026-01-02"}]})
    _draft(device, "sent-1", {"about": {"name": "Bo", "colour": "G"}})
    with device.vault.write() as conn:  # as if finalised and sent under 1.0.0 (MAC'd write)
        head = device.store.verified_head(conn, "sent-1")
        device.store.put_head(conn, dataclasses.replace(head, status="synced"))
    update_forms(device.vault, device.settings)  # 1.0.0 only: nothing to migrate yet
    assert device.store.get("draft-1")["revision"] == 1

    server.store.publish(demo("1.1.0"))
    result = update_forms(device.vault, device.settings)
    assert result.fetched == [("demo", "1.1.0")]
    assert [(m.id, m.from_version, m.to_version, m.revision, m.archived)
            for m in result.migrated] == [("draft-1", "1.0.0", "1.1.0", 2, 2)]
    moved = device.store.get("draft-1")
    assert moved["form_version"] == "1.1.0"
    assert moved["answers"] == {
        "about": {"full_name": "Ada", "colour": "RED", "consent": False},
        "items": [{"_key": "k1", "title": "Swim", "due": "2026-01-02"}]}
    # Nothing dropped: what 1.1.0 no longer asks is kept, with why.
    assert {(e["path"], e["value"]) for e in moved["archive"]} == {
        ("about.hobby", "Chess"), ("about.nickname", "A")}
    assert device.store.get("draft-1", 1)["form_version"] == "1.0.0"  # history kept
    assert device.store.history("draft-1")[-1].action == "migrate-form"
    sent = device.store.get("sent-1")
    assert (sent["revision"], sent["form_version"]) == (1, "1.0.0")
    again = update_forms(device.vault, device.settings)
    assert again.fetched == again.migrated == []
    # The fetched version is usable by the engine, so the migrated draft opens and is judged.
    assert registry.load_definition("demo", catalogue=catalogue).version == "1.1.0"
    verdict = check_document(moved, catalogue=catalogue)
    assert (verdict.form_id, verdict.form_version) == ("demo", "1.1.0")
    assert verdict.complete


def test_fetched_definitions_are_registered_when_a_profile_opens(
    device: Any, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.store.publish(demo("1.0.0"))
    update_forms(device.vault, device.settings, catalogue=registry.Catalogue())
    catalogue = registry.Catalogue()  # a new session: nothing registered
    with pytest.raises(FormError):
        registry.load_definition("demo", "1.0.0", catalogue)
    assert register_stored_definitions(device.vault, catalogue) == 1
    assert registry.load_definition("demo", "1.0.0", catalogue).version == "1.0.0"


def test_the_catalogue_belongs_to_the_session_and_is_dropped_when_it_closes(
    make_device: Any, server: Any,
) -> None:
    from sync.session import Session  # noqa: PLC0415
    from ui.form.edit_session import EditSession  # noqa: PLC0415 - Qt-free controller
    from ui.tasks import vault_opener  # noqa: PLC0415

    server.store.publish(demo("1.0.0"))
    alex, sam = make_device("alex"), make_device("sam")
    update_forms(alex.vault, alex.settings, catalogue=registry.Catalogue())
    session = Session.open(alex.vault)
    assert len(session.catalogue) == 1
    # A record on the fetched version is stored, read and edited through the session's vault
    # and a worker's own connection to it (the window's database thread).
    alex.store.create({"form": "demo", "form_version": "1.0.0",
                       "answers": {"about": {"name": "Ada", "colour": "R"}}},
                      record_id="on-fetched")
    worker_vault = vault_opener(alex.vault)()
    try:
        document = type(alex.store)(worker_vault).get("on-fetched")
        assert EditSession(document, catalogue=worker_vault.catalogue).form_version == "1.0.0"
    finally:
        worker_vault.close()
    # There is no process-wide list: without the session's catalogue the version is unknown.
    with pytest.raises(FormError):
        registry.load_definition("demo", "1.0.0")
    with pytest.raises(FormError):
        EditSession(document)
    # Two sessions do not share a catalogue: sam's has only what sam's vault holds (nothing).
    other = Session.open(sam.vault)
    assert other.catalogue is not session.catalogue
    assert len(other.catalogue) == 0
    with pytest.raises(FormError):
        registry.load_definition("demo", "1.0.0", other.catalogue)
    other.close()
    assert len(session.catalogue) == 1  # closing one leaves the other's as it was
    # Lock (the session closes): the catalogue is emptied and the vault no longer carries it.
    session.close()
    assert len(session.catalogue) == 0
    assert alex.vault.catalogue is None
    with pytest.raises(FormError):
        registry.load_definition("demo", "1.0.0", session.catalogue)


def test_forms_update_command_prints_counts_and_refuses_a_tampered_definition(
    device: Any, server: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main  # noqa: PLC0415

    def onesend(*argv: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        return main(["--data-dir", str(data_dir), "forms", "update", "--password-stdin",
                     *argv])

    server.store.publish(demo("1.0.0"))
    _draft(device, "draft-1", {"about": {"name": "Ada", "hobby": "Chess"}})
    assert onesend() == 0
    out = capsys.readouterr().out
    assert "Fetched form demo version 1.0.0 (signature verified)." in out
    assert "1 new form definition(s)" in out

    server.store.publish(demo("1.1.0"))
    server.store.tamper_form("demo", "1.1.0")
    assert onesend() == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "onesend: The form definition demo version 1.1.0 from the server was refused (its "
        "signature does not verify); nothing was changed.\n")
    assert device.store.get("draft-1")["revision"] == 1
    assert [(d.id, d.version) for d in stored_definitions(device.vault)] == [("demo", "1.0.0")]

    server.store.publish(demo("1.1.0"))  # published again, properly signed
    assert onesend("--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fetched"] == [{"form": "demo", "version": "1.1.0"}]
    assert [(m["id"], m["to_version"], m["archived"]) for m in report["migrated"]] == [
        ("draft-1", "1.1.0", 1)]
    assert "Ada" not in json.dumps(report)  # no child data printed
