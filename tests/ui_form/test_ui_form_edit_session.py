"""The editor's state without Qt: undo, the autosave state machine and the sign-off gate.

`ui.form.edit_session` is driven here by plain calls (no widget, no event loop); the editor
widget's own tests check that it draws what this decides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ui.form.edit_session import COALESCE_SECONDS, UNDO_LIMIT, EditSession, section_of
from ui.form.navigation import CHECK_PAGE, HISTORY_PAGE, following, sidebar_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def example(name: str = "primary", **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.setdefault("id", "record-1")
    document.update(changes)
    return document


def test_importing_the_controller_loads_no_qt() -> None:
    code = ("import sys, ui.form.edit_session, ui.form.navigation; "
            "print(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).resolve().parents[2])
    assert shown.stdout.strip() == "False"


def test_typing_in_one_field_is_one_undo_step_and_undo_puts_it_back() -> None:
    clock = Clock()
    edit = EditSession(example(), clock=clock)
    before = edit.session.answers
    for text in ("T", "Tr", "Tra"):
        assert edit.set_answer("about_me.interests", text)
        clock.now += 0.5
    assert edit.undo_depth == 1
    assert edit.dirty
    step = edit.undo()
    assert step is not None
    assert step.path == "about_me.interests"
    assert edit.session.answers == before
    assert not edit.can_undo


def test_a_pause_or_another_field_starts_a_new_step() -> None:
    clock = Clock()
    edit = EditSession(example(), clock=clock)
    edit.set_answer("about_me.interests", "a")
    clock.now += COALESCE_SECONDS + 0.1
    edit.set_answer("about_me.interests", "ab")
    edit.set_answer("about_me.aspirations", "c")
    assert edit.undo_depth == 3
    edit.undo()
    assert edit.session.answer("about_me.interests") == "ab"
    edit.undo()
    assert edit.session.answer("about_me.interests") == "a"


def test_undo_of_the_first_answer_in_an_empty_section_leaves_no_trace() -> None:
    edit = EditSession(example("draft"))
    before = edit.session.answers
    assert not edit.session.has_section_answers("about_me") or "about_me" in before
    edit.set_answer("about_me.interests", "Lego")
    edit.undo()
    assert edit.session.answers == before
    assert edit.document()["answers"] == before


def test_item_changes_are_undone_whole() -> None:
    edit = EditSession(example())
    before = edit.session.answers
    focus = edit.change_items("outcomes", "add", 0, 0)
    assert focus == f"outcomes[{len(before['outcomes'])}]"
    assert edit.change_items("outcomes", "move", 0, 1) == "outcomes[1]"
    edit.change_items("outcomes", "remove", 0, 0)
    for _ in range(3):
        edit.undo()
    assert edit.session.answers == before
    with pytest.raises(ValueError, match="Not an item action"):
        edit.change_items("outcomes", "shuffle", 0, 0)


def test_the_undo_history_is_bounded_and_forgotten() -> None:
    clock = Clock()
    edit = EditSession(example(), clock=clock)
    for n in range(UNDO_LIMIT + 5):
        edit.set_answer("about_me.interests", f"v{n}")
        clock.now += COALESCE_SECONDS + 1
    assert edit.undo_depth == UNDO_LIMIT
    edit.forget()
    assert edit.undo() is None


def test_a_finalised_record_takes_no_edits_and_cannot_be_finalised_again() -> None:
    edit = EditSession(example(status="ready"))
    before = edit.session.answers
    assert edit.read_only
    assert not edit.set_answer("about_me.interests", "x")
    assert edit.change_items("outcomes", "add", 0, 0) is None
    assert edit.undo() is None
    assert not edit.can_finalise()
    assert edit.session.answers == before
    assert not edit.dirty


def test_only_a_complete_record_may_be_finalised_and_its_sections_count_as_checked() -> None:
    complete = EditSession(example())
    assert complete.session.is_complete
    assert complete.can_finalise()
    incomplete = EditSession(example("draft"))
    assert not incomplete.can_finalise()
    assert incomplete.checked == {s.id for s in incomplete.session.visible_sections}


def test_autosave_writes_once_at_a_time_and_again_for_what_changed_meanwhile() -> None:
    edit = EditSession(example())
    assert edit.take_save() is None  # nothing changed
    edit.set_answer("about_me.interests", "one")
    first = edit.take_save()
    assert first is not None
    assert first["answers"]["about_me"]["interests"] == "one"
    assert edit.in_flight
    assert not edit.dirty
    edit.set_answer("about_me.interests", "two")
    assert edit.take_save() is None  # one write at a time...
    assert edit.again
    assert edit.save_done(2)  # ...and the change made meanwhile is written next
    assert edit.revision == 2
    second = edit.take_save()
    assert second is not None
    assert second["answers"]["about_me"]["interests"] == "two"
    assert not edit.save_done(3)
    assert edit.take_save() is None


def test_a_failed_write_keeps_the_answers_to_write() -> None:
    edit = EditSession(example())
    edit.set_answer("about_me.interests", "kept")
    document = edit.take_save()
    assert document is not None
    edit.save_failed()
    assert edit.dirty
    assert not edit.in_flight
    assert not edit.again
    retry = edit.take_save()
    assert retry == document


def test_reload_starts_again_from_the_stored_record() -> None:
    edit = EditSession(example())
    edit.set_answer("about_me.interests", "x")
    stored = example(status="ready", revision=7)
    edit.reload(stored)
    assert (edit.revision, edit.status, edit.read_only) == (7, "ready", True)
    assert not edit.dirty
    assert edit.undo_depth == 0
    assert edit.child_name() == " ".join(
        stored["answers"]["child"][k] for k in ("first_name", "last_name"))


EDIT_PATHS = ["about_me.interests", "about_me.aspirations", "child.first_name",
              "outcomes[0].outcome", "strengths.summary"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.tuples(st.sampled_from(EDIT_PATHS), st.one_of(st.none(), st.text(max_size=5)),
              st.floats(0, 3)),
    st.tuples(st.just("outcomes"), st.sampled_from(["add", "remove", "move"]), st.floats(0, 3)),
), max_size=12))
def test_undoing_every_step_gives_back_the_answers_it_started_from(
    steps: list[tuple[str, Any, float]],
) -> None:
    clock = Clock()
    edit = EditSession(example(), clock=clock)
    start = edit.session.answers
    history = [start]
    for path, what, pause in steps:
        clock.now += pause
        try:
            if path == "outcomes":
                count = len(edit.session.answers.get("outcomes") or [])
                if what != "add" and count < 2:
                    continue
                edit.change_items("outcomes", what, 0, 1)
            else:
                edit.set_answer(path, what)
        except Exception:  # noqa: BLE001 - a path the form rejects changes nothing
            continue
        history.append(edit.session.answers)
    while edit.undo() is not None:
        pass
    assert edit.session.answers == start


def test_the_side_list_and_next_follow_the_visible_sections() -> None:
    edit = EditSession(example())
    rows = sidebar_rows(edit.session)
    visible = [s.id for s in edit.session.visible_sections]
    assert [key for key, _words in rows] == [*visible, CHECK_PAGE, HISTORY_PAGE]
    words = dict(rows)
    assert words["child"].startswith("✓ ")
    assert words["child"].endswith("(complete)")
    assert following(edit.session, visible[0]) == (
        visible[1], edit.session.definition.sections_by_id[visible[1]].title)
    assert following(edit.session, visible[-1]) is None
    edit.set_answer("child.upn", "M204123416009")  # a wrong check letter
    assert dict(sidebar_rows(edit.session))["child"].startswith("○ ")
    assert "1 to fix" in dict(sidebar_rows(edit.session))["child"]


def test_missing_answers_are_shown_only_in_a_checked_section_and_items_named() -> None:
    edit = EditSession(example())
    edit.change_items("outcomes", "add", 0, 0)
    assert edit.session.problems_at("outcomes")
    assert edit.problems_to_show("outcomes") == []  # not checked yet: missing ones wait
    edit.checked.add("outcomes")
    assert edit.problems_to_show("outcomes") == edit.session.problems_at("outcomes")
    assert edit.item_label("outcomes") == "Outcome"
    assert edit.item_label("family_views.contributors") != "Item"
    assert section_of("family_views.contributors[1].name") == "family_views"
    assert section_of("provision[3].what") == "provision"


def test_undoing_added_and_moved_items_puts_everything_back() -> None:
    edit = EditSession(example("primary", answers={}))
    for path in ("outcomes", "family_views.contributors"):
        edit.change_items(path, "add", 0, 0)  # a first item: undone to no list at all
        edit.undo()
        assert edit.session.answers == {}
    edit = EditSession(example())
    before = edit.session.answers
    edit.change_items("outcomes", "add", 0, 0)
    edit.change_items("outcomes", "move", 0, 2)
    edit.set_answer("outcomes[4].outcome", "Will swim a length")
    for _ in range(3):
        edit.undo()
    assert edit.session.answers == before
