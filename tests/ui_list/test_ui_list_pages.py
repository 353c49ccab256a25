"""The list at scale: the first page is painted before the whole list is read, and sorting,
searching and the selection stay right while the other pages arrive."""

from __future__ import annotations

import pytest
from fictional_children import COUNT, TODAY, BigVault
from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from desktop.listing import FIRST_PAGE, fold, list_rows, next_page, start_load
from ui.assessment_list import CHILD, ID_ROLE, SORT_ROLE, AssessmentListPage
from ui.tasks import TaskRunner

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


@pytest.fixture
def page(qtbot: QtBot, big_tasks: TaskRunner) -> AssessmentListPage:
    shown = AssessmentListPage(big_tasks, today=TODAY)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def first_page(qtbot: QtBot, page: AssessmentListPage) -> None:
    """Start loading and return as soon as the first page is in (the rest still coming)."""
    with qtbot.waitSignal(page.page_loaded, timeout=20_000):
        page.refresh()


def column(page: AssessmentListPage, col: int, role: int) -> list[object]:
    proxy = page.proxy
    return [proxy.data(proxy.index(row, col), role) for row in range(proxy.rowCount())]


def all_in(qtbot: QtBot, page: AssessmentListPage) -> None:
    """Every page read and nothing left to arrange."""
    qtbot.waitUntil(lambda: not page.loading and not page.proxy.pending
                    and page.model.rowCount() == COUNT, timeout=30_000)


def test_paged_rows_are_the_whole_list_in_its_order(big: BigVault) -> None:
    whole = list_rows(big.vault, TODAY)
    load, paged = start_load(big.vault, TODAY), []
    while not load.finished:
        paged += next_page(big.vault, load, 3_000)
    assert paged == whole


def test_the_first_page_is_painted_before_the_rest_is_read(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    first_page(qtbot, page)
    assert page.loading
    assert page.proxy.rowCount() == page.model.rowCount() == FIRST_PAGE < COUNT
    newest = [row.id for row in list_rows(big.vault, TODAY)[:FIRST_PAGE]]
    assert column(page, CHILD, ID_ROLE) == newest
    assert page.count_label.text() == f"Showing {FIRST_PAGE} so far; loading 10,000 assessments…"
    grown = []
    page.page_loaded.connect(lambda: grown.append(page.model.rowCount()))
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        pass
    assert grown == sorted(grown)
    assert grown[-1] == COUNT
    assert page.count_label.text() == "Showing all 10,000 assessments"


def test_sorting_while_loading_shows_only_sorted_rows_and_ends_sorted(
    qtbot: QtBot, page: AssessmentListPage,
) -> None:
    first_page(qtbot, page)
    with qtbot.waitSignal(page.proxy.arranged, timeout=10_000):
        page.view.sortByColumn(CHILD, Qt.SortOrder.AscendingOrder)
    checks = []

    def check() -> None:
        keys = column(page, CHILD, SORT_ROLE)
        checks.append(keys == sorted(keys))

    page.proxy.layoutChanged.connect(check)
    page.proxy.rowsInserted.connect(check)
    all_in(qtbot, page)
    check()
    assert checks
    assert all(checks)  # at every step, not only at the end
    assert page.proxy.rowCount() == COUNT


def test_searching_while_loading_finds_every_match_once_all_is_read(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    expected = {record_id for record_id, doc in zip(big.ids, big.docs, strict=True)
                if record_id != big.damaged_id
                and "zoe" in fold(doc["answers"]["child"]["first_name"])}
    first_page(qtbot, page)
    page.search.setText("zoe")
    with qtbot.waitSignal(page.proxy.arranged, timeout=10_000):
        page.apply_search()
    shown = set(column(page, CHILD, ID_ROLE))
    assert shown <= expected
    all_in(qtbot, page)
    assert set(column(page, CHILD, ID_ROLE)) == expected


def test_a_newer_search_overtakes_an_older_one(
    qtbot: QtBot, page: AssessmentListPage, big: BigVault,
) -> None:
    first_page(qtbot, page)
    all_in(qtbot, page)
    page.search.setText("zoe")
    page.apply_search()
    page.search.setText("amara")
    page.apply_search()
    qtbot.waitUntil(lambda: not page.proxy.pending, timeout=10_000)
    names = [fold(str(name)) for name in column(page, CHILD, Qt.ItemDataRole.DisplayRole)]
    assert names
    assert all("amara" in name for name in names)


def test_the_selection_stays_on_its_record_while_pages_arrive_and_the_order_changes(
    qtbot: QtBot, page: AssessmentListPage,
) -> None:
    first_page(qtbot, page)
    index = page.proxy.index(5, CHILD)
    chosen = page.proxy.data(index, ID_ROLE)
    flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
             | QItemSelectionModel.SelectionFlag.Rows)
    page.view.selectionModel().setCurrentIndex(index, flags)
    with qtbot.waitSignal(page.page_loaded, timeout=20_000):
        pass  # the next page is appended under the selection
    assert page.model.rowCount() > FIRST_PAGE

    def selected() -> list[object]:
        rows = page.view.selectionModel().selectedRows()
        return [page.proxy.data(row, ID_ROLE) for row in rows]

    assert selected() == [chosen]
    with qtbot.waitSignal(page.proxy.arranged, timeout=10_000):
        page.view.sortByColumn(CHILD, Qt.SortOrder.DescendingOrder)
    assert selected() == [chosen]
    all_in(qtbot, page)
    assert selected() == [chosen]
    assert page.proxy.data(page.view.currentIndex(), ID_ROLE) == chosen


def test_held_pages_wait_for_the_release_and_only_the_latest_load_goes_on(
    qtbot: QtBot, page: AssessmentListPage,
) -> None:
    # While the window is still being built the list reads its first page only: the other
    # pages' decryption would share the GIL with every step of the building.
    page.hold_pages()
    first_page(qtbot, page)
    qtbot.wait(300)  # the turns in which the next page used to arrive
    assert page.model.rowCount() == FIRST_PAGE
    assert page.loading
    first_page(qtbot, page)  # reloaded meanwhile (an import, a sync): the older load is dropped
    assert page.model.rowCount() == FIRST_PAGE
    with qtbot.waitSignal(page.loaded, timeout=30_000):
        page.release_pages()
    all_in(qtbot, page)
    assert page.count_label.text() == "Showing all 10,000 assessments"


def test_a_lock_while_pages_are_held_reads_nothing_more(
    qtbot: QtBot, page: AssessmentListPage,
) -> None:
    page.hold_pages()
    first_page(qtbot, page)
    page.forget()
    arrived: list[int] = []
    page.page_loaded.connect(lambda: arrived.append(page.model.rowCount()))
    page.release_pages()
    qtbot.wait(300)
    assert arrived == []
    assert page.model.rowCount() == 0
