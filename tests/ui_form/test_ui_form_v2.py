"""The window on national form 2.0.0: filled through its widgets, the statutory dates on
"Check your answers", and the family copy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from forms.engine import document_session
from tests.ui_form.editor_filler import Filler, strip_keys, translate_keys
from ui.form.editor import AssessmentEditor
from ui.tasks import TaskRunner

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples" / "2.0.0"

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)

Opener = Callable[[dict[str, Any]], AssessmentEditor]
MakeFiller = Callable[[AssessmentEditor, dict[str, Any]], Filler]


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return document


def test_a_phase_transfer_review_filled_through_the_widgets(
    qtbot: QtBot, open_editor: Opener, filler: MakeFiller, vault: Vault, tasks: TaskRunner,
) -> None:
    source = example("phase-transfer-to-post-16")
    editor = open_editor({"form": "national-send-assessment", "form_version": "2.0.0",
                          "answers": {}})
    assert editor.form_version == "2.0.0"
    fill = filler(editor, source)
    for _pass in range(3):  # some questions show only after a later section's answer
        for section in editor.session.definition.sections:
            if editor.session.is_visible(section.id):
                fill.fill_section(section.id)
    session = editor.session
    assert session.is_complete, session.problems[:5]
    expected = {k: v for k, v in document_session(source).exported_answers().items() if v != []}
    expected = translate_keys(expected, fill.keys)
    assert strip_keys(session.exported_answers()) == strip_keys(expected)

    editor.show_check_answers()
    dates = [label.text() for label in editor.check_page.findChildren(QLabel)
             if label.objectName() == "statutoryDate"]
    assert any(text.startswith("Plan reviewed and amended before the move:")
               and "31 March" in text and "reg 18" in text for text in dates)
    assert any(text.startswith("The young person decides from:") for text in dates)
    shown = {label.text() for label in editor.check_page.findChildren(QLabel)}
    assert "31 March 2026" in shown
    assert "27 June 2026" in shown
    assert editor.check_page.finalise_button is not None


def test_no_dates_panel_for_a_1_0_0_record(qtbot: QtBot, open_editor: Opener) -> None:
    primary = json.loads((EXAMPLES.parent / "primary.json").read_text("utf-8"))
    editor = open_editor(primary)
    editor.show_check_answers()
    assert editor.form_version == "1.0.0"
    assert not [label for label in editor.check_page.findChildren(QLabel)
                if label.objectName() == "statutoryDate"]


def test_the_family_copy_of_a_2_0_0_record(
    qtbot: QtBot, open_editor: Opener, tmp_path: Path, pdf_text: Callable[[Path], str],
    vault: Vault,
) -> None:
    document = copy.deepcopy(example("early-years"))
    key = document["answers"]["child"]["person_key"]
    editor = open_editor(document)
    target = tmp_path / "family copy.pdf"
    with qtbot.waitSignal(editor.pdf_exported, timeout=20_000):
        editor.export_pdf(target)
    text = pdf_text(target)
    assert "Leo Example" in text
    assert "form version 2.0.0" in text
    assert key not in text.replace(" ", "")  # an identifier: never on the copy sent home
    assert text.index("About me") < text.index("About the assessment")
    assert Assessments(vault).get(editor.record_id)["form_version"] == "2.0.0"
