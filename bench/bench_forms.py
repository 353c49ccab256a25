"""Re-evaluation time of the national form after a single-field edit on a full record.

A full record has 20 outcomes and 40 provision items. Each edit changes one provision
item's text and re-judges the whole record, as the window does on every keystroke. Two
baselines run in the same process, so the ratios hold on a noisy machine: a JSON deep copy
of the answers, and judging an empty form. Run: .venv/bin/python bench/bench_forms.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forms.engine import Session
from forms.registry import load_definition

ROUNDS = 1000
TODAY = date(2026, 11, 28)


def full_record() -> dict[str, Any]:
    text = resources.files("forms").joinpath("examples", "2.0.0", "primary.json").read_text("utf-8")
    answers: dict[str, Any] = json.loads(text)["answers"]
    outcome, item = answers["outcomes"][0], answers["provision"][0]
    answers["outcomes"] = [dict(outcome, _key=f"o{i}") for i in range(20)]
    answers["provision"] = [
        dict(item, _key=f"s{i}", outcomes=[f"o{i % 20}", f"o{(i + 1) % 20}"]) for i in range(40)
    ]
    return answers


def measure(action: Callable[[int], object]) -> list[float]:
    for warm in range(20):
        action(warm)
    timings = []
    for n in range(ROUNDS):
        start = time.perf_counter()
        action(n)
        timings.append(time.perf_counter() - start)
    return sorted(timings)


def p99(timings: list[float]) -> float:
    return timings[min(len(timings) - 1, int(len(timings) * 0.99))]


def main() -> int:
    definition = load_definition("national-send-assessment")
    answers = full_record()
    session = Session(definition, answers, TODAY)
    if not session.is_complete:
        print("the full record is not complete:", session.problems[:3])
        return 1

    def edit(n: int) -> object:
        session.set_answer("provision[17].what", f"Structured language session, version {n}")
        return session.problems

    def deep_copy(_n: int) -> object:
        return json.loads(json.dumps(answers))

    def judge_empty(_n: int) -> object:
        return Session(definition, {}, TODAY).problems

    results = {
        "edit + re-evaluate (full record)": measure(edit),
        "baseline: JSON deep copy of the answers": measure(deep_copy),
        "baseline: judge an empty form": measure(judge_empty),
    }
    edit_median = statistics.median(results["edit + re-evaluate (full record)"])
    print(f"national form, 20 outcomes, 40 provision items, {ROUNDS} rounds each")
    print(f"{'':44} {'median ms':>10} {'p99 ms':>10} {'edit/this':>10}")
    for name, timings in results.items():
        median = statistics.median(timings)
        print(f"{name:44} {median * 1000:10.3f} {p99(timings) * 1000:10.3f} "
              f"{edit_median / median:10.2f}")
    target = "met" if edit_median < 0.005 else "NOT met"
    print(f"target: median under 5 ms after a single-field edit: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
