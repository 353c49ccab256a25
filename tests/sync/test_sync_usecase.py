"""The one sync use case (sync/usecase.py), driven without Qt: what the window's sync panel and
`onesend sync` both run."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from desktop.errors import Cancelled
from forms import registry
from sync.session import Session
from sync.usecase import run_sync

PASSWORD = "correct horse battery staple"

FIXTURES = Path(__file__).parents[1] / "forms" / "fixtures"


def demo(version: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((FIXTURES / f"demo-{version}.json").read_text("utf-8"))
    return raw


def test_send_then_fetch_forms_then_migrate_drafts_without_qt(device: Any, server: Any) -> None:
    sent = device.add(3)
    server.store.publish(demo("1.0.0"))
    draft, _ = device.store.create({"form": "demo", "form_version": "1.0.0", "answers": {
        "about": {"name": "Ada", "colour": "R", "hobby": "Chess"}}})
    server.store.publish(demo("1.1.0"))
    catalogue = registry.Catalogue()

    outcome = run_sync(device.engine(), settings=device.settings, catalogue=catalogue)

    assert outcome.report.accepted == len(sent)
    assert outcome.report.still_queued == 0
    assert outcome.forms is not None
    assert outcome.forms_problem is None
    assert outcome.forms.fetched == [("demo", "1.0.0"), ("demo", "1.1.0")]
    assert [m.id for m in outcome.forms.migrated] == [draft]
    assert device.store.get(draft)["form_version"] == "1.1.0"
    assert registry.load_definition("demo", "1.1.0", catalogue).version == "1.1.0"


def test_drafts_stay_when_migration_is_not_allowed_and_nothing_after_a_cancel(
    device: Any, server: Any,
) -> None:
    server.store.publish(demo("1.0.0"))
    draft, _ = device.store.create({"form": "demo", "form_version": "1.0.0", "answers": {
        "about": {"name": "Ada", "colour": "R"}}})
    server.store.publish(demo("1.1.0"))
    kept = run_sync(device.engine(), settings=device.settings, migrate=False,
                    catalogue=registry.Catalogue())
    assert kept.forms is not None
    assert kept.forms.migrated == []
    assert device.store.get(draft)["form_version"] == "1.0.0"

    cancel = threading.Event()
    cancel.set()
    device.add(1)
    catalogue = registry.Catalogue()
    with pytest.raises(Cancelled):  # a cancelled run fetches nothing more
        run_sync(device.engine(cancel=cancel), settings=device.settings, cancel=cancel,
                 catalogue=catalogue)
    assert len(catalogue) == 0


def test_a_forms_failure_never_undoes_a_send(device: Any, server: Any) -> None:
    device.add(2)
    server.store.publish(demo("1.0.0"))
    run_sync(device.engine(), settings=device.settings, catalogue=registry.Catalogue())
    with device.vault.write() as conn:  # the stored definition no longer matches its signature
        conn.execute("UPDATE form_definitions SET definition = replace(definition, "
                     "'Demo form', 'Evil form')")
    device.add(1, start=2)
    outcome = run_sync(device.engine(), settings=device.settings,
                       catalogue=registry.Catalogue())
    assert outcome.report.accepted == 1
    assert device.outbox.counts()["acknowledged"] == 3
    assert outcome.forms is None
    assert outcome.forms_problem


def test_a_session_runs_the_use_case_with_its_own_settings_and_catalogue(
    device: Any, server: Any,
) -> None:
    device.add(1)
    server.store.publish(demo("1.0.0"))
    session = Session.open(device.vault, device.settings)
    try:
        outcome = session.sync(session.sync_engine(backoff=None))
        assert outcome.report.accepted == 1
        assert len(session.catalogue) == 1
    finally:
        session.close()


def test_the_command_runs_the_same_use_case_and_says_what_it_fetched_and_moved(
    device: Any, server: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`onesend sync` (in process): sends, fetches the new form versions and moves the draft,
    as the window does; one line says so, and --json carries the whole outcome."""
    from app import cli  # noqa: PLC0415 - the command, driven in this process

    sent = device.add(2)
    server.store.publish(demo("1.0.0"))
    draft, _ = device.store.create({"form": "demo", "form_version": "1.0.0", "answers": {
        "about": {"name": "Ada", "colour": "R", "hobby": "Chess"}}})
    server.store.publish(demo("1.1.0"))

    def sync(*options: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        code = cli.main(["--data-dir", str(data_dir), "sync", *options, "--password-stdin"])
        return code, capsys.readouterr().out

    code, out = sync("--json")
    assert code == 0
    result = json.loads(out)
    assert result["accepted"] == len(sent)
    assert result["still_queued"] == 0
    assert [(f["form"], f["version"]) for f in result["forms"]["fetched"]] == [
        ("demo", "1.0.0"), ("demo", "1.1.0")]
    assert [m["id"] for m in result["forms"]["migrated"]] == [draft]
    assert result["forms_problem"] is None
    assert device.store.get(draft)["form_version"] == "1.1.0"

    device.add(1, start=5)
    code, out = sync()
    assert code == 0
    assert out.splitlines() == [
        "Sent 1, duplicates 0, recovered 0, conflicts 0, quarantined 0, still queued 0.",
        "Forms: 0 new version(s) fetched, 0 draft(s) moved to a newer version, 0 left on "
        "their version."]
