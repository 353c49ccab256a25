"""Finding 12: without a UPN, the same name and date of birth gets the duplicate warning."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.assessments import Assessments
from desktop.vault import Vault
from ui.new_assessment import SAME_CHILD_SENTENCE, NewAssessmentDialog, new_document
from ui.tasks import TaskRunner


def fill(qtbot: QtBot, dialog: NewAssessmentDialog, first: str, last: str, born: str) -> None:
    qtbot.keyClicks(dialog.first_name, first)
    qtbot.keyClicks(dialog.last_name, last)
    qtbot.keyClicks(dialog.date_of_birth, born)


def test_the_same_name_and_birth_date_without_a_upn_warns(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner,
) -> None:
    existing, _ = Assessments(vault).create(new_document("Amara", "Okafor", "2015-03-27", ""))
    dialog = NewAssessmentDialog(tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(qtbot, dialog, "amara ", "OKAFOR", "27/03/2015")
    dialog.create_button.click()
    qtbot.waitUntil(dialog.duplicate.isVisible, timeout=5_000)
    assert dialog.duplicate_label.text() == SAME_CHILD_SENTENCE
    assert dialog.existing == [existing]
    assert Assessments(vault).count() == 1
    with qtbot.waitSignal(dialog.chosen, timeout=5_000) as chosen:
        dialog.open_existing.click()
    assert chosen.args == [existing]


def test_another_child_with_the_same_name_is_not_a_duplicate(
    qtbot: QtBot, vault: Vault, tasks: TaskRunner,
) -> None:
    Assessments(vault).create(new_document("Amara", "Okafor", "2015-03-27", ""))
    dialog = NewAssessmentDialog(tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    fill(qtbot, dialog, "Amara", "Okafor", "28/03/2015")
    with qtbot.waitSignal(dialog.chosen, timeout=5_000):
        dialog.create_button.click()
    assert not dialog.duplicate.isVisible()
    assert Assessments(vault).count() == 2
