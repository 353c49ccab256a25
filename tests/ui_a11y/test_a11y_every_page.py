"""The accessibility tree and the Tab walk on every page of the window (issue 11).

Run offscreen in the process, through Qt's own QAccessible interfaces (what a screen reader
reads over AT-SPI): the profile pages, unlock, recovery, the list, every section of the form,
check your answers, history, the import dialog and the sync area. The conflict view is
checked in tests/ui_sync/test_ui_sync_a11y.py, where a real server makes a conflict.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop.profiles import Profiles
from ui.ctf_import_dialog import CtfImportDialog

from .a11y_checks import page_problems
from .conftest import (
    PASSWORD,
    MakeWindow,
    open_in_window,
    window_with_example,
)

CTF = Path(__file__).resolve().parents[1] / "ctf"


def test_the_pages_before_a_profile_is_open(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    window = make_window()
    problems = page_problems(qtbot, window, "create a profile")
    create = window.create_page
    qtbot.keyClicks(create.name_edit, "sam")
    qtbot.keyClicks(create.password_edit, PASSWORD)
    qtbot.keyClicks(create.confirm_edit, PASSWORD)
    qtbot.keyClick(create.confirm_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current_page is window.recovery_page, timeout=10_000)
    problems += page_problems(qtbot, window, "recovery key")
    window.recovery_page.confirm_box.setChecked(True)
    window.recovery_page.continue_button.click()
    qtbot.waitUntil(lambda: window.session_is_ready, timeout=10_000)
    window.lock()
    qtbot.waitUntil(lambda: window.current_page is window.unlock_page, timeout=10_000)
    problems += page_problems(qtbot, window, "unlock")
    window.unlock_page.recover_button.click()
    problems += page_problems(qtbot, window, "recover with the key")
    assert problems == [], "\n".join(problems)


def test_the_list_every_section_check_your_answers_and_history(
    qtbot: QtBot, profiles: Profiles, make_window: MakeWindow,
) -> None:
    window, workspace, record_id = window_with_example(qtbot, profiles, make_window)
    qtbot.waitUntil(lambda: workspace.list_page.model.rowCount() == 1, timeout=10_000)
    problems = page_problems(qtbot, window, "list")
    editor = open_in_window(qtbot, window, record_id)
    for section in list(editor.session.visible_sections):
        editor.show_section(section.id)
        problems += page_problems(qtbot, window, f"section {section.title}")
    editor.show_check_answers()
    problems += page_problems(qtbot, window, "check your answers")
    with qtbot.waitSignal(editor.history.loaded, timeout=10_000):
        editor.show_history()
    problems += page_problems(qtbot, window, "history")
    window.sync_action.trigger()
    qtbot.waitUntil(lambda: window.sync_panel is not None
                    and window.sync_panel.isVisible(), timeout=10_000)
    problems += page_problems(qtbot, window, "sync area")
    assert problems == [], "\n".join(problems)


def test_the_import_dialog(qtbot: QtBot, tasks: object, tmp_path: Path) -> None:
    import sys  # noqa: PLC0415

    sys.path.insert(0, str(CTF))
    from ctf_generator import make_pupils, render  # noqa: PLC0415

    path = tmp_path / "school.xml"
    path.write_bytes(render(make_pupils(3, seed=2)))
    dialog = CtfImportDialog(tasks)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    problems = page_problems(qtbot, dialog, "import: choose a file")
    dialog.load_file(path)
    qtbot.waitUntil(lambda: dialog.state == "previewing", timeout=20_000)
    problems += page_problems(qtbot, dialog, "import: preview")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.state == "done", timeout=30_000)
    problems += page_problems(qtbot, dialog, "import: summary")
    assert problems == [], "\n".join(problems)
