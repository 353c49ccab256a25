"""The assessment list with 10,000 fictional records: search, filter, sort, open, damage."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from fictional_children import COUNT, STATUS_SLICES, TODAY, BigVault, fictional_upn
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.listing import DAMAGED_TEXT, LIST_STATUSES, STATUS_LABELS, fold
from ui.assessment_list import (
    CHILD,
    COLUMNS,
    DATE_OF_BIRTH,
    ID_ROLE,
    NEXT_DATE,
    SORT_ROLE,
    STATUS,
    AssessmentListPage,
)
from ui.tasks import TaskRunner, emit

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.fixture
def page(qtbot: QtBot, big: BigVault, big_tasks: TaskRunner) -> AssessmentListPage:
    shown = AssessmentListPage(big_tasks, today=TODAY)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    with qtbot.waitSignal(shown.loaded, timeout=20_000):
        shown.refresh()
    return shown


def shown_ids(page: AssessmentListPage) -> list[str]:
    proxy = page.proxy
    return [proxy.data(proxy.index(row, 0), ID_ROLE) for row in range(proxy.rowCount())]


def proxy_column(
    page: AssessmentListPage, column: int, role: int = Qt.ItemDataRole.DisplayRole,
) -> list[object]:
    proxy = page.proxy
    return [proxy.data(proxy.index(row, column), role) for row in range(proxy.rowCount())]


def settle(qtbot: QtBot, page: AssessmentListPage, action: Callable[[], object]) -> None:
    """Do what sorts or filters the list, and wait until the result is swapped in."""
    with qtbot.waitSignal(page.proxy.arranged, timeout=10_000):
        action()


def read_uk_date(text: str) -> datetime.date:
    day, month, year = text.split()
    return datetime.date(int(year), MONTHS.index(month) + 1, int(day))


def test_every_record_is_listed_and_a_damaged_one_does_not_stop_the_others(
    page: AssessmentListPage, big: BigVault,
) -> None:
    assert page.proxy.rowCount() == COUNT
    assert page.count_label.text() == "Showing all 10,000 assessments"
    assert page.view.verticalHeader().sectionResizeMode(0).name == "Fixed"
    damaged = [row for row in page.model.rows if row.damaged]
    assert [row.id for row in damaged] == [big.damaged_id]
    assert damaged[0].child == DAMAGED_TEXT
    # A neighbour of the damaged record lists with its own name.
    neighbour = next(row for row in page.model.rows if row.id == big.ids[6])
    child = big.docs[6]["answers"]["child"]
    assert neighbour.child == f"{child['first_name']} {child['last_name']}"


def test_dates_are_shown_in_uk_format(page: AssessmentListPage, big: BigVault) -> None:
    row = next(i for i, r in enumerate(page.model.rows) if r.id == big.ids[6])
    born = datetime.date.fromisoformat(big.docs[6]["answers"]["child"]["date_of_birth"])
    index = page.model.index(row, DATE_OF_BIRTH)
    assert page.model.data(index) == f"{born.day} {MONTHS[born.month - 1]} {born.year}"
    assert page.model.data(index, SORT_ROLE) == (0, born.isoformat())


def test_searching_by_name_ignores_case_and_accents(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    expected = {
        record_id for record_id, doc in zip(big.ids, big.docs, strict=True)
        if record_id != big.damaged_id
        and doc["answers"]["child"]["first_name"] == "Zoë"
        and doc["answers"]["child"]["last_name"] == "Sørensen"
    }
    assert expected
    qtbot.keyClicks(page.search, "ZOE sorensen")  # typed in ASCII: ø matches o
    qtbot.waitUntil(lambda: page.proxy.rowCount() < COUNT, timeout=5_000)
    assert set(shown_ids(page)) == expected
    assert page.count_label.text() == f"Showing {len(expected)} of 10,000 assessments"
    # Part of a name is enough.
    page.search.setText("sørens")  # or as written
    settle(qtbot, page, page.apply_search)
    names = proxy_column(page, CHILD)
    assert names
    assert all("sorens" in fold(str(name)) for name in names)
    page.search.clear()
    settle(qtbot, page, page.apply_search)
    assert page.proxy.rowCount() == COUNT


def test_searching_by_upn_goes_through_the_blind_index(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    upn = fictional_upn(1234)
    spaced = f"{upn[:4].lower()} {upn[4:8]} {upn[8:]}"  # as someone might type it
    qtbot.keyClicks(page.search, spaced)
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 1, timeout=5_000)
    assert shown_ids(page) == [big.ids[1234]]
    # No name holds the UPN: the match came from the index, not from the displayed text.
    assert upn not in page.proxy.data(page.proxy.index(0, CHILD))
    page.search.setText(fictional_upn(9_999_999))  # no such child
    settle(qtbot, page, page.apply_search)
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 0, timeout=5_000)
    assert page.count_label.text().startswith("No assessments match")


def test_the_status_filter_shows_only_that_status(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    combo = page.status_filter
    for status in ("synced", "conflict", "amended"):
        settle(qtbot, page, lambda s=status: combo.setCurrentIndex(combo.findData(s)))
        part = STATUS_SLICES[status]
        assert set(shown_ids(page)) == set(big.ids[part])
        assert set(proxy_column(page, STATUS)) == {STATUS_LABELS[status]}
    settle(qtbot, page, lambda: combo.setCurrentIndex(combo.findData("damaged")))
    assert shown_ids(page) == [big.damaged_id]
    settle(qtbot, page, lambda: combo.setCurrentIndex(0))
    assert page.proxy.rowCount() == COUNT
    assert [combo.itemData(i) for i in range(1, combo.count() - 1)] == list(LIST_STATUSES)


def test_the_status_filter_and_a_search_combine(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    combo = page.status_filter
    settle(qtbot, page, lambda: combo.setCurrentIndex(combo.findData("synced")))
    page.search.setText("zoe")
    settle(qtbot, page, page.apply_search)
    synced = set(big.ids[STATUS_SLICES["synced"]])
    ids = shown_ids(page)
    assert ids
    assert set(ids) <= synced
    assert all(big.docs[big.ids.index(i)]["answers"]["child"]["first_name"] == "Zoë"
               for i in ids)


@pytest.mark.parametrize("column", range(len(COLUMNS)))
def test_sorting_by_any_column_uses_the_sort_keys(
    qtbot: QtBot, page: AssessmentListPage, column: int,
) -> None:
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        settle(qtbot, page, lambda o=order: page.view.sortByColumn(column, o))
        keys = proxy_column(page, column, SORT_ROLE)
        assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)
        assert page.view.horizontalHeader().sortIndicatorSection() == column
    assert page.proxy.rowCount() == COUNT


def test_date_of_birth_sorts_chronologically_not_alphabetically(
    qtbot: QtBot, page: AssessmentListPage,
) -> None:
    ascending = Qt.SortOrder.AscendingOrder
    settle(qtbot, page, lambda: page.view.sortByColumn(DATE_OF_BIRTH, ascending))
    shown = [text for text in proxy_column(page, DATE_OF_BIRTH) if text]
    dates = [read_uk_date(text) for text in shown]
    assert dates == sorted(dates)
    assert shown != sorted(shown)  # the display text alone would sort differently
    # The statutory dates too, with the rows that have none after them.
    settle(qtbot, page, lambda: page.view.sortByColumn(NEXT_DATE, ascending))
    due = [text.split(" · ")[0] for text in proxy_column(page, NEXT_DATE)]
    filled = [read_uk_date(text) for text in due if text]
    assert filled == sorted(filled)
    assert due[: len(filled)] == [text for text in due if text]


def test_sorting_is_kept_while_searching(qtbot: QtBot, page: AssessmentListPage) -> None:
    descending = Qt.SortOrder.DescendingOrder
    settle(qtbot, page, lambda: page.view.sortByColumn(DATE_OF_BIRTH, descending))
    page.search.setText("amara")
    settle(qtbot, page, page.apply_search)
    dates = [read_uk_date(t) for t in proxy_column(page, DATE_OF_BIRTH)]
    assert dates
    assert dates == sorted(dates, reverse=True)


def test_opening_a_damaged_record_says_so_in_a_sentence(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    combo = page.status_filter
    settle(qtbot, page, lambda: combo.setCurrentIndex(combo.findData("damaged")))
    index = page.proxy.index(0, CHILD)
    with qtbot.assertNotEmitted(page.open_requested):
        emit(page.view.activated, index)
    box = page.message
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible)
    assert box.text().startswith("This record is damaged and cannot be opened.")
    box.accept()


def test_keyboard_search_tab_arrow_enter_opens_the_right_record(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    page.activateWindow()
    page.search.setFocus()
    qtbot.waitUntil(page.search.hasFocus)
    qtbot.keyClicks(page.search, "amara o briain")
    qtbot.waitUntil(lambda: page.proxy.rowCount() < COUNT, timeout=5_000)
    matches = shown_ids(page)
    assert len(matches) >= 2
    qtbot.keyClick(page.search, Qt.Key.Key_Tab)  # the reading order: Status, then the table
    assert page.status_filter.hasFocus()
    qtbot.keyClick(page.status_filter, Qt.Key.Key_Tab)
    assert page.view.hasFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    current = page.view.currentIndex()
    assert current.isValid()
    expected = page.proxy.data(current, ID_ROLE)
    assert expected in matches
    with qtbot.waitSignal(page.open_requested) as opened:
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert opened.args == [expected]
    # The whole row is selected, not one cell.
    assert len(page.view.selectionModel().selectedRows()) == 1


def test_double_click_opens(qtbot: QtBot, page: AssessmentListPage) -> None:
    settle(qtbot, page, lambda: page.view.sortByColumn(CHILD, Qt.SortOrder.AscendingOrder))
    index = page.proxy.index(3, STATUS)
    rect = page.view.visualRect(index)
    # QTest's double click needs the press before it, as a real double click has.
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(page.open_requested) as opened:
        qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert opened.args == [page.proxy.data(index, ID_ROLE)]


def test_controls_have_accessible_names(page: AssessmentListPage) -> None:
    for widget in (page.search, page.status_filter, page.view, page.new_button):
        assert widget.accessibleName()
    assert page.model.data(page.model.index(0, CHILD),
                           Qt.ItemDataRole.AccessibleTextRole)


def test_an_empty_vault_shows_the_empty_state(
    qtbot: QtBot, tasks: TaskRunner,
) -> None:
    page = AssessmentListPage(tasks, today=TODAY)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded):
        page.refresh()
    assert page.stack.currentWidget() is page.empty
    assert "no assessments yet" in page.empty.text().lower()
    assert QApplication.instance() is not None
