"""Repeating sections and groups in the editor: items added, removed, moved and opened, each
touching only its own card; a long list one line per item until opened."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from forms.model import KEY_FIELD
from tests.ui_a11y.a11y_checks import page_problems
from tests.ui_form.editor_filler import Opener, example, focused, wait_saved
from ui.form.widgets import OPEN_UP_TO, MultiChoiceAdapter

# The offscreen platform's known noise (it cannot raise windows or grab the keyboard).
pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)",
)


def test_group_add_remove_undo_and_reorder(qtbot: QtBot, open_editor: Opener) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("family_views")
    assert page is not None
    before = editor.session.answers["family_views"]["contributors"]
    group = page.adapters["family_views.contributors"]
    items = getattr(group, "items")  # noqa: B009
    qtbot.mouseClick(items.item_buttons[0]["down"], Qt.MouseButton.LeftButton)
    moved = editor.session.answers["family_views"]["contributors"]
    assert [c["name"] for c in moved] == [before[1]["name"], before[0]["name"]]
    page = editor.page
    assert page is not None
    items = getattr(page.adapters["family_views.contributors"], "items")  # noqa: B009
    qtbot.mouseClick(items.item_buttons[0]["remove"], Qt.MouseButton.LeftButton)
    assert len(editor.session.answers["family_views"]["contributors"]) == 1
    assert "Undo" in editor.message.text()
    qtbot.mouseClick(editor.undo_button, Qt.MouseButton.LeftButton)
    assert editor.session.answers["family_views"]["contributors"] == moved
    wait_saved(qtbot, editor)


def test_a_provision_item_links_its_outcomes_in_one_list_ticked_by_keyboard(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(example("primary"))
    page = editor.show_section("provision")
    assert page is not None
    assert page.item_list is not None
    page.item_list.cards[0].open()  # five items: each one line until opened
    adapter = page.adapters["provision[0].outcomes"]
    assert isinstance(adapter, MultiChoiceAdapter)
    outcomes = editor.session.answers["outcomes"]
    rows = adapter.rows()
    # One row per outcome, named by number and text, in one list (not a widget per outcome).
    assert list(rows) == [o[KEY_FIELD] for o in outcomes]
    assert next(iter(rows.values())).text().startswith("Outcome 1: ")
    linked = editor.session.answers["provision"][0]["outcomes"]
    target = next(code for code in rows if code not in linked)
    adapter.list.setCurrentItem(rows[target])
    qtbot.keyClick(adapter.list, Qt.Key.Key_Space)
    assert target in editor.session.answers["provision"][0]["outcomes"]
    qtbot.keyClick(adapter.list, Qt.Key.Key_Space)
    assert editor.session.answers["provision"][0]["outcomes"] == linked
    wait_saved(qtbot, editor)


def test_adding_an_item_builds_only_its_card_and_matches_a_rebuilt_page(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    document = example("primary")
    document["answers"]["outcomes"] = document["answers"]["outcomes"][:2]  # a short list
    editor = open_editor(document)
    page = editor.show_section("outcomes")
    assert page is not None
    assert page.item_list is not None
    before = dict(page.adapters)
    assert "outcomes[0].outcome" in before
    count = len(page.item_list.cards)
    qtbot.mouseClick(page.item_list.add_button, Qt.MouseButton.LeftButton)
    assert editor.page is page  # not rebuilt
    assert all(page.adapters[path] is adapter for path, adapter in before.items())
    new = f"outcomes[{count}].outcome"
    assert new in page.adapters
    focused = QApplication.focusWidget()
    assert focused is not None
    assert page.item_list.cards[-1].isAncestorOf(focused)  # the focus is in the new item
    qtbot.keyClicks(page.adapters[new].primary(), "Will read a page aloud")
    assert editor.session.answers["outcomes"][count]["outcome"] == "Will read a page aloud"
    # The same fields, in the same order and state, as a page built from scratch.
    rebuilt = editor.show_section("outcomes", rebuild=True)
    assert rebuilt is not None
    assert rebuilt is not page
    for each in (page, rebuilt):  # a long list: every item opened, to compare them all
        assert each.item_list is not None
        for card in each.item_list.cards:
            card.open()
    assert list(rebuilt.adapters) == list(page.adapters)
    assert [a.get() for a in rebuilt.adapters.values()] == [
        a.get() for a in page.adapters.values()]
    wait_saved(qtbot, editor)


def long_outcomes(count: int = 12) -> dict[str, Any]:
    """The primary example with `count` outcomes (more than a list opens with)."""
    document = example("primary")
    answers = document["answers"]
    first = answers["outcomes"][0]
    answers["outcomes"] = [dict(first, _key=f"o{i}", outcome=f"Will do thing number {i + 1}")
                           for i in range(count)]
    for item in answers["provision"]:
        item["outcomes"] = ["o0"]
    return document


def test_a_long_list_opens_one_line_per_item_and_an_item_opens_by_keyboard(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    assert OPEN_UP_TO < 12
    editor = open_editor(long_outcomes(12))
    page = editor.show_section("outcomes")
    assert page is not None
    assert page.item_list is not None
    cards = page.item_list.cards
    assert len(cards) == 12
    # No item's questions are built: each item is one line naming it by number and words.
    assert not any(path.startswith("outcomes[") for path in page.adapters)
    assert all(not card.is_open for card in cards)
    openers = [card.opener for card in cards]
    assert all(opener is not None and opener.isVisible() for opener in openers)
    assert [o.accessibleName() for o in openers if o is not None][:2] == [
        "Outcome 1: Will do thing number 1", "Outcome 2: Will do thing number 2"]
    # The page passes the accessibility checks: every line named, the Tab walk reaches each.
    assert page_problems(qtbot, editor, "outcomes") == []
    opener = cards[3].opener
    assert opener is not None
    opener.setFocus()
    qtbot.keyClick(opener, Qt.Key.Key_Space)
    assert cards[3].is_open
    assert not cards[2].is_open
    adapter = page.adapters["outcomes[3].outcome"]
    assert adapter.get() == "Will do thing number 4"
    assert adapter.primary().accessibleName() == "Outcome 4: " + adapter.question.label
    widget = focused()
    assert widget is not None
    assert cards[3].isAncestorOf(widget)  # the focus went into the item
    qtbot.keyClicks(adapter.primary(), " well")
    assert editor.session.answer("outcomes[3].outcome") == "Will do thing number 4 well"
    wait_saved(qtbot, editor)


def test_a_problem_in_a_closed_item_is_listed_and_its_link_opens_the_item(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    document = long_outcomes(12)
    del document["answers"]["outcomes"][8]["by_when"]
    editor = open_editor(document)
    page = editor.show_section("outcomes")
    assert page is not None
    assert page.item_list is not None
    card = page.item_list.cards[8]
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    entries = [e for e in page.summary.entries if e.property("path") == "outcomes[8].by_when"]
    assert len(entries) == 1
    assert entries[0].text().startswith("Outcome 9: ")  # named although not built
    assert card.opener is not None
    assert card.opener.accessibleName().endswith("(1 answer to fix)")
    assert not card.is_open
    entries[0].setFocus()
    qtbot.keyClick(entries[0], Qt.Key.Key_Space)
    assert card.is_open
    adapter = page.adapters["outcomes[8].by_when"]
    assert focused() is adapter.primary()
    assert adapter.error_label.isVisible()  # its error shown inline once opened
    assert "Error:" in adapter.primary().accessibleDescription()


def test_removing_and_moving_items_keep_the_other_cards_and_renumber_them(
    qtbot: QtBot, open_editor: Opener,
) -> None:
    editor = open_editor(long_outcomes(12))
    page = editor.show_section("outcomes")
    assert page is not None
    item_list = page.item_list
    assert item_list is not None
    for index in (2, 3, 4):
        item_list.cards[index].open()
    before = list(item_list.cards)
    third = page.adapters["outcomes[3].outcome"]  # "Will do thing number 4"

    qtbot.mouseClick(item_list.cards[2].buttons["remove"], Qt.MouseButton.LeftButton)
    assert editor.page is page  # the page is kept
    assert item_list.cards == before[:2] + before[3:]  # the same cards, one fewer
    assert page.adapters["outcomes[2].outcome"] is third  # renumbered, not rebuilt
    assert third.primary().accessibleName().startswith("Outcome 3: ")
    assert item_list.cards[2].buttons["remove"].accessibleName() == "Remove: Outcome 3"
    closed = item_list.cards[6].opener
    assert closed is not None
    assert closed.accessibleName() == "Outcome 7: Will do thing number 8"
    assert "outcomes[11].outcome" not in page.adapters
    qtbot.keyClicks(third.primary(), "!")
    assert editor.session.answer("outcomes[2].outcome") == "Will do thing number 4!"

    fourth = page.adapters["outcomes[3].outcome"]  # "Will do thing number 5"
    qtbot.mouseClick(item_list.cards[3].buttons["up"], Qt.MouseButton.LeftButton)
    assert item_list.cards[2:4] == [before[4], before[3]]  # swapped, not rebuilt
    assert page.adapters["outcomes[2].outcome"] is fourth
    assert page.adapters["outcomes[3].outcome"] is third
    assert [o["outcome"] for o in editor.session.answers["outcomes"][2:4]] == [
        "Will do thing number 5", "Will do thing number 4!"]
    assert focused() in item_list.cards[2].buttons.values()
    qtbot.keyClicks(fourth.primary(), "?")
    assert editor.session.answer("outcomes[2].outcome") == "Will do thing number 5?"

    qtbot.mouseClick(item_list.add_button, Qt.MouseButton.LeftButton)
    assert item_list.cards[:11] == [*before[:2], before[4], before[3], *before[5:]]
    assert item_list.cards[-1].is_open
    # The items opened before close to one line: the page holds the item being worked on.
    assert not any(card.is_open for card in item_list.cards[:-1])
    assert {path.split(".")[0] for path in page.adapters} == {"outcomes[11]"}
    closed = item_list.cards[2].opener
    assert closed is not None
    assert closed.accessibleName() == "Outcome 3: Will do thing number 5?"
    qtbot.keyClicks(page.adapters["outcomes[11].outcome"].primary(), "New")
    assert editor.session.answer("outcomes[11].outcome") == "New"
    wait_saved(qtbot, editor)
