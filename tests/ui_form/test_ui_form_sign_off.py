"""The editor's sign-off and records: check your answers, finalise and amend, history and
restore, the family's PDF, answers a form migration archived."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from tests.ui_form.editor_filler import (
    Opener,
    example,
    focused,
    wait_saved,
)
from ui.form.widgets import (
    TextAdapter,
)

# The offscreen platform's known noise (it cannot raise windows or grab the keyboard).
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def test_check_answers_lists_visible_answers_with_change_links(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    editor.show_check_answers()
    links = {link.property("path"): link for link in editor.check_page.change_links}
    assert "child.first_name" in links
    assert "outcomes[1].outcome" in links
    assert "child.uln" not in links  # hidden for a nine-year-old
    assert "assessment.request_date" not in links  # hidden for an annual review
    assert links["child.first_name"].accessibleName() == "Change First name"
    qtbot.mouseClick(links["child.first_name"], Qt.MouseButton.LeftButton)
    assert editor.current_section == "child"
    page = editor.page
    assert page is not None
    assert focused() is page.adapters["child.first_name"].primary()


def test_finalise_only_when_complete_then_read_only_and_amend(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    draft = open_editor(example("draft"))
    draft.show_check_answers()
    assert draft.check_page.finalise_button is None
    draft.finalise()
    assert draft.status == "draft"
    assert not draft.read_only

    editor = open_editor(example("primary"))
    editor.show_check_answers()
    button = editor.check_page.finalise_button
    confirm = editor.check_page.confirm
    assert button is not None
    assert confirm is not None
    assert not button.isEnabled()
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert button.isEnabled()
    with qtbot.waitSignal(editor.finalised, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert editor.read_only
    assert editor.banner.isVisible()
    history = Assessments(vault).history(editor.record_id)
    assert history[-1].action == "finalise"
    page = editor.show_section("child")
    assert page is not None
    first = page.adapters["child.first_name"]
    assert isinstance(first, TextAdapter)
    assert first.edit.isReadOnly()
    qtbot.keyClicks(first.edit, "zzz")
    assert editor.session.answers["child"]["first_name"] == "Maya"

    with qtbot.waitSignal(editor.status_changed, timeout=10_000):
        qtbot.mouseClick(editor.amend_button, Qt.MouseButton.LeftButton)
    assert not editor.read_only
    assert editor.status == "amended"
    assert Assessments(vault).history(editor.record_id)[-1].action == "amend"


def test_history_lists_revisions_and_restore_adds_one(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    qtbot.keyClicks(page.adapters["child.preferred_name"].primary(), "May")
    wait_saved(qtbot, editor)
    revisions = Assessments(vault).history(editor.record_id)
    assert len(revisions) >= 2
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    table = editor.history.table
    assert table.rowCount() == len(revisions)
    assert table.item(table.rowCount() - 1, 3).text() == "Started"
    table.selectRow(table.rowCount() - 1)  # revision 1, the oldest
    with qtbot.waitSignal(editor.history.viewed, timeout=10_000):
        qtbot.mouseClick(editor.history.view_button, Qt.MouseButton.LeftButton)
    assert "Maya" in editor.history.viewer.toPlainText()
    assert "M204123416001" in editor.history.viewer.toPlainText()  # the SENCO's own view
    with qtbot.waitSignal(editor.history.restored, timeout=10_000):
        qtbot.mouseClick(editor.history.restore_button, Qt.MouseButton.LeftButton)
    after = Assessments(vault).history(editor.record_id)
    assert len(after) == len(revisions) + 1
    assert after[-1].action == "restore-from-1"
    assert "preferred_name" not in editor.session.answers["child"]
    qtbot.waitUntil(lambda: table.rowCount() == len(after), timeout=10_000)


def test_family_pdf_has_the_name_and_not_the_upn(
    qtbot: QtBot, open_editor: Opener, tmp_path: Path, pdf_text: Callable[[Path], str],
) -> None:
    editor = open_editor(example("primary"))
    target = tmp_path / "family copy.pdf"
    with qtbot.waitSignal(editor.pdf_exported, timeout=20_000) as blocker:
        editor.export_pdf(target)
    assert blocker.args == [str(target)]
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert target.stat().st_mode & 0o077 == 0
    assert editor.open_pdf_button.isVisible()
    text = pdf_text(target)
    assert "Maya Example" in text
    assert "M204123416001" not in text.replace(" ", "")
    assert "Page 1 of" in text
    assert "form version 1.0.0" in text
    # The child's own words come before the administrative sections.
    assert text.index("About me") < text.index("About the assessment")
    assert text.index("My family's views") < text.index("Needs (section B)")


def test_an_edit_keeps_the_answers_a_form_migration_archived(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    document = example("primary")
    archived = [{"path": "about_me.old_question", "value": "Kept from version 0.9",
                 "from_version": "0.9.0"}]
    document["archive"] = archived
    editor = open_editor(document)
    page = editor.show_section("about_me")
    assert page is not None
    qtbot.keyClicks(page.adapters["about_me.interests"].primary(), " And lego.")
    wait_saved(qtbot, editor)
    saved = Assessments(vault).get(editor.record_id)
    assert saved["answers"]["about_me"]["interests"].endswith("lego.")
    assert saved["archive"] == archived
    # Shown read-only on "Check your answers", never as an editable field.
    editor.show_check_answers()
    shown = [label.text() for label in editor.check_page.findChildren(QLabel)
             if label.objectName() == "archivedAnswer"]
    assert shown == ["Kept from version 0.9"]


def test_history_marks_a_revision_altered_outside_onesend(
    qtbot: QtBot, open_editor: Opener, vault: Vault,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("child")
    assert page is not None
    qtbot.keyClicks(page.adapters["child.preferred_name"].primary(), "May")
    wait_saved(qtbot, editor)
    # Someone with the file forges who saved the first revision.
    import sqlite3  # noqa: PLC0415

    raw = sqlite3.connect(vault.path, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    raw.execute("UPDATE revisions SET author = 'mallory' WHERE revision = 1")
    raw.close()
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    table = editor.history.table
    oldest = table.rowCount() - 1
    assert table.item(oldest, 3).text() == "Damaged: altered outside OneSEND (Started)"
    assert table.item(0, 3).text() != table.item(oldest, 3).text()
    assert "1 of them altered outside OneSEND: not trusted." in editor.history.status.text()
