"""The editor at the form's limits (issue 10, targets 3 and 4): keystroke, section, item, errors.

Two records: the primary example as it is, and the limit case built from it (60 outcomes and
199 provision items, each item linked to two outcomes). For each: opening every other section
(the slowest is printed) and the provision section (target: under 300 ms), opening one closed
provision item, the GUI-thread time of a keystroke in a provision item's text field (target:
under 5 ms for the example, 16 ms at the limit) split into the engine's share (timed around
`Session.set_answer`) and the editor's, adding, moving and removing one provision item (each
should cost about what it costs in the example: only that item is touched), and showing every
problem of the provision section. Each limit figure is printed beside the example's from the
same run (the ratio), since these machines are noisy.

Run: .venv/bin/python bench/bench_editor.py. To measure another checkout with this script
(a before/after pair), set BENCH_TREE=/path/to/checkout.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(os.environ.get("BENCH_TREE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit  # noqa: E402

from desktop.assessments import Assessments  # noqa: E402
from desktop.crypto import FAST_KDF  # noqa: E402
from desktop.profiles import Profiles  # noqa: E402
from ui.form.editor import AssessmentEditor  # noqa: E402
from ui.tasks import TaskRunner, vault_opener  # noqa: E402

OUTCOMES, PROVISION = 60, 199  # 199: room to add the 200th (the bound)


def quiet(_kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if "This plugin does not support" not in message:
        sys.stderr.write(message + "\n")


def example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (ROOT / "forms" / "examples" / "primary.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def limit() -> dict[str, Any]:
    document = example()
    answers = document["answers"]
    outcome, item = answers["outcomes"][0], answers["provision"][0]
    answers["outcomes"] = [dict(outcome, _key=f"o{i}") for i in range(OUTCOMES)]
    answers["provision"] = [
        dict(item, _key=f"s{i}", outcomes=[f"o{i % OUTCOMES}", f"o{(i + 1) % OUTCOMES}"])
        for i in range(PROVISION)
    ]
    return document


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    QApplication.processEvents()
    return time.perf_counter() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def measure(app: QApplication, tasks: TaskRunner, store: Assessments,
            document: dict[str, Any]) -> dict[str, float]:
    record_id, _ = store.create(document)
    stored = store.get(record_id)
    figures: dict[str, float] = {}

    editor = AssessmentEditor(tasks, stored, autosave_ms=60_000)
    editor.resize(1100, 800)
    editor.show()
    app.processEvents()
    # Every section once (the slowest is the figure), then the provision section again fresh.
    sections = [s.id for s in editor.session.visible_sections if s.id != "provision"]
    figures["open slowest other section"] = max(
        timed(lambda sid=sid: editor.show_section(sid)) for sid in sections)
    figures["open provision"] = timed(lambda: editor.show_section("provision"))
    page = editor.page
    assert page is not None
    item_list = page.item_list
    assert item_list is not None
    if "provision[0].what" not in page.adapters:  # a long list: its items open one by one
        figures["open one item"] = timed(item_list.cards[0].open)
    else:
        figures["open one item"] = 0.0
    adapter = page.adapters["provision[0].what"]
    edit = adapter.primary()
    assert isinstance(edit, QLineEdit | QPlainTextEdit)
    edit.setFocus()
    # The engine's share of a keystroke, timed around the session's own set_answer.
    session = editor.session
    engine: list[float] = []
    set_answer = session.set_answer

    def engine_set_answer(path: str, value: object) -> None:
        start = time.perf_counter()
        set_answer(path, value)
        engine.append(time.perf_counter() - start)

    session.set_answer = engine_set_answer  # type: ignore[method-assign]  # bench probe
    keys = [timed(lambda: QTest.keyClick(edit, "x")) for _ in range(25)]
    session.set_answer = set_answer  # type: ignore[method-assign]
    figures["keystroke"] = statistics.median(keys)
    figures["keystroke: engine"] = statistics.median(engine)
    figures["keystroke: editor"] = statistics.median(
        [total - own for total, own in zip(keys, engine, strict=True)])
    figures["add an item"] = timed(item_list.add_button.click)
    # Every problem of the section shown (the new item's missing answers, at least).
    figures["show errors"] = timed(editor.check_section)
    buttons = item_list.cards[-1].buttons
    figures["move an item"] = timed(buttons["up"].click)
    figures["remove an item"] = timed(item_list.cards[-2].buttons["remove"].click)
    figures["problems shown"] = float(len(page.summary.entries))
    editor.forget()
    editor.close()
    editor.deleteLater()
    app.processEvents()
    return figures


def main() -> int:
    qInstallMessageHandler(quiet)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as folder:
        vault, _ = Profiles(Path(folder), kdf=FAST_KDF).create("bench", "correct horse battery")
        tasks = TaskRunner(vault_opener(vault))
        store = Assessments(vault)
        small = measure(app, tasks, store, example())
        large = measure(app, tasks, store, limit())
        tasks.wait_for_writes()
        tasks.shutdown()
        vault.close()
    print(f"Editor (tree {ROOT}); GUI-thread time, offscreen")
    print(f"{'':28}{'example':>11}{f'{OUTCOMES}/{PROVISION} limit':>18}{'ratio':>9}  target")
    targets = {"keystroke": "<5 ms / <16 ms", "keystroke: engine": "(forms/engine.py)",
               "keystroke: editor": "(ui/form)", "open provision": "<300 ms",
               "open slowest other section": "<300 ms", "open one item": "one item's cost",
               "add an item": "one item's cost", "move an item": "two items' cost",
               "remove an item": "one item's cost", "show errors": "linear in problems"}
    for name, small_value in small.items():
        if name == "problems shown":
            print(f"{name:28}{small_value:11.0f}{large[name]:18.0f}")
            continue
        ratio = large[name] / small_value if small_value else float("nan")
        print(f"{name:28}{ms(small_value)}{ms(large[name]):>18}{ratio:8.1f}x  {targets[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
