"""Finding 2: History → Restore on a signed-off record goes through an amendment, asked first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.outbox import Outbox
from desktop.vault import Vault

from .conftest import OpenEditor, example


def finalised_record(vault: Vault) -> str:
    store = Assessments(vault)
    document = example("primary")
    record_id, _ = store.create(document)
    document["answers"]["child"]["preferred_name"] = "May"
    store.save(record_id, document)
    store.finalise(record_id)
    return record_id


def test_restore_on_a_finalised_record_asks_and_goes_through_an_amendment(
    qtbot: QtBot, vault: Vault, open_editor: OpenEditor,
) -> None:
    record_id = finalised_record(vault)
    signed = Assessments(vault).get(record_id)
    editor = open_editor(record_id)
    assert editor.read_only
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    history = editor.history
    history.table.selectRow(history.table.rowCount() - 1)  # revision 1
    before = Assessments(vault).history(record_id)

    qtbot.mouseClick(history.restore_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert Assessments(vault).history(record_id) == before  # nothing yet: a question first
    assert history.confirm.isVisible()
    assert "amendment" in history.confirm_label.text()
    assert history.confirm_label.hasFocus()

    qtbot.mouseClick(history.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert Assessments(vault).history(record_id) == before
    assert editor.read_only

    qtbot.mouseClick(history.restore_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(history.restored, timeout=10_000):
        qtbot.mouseClick(history.confirm_button, Qt.MouseButton.LeftButton)
    after = Assessments(vault).history(record_id)
    assert [r.action for r in after[len(before):]] == ["amend", "restore-from-1"]
    assert editor.status == "amended"
    assert "preferred_name" not in editor.session.answers["child"]
    # The signed-off revision is untouched and still waiting to be sent, exactly as it was.
    item = Outbox(vault).get(record_id, signed["revision"])
    assert item is not None
    assert item.state == "queued"
    assert Assessments(vault).get(record_id, signed["revision"])["answers"] == signed["answers"]


def test_restore_on_a_draft_needs_no_question(
    qtbot: QtBot, vault: Vault, open_editor: OpenEditor,
) -> None:
    store = Assessments(vault)
    document = example("primary")
    record_id, _ = store.create(document)
    document["answers"]["child"]["preferred_name"] = "May"
    store.save(record_id, document)
    editor = open_editor(record_id)
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    editor.history.table.selectRow(editor.history.table.rowCount() - 1)
    with qtbot.waitSignal(editor.history.restored, timeout=10_000):
        qtbot.mouseClick(editor.history.restore_button, Qt.MouseButton.LeftButton)
    assert not editor.history.confirm.isVisible()
    assert store.history(record_id)[-1].action == "restore-from-1"
