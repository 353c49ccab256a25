"""The "New assessment" dialog: a draft for a new child, and never a silent second one."""

from __future__ import annotations

import pytest
from fictional_children import TODAY, document, fictional_upn
from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from forms.registry import load_definition
from forms.validators import check_person_key, check_upn
from ui.assessment_list import AssessmentListPage
from ui.new_assessment import DUPLICATE_SENTENCE, NewAssessmentDialog
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


@pytest.fixture
def page(qtbot: QtBot, tasks: TaskRunner) -> AssessmentListPage:
    shown = AssessmentListPage(tasks, today=TODAY)
    qtbot.addWidget(shown)
    shown.show()
    with qtbot.waitSignal(shown.loaded):
        shown.refresh()
    return shown


def open_dialog(page: AssessmentListPage) -> NewAssessmentDialog:
    page.new_assessment()
    dialog = page.dialog
    assert isinstance(dialog, NewAssessmentDialog)
    assert dialog.isVisible()
    return dialog


def fill(qtbot: QtBot, dialog: NewAssessmentDialog, born: str, upn: str = "") -> None:
    qtbot.keyClicks(dialog.first_name, "Amara")
    qtbot.keyClicks(dialog.last_name, "Okafor")
    qtbot.keyClicks(dialog.date_of_birth, born)
    if upn:
        qtbot.keyClicks(dialog.upn, upn)


def test_a_new_assessment_is_a_draft_of_the_latest_form_and_opens(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault,
) -> None:
    dialog = open_dialog(page)
    upn = fictional_upn(42)
    fill(qtbot, dialog, "27/03/2015", upn.lower())
    opened: list[str] = []
    page.open_requested.connect(opened.append)
    with qtbot.waitSignals([page.open_requested, page.loaded], timeout=10_000):
        dialog.create_button.click()
    [record_id] = opened
    saved = Assessments(vault).get(record_id)
    assert saved["status"] == "draft"
    assert saved["form"] == "national-send-assessment"
    assert saved["form_version"] == load_definition("national-send-assessment").version
    assert saved["answers"] == {"child": {
        "first_name": "Amara", "last_name": "Okafor", "date_of_birth": "2015-03-27",
        "upn": upn}}
    assert not dialog.isVisible()
    assert [row.id for row in page.model.rows] == [record_id]


def test_the_upn_is_optional_and_an_iso_date_is_accepted(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault,
) -> None:
    dialog = open_dialog(page)
    fill(qtbot, dialog, "2016-01-14")
    with qtbot.waitSignal(page.open_requested, timeout=10_000) as done:
        dialog.create_button.click()
    child = Assessments(vault).get(done.args[0])["answers"]["child"]
    key = child.pop("person_key")  # with no UPN, a OneSEND person key (form 2.0.0)
    assert check_person_key(key) is None
    assert child == {"first_name": "Amara", "last_name": "Okafor", "date_of_birth": "2016-01-14"}


@pytest.mark.parametrize(("born", "upn", "sentence", "field"), [
    ("27/03/2015", "A12345678901", check_upn("A12345678901"), "upn"),
    ("31/02/2015", "", "Enter the date of birth as a real date, for example 27/03/2015.",
     "date_of_birth"),
    ("01/01/2999", "", "The date of birth must be in the past.", "date_of_birth"),
])
def test_a_wrong_answer_is_one_sentence_and_nothing_is_made(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault, born: str, upn: str, sentence: str,
    field: str,
) -> None:
    dialog = open_dialog(page)
    fill(qtbot, dialog, born, upn)
    with qtbot.assertNotEmitted(page.open_requested, wait=200):
        dialog.create_button.click()
    assert dialog.message.isVisible()
    assert dialog.message.text() == sentence
    assert dialog.focusWidget() is getattr(dialog, field)
    assert Assessments(vault).count() == 0
    dialog.reject()


def test_a_missing_name_is_asked_for(qtbot: QtBot, page: AssessmentListPage) -> None:
    dialog = open_dialog(page)
    qtbot.keyClicks(dialog.last_name, "Okafor")
    dialog.create_button.click()
    assert dialog.message.text() == "Enter the child's first name."
    assert dialog.focusWidget() is dialog.first_name
    dialog.reject()


def _existing(vault: Vault, upn: str) -> str:
    return Assessments(vault).create(
        document("Amara", "Okafor", "2015-03-27", upn=upn))[0]


def test_a_known_upn_warns_and_can_open_the_existing_record(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault,
) -> None:
    upn = fictional_upn(7)
    existing = _existing(vault, upn)
    dialog = open_dialog(page)
    fill(qtbot, dialog, "27/03/2015", upn)
    dialog.create_button.click()
    qtbot.waitUntil(dialog.duplicate.isVisible, timeout=5_000)
    assert dialog.duplicate_label.text() == DUPLICATE_SENTENCE
    assert dialog.focusWidget() is dialog.open_existing
    with qtbot.waitSignal(page.open_requested, timeout=5_000) as opened:
        dialog.open_existing.click()
    assert opened.args == [existing]
    assert Assessments(vault).count() == 1  # no second child was made


def test_a_known_upn_can_knowingly_get_another_assessment(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault,
) -> None:
    upn = fictional_upn(8)
    existing = _existing(vault, upn)
    dialog = open_dialog(page)
    fill(qtbot, dialog, "27/03/2015", upn)
    dialog.create_button.click()
    qtbot.waitUntil(dialog.duplicate.isVisible, timeout=5_000)
    with qtbot.waitSignal(page.open_requested, timeout=5_000) as opened:
        dialog.create_anyway.click()
    assert opened.args[0] != existing
    assert sorted(Assessments(vault).find_by_upn(upn)) == sorted([existing, opened.args[0]])


def test_changing_the_upn_takes_the_warning_away(
    qtbot: QtBot, page: AssessmentListPage, vault: Vault,
) -> None:
    upn = fictional_upn(9)
    _existing(vault, upn)
    dialog = open_dialog(page)
    fill(qtbot, dialog, "27/03/2015", upn)
    dialog.create_button.click()
    qtbot.waitUntil(dialog.duplicate.isVisible, timeout=5_000)
    qtbot.keyClicks(dialog.upn, "1")
    assert not dialog.duplicate.isVisible()
    dialog.reject()
