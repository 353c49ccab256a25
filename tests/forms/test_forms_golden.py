"""The engine says exactly what it said before it was compiled and made incremental.

Every shipped example and seeded mutants of each (answers dropped, odd values, items
duplicated, removed and reordered, keys broken, unknown answers) are judged on two days, and
every aspect of what the engine says (verdict, values, visibility, export, choices, section
status) is compared with the digests recorded from the engine before the change
(fixtures/golden_verdicts.json, written by tests/forms/golden.py).
"""

from __future__ import annotations

import json

from tests.forms.golden import GOLDEN, golden


def test_every_record_is_judged_exactly_as_before() -> None:
    expected: dict[str, str] = json.loads(GOLDEN.read_text("utf-8"))
    found = golden()
    assert len(found) == len(expected) >= 1000
    changed = {
        name: [aspect for aspect, old in zip(found[name].split(), digest.split(), strict=True)
               if aspect != old]
        for name, digest in expected.items() if found.get(name) != digest
    }
    assert changed == {}
