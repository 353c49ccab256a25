"""The full tier's list names tests that exist: a renamed or moved module would otherwise drop
silently into the fast tier (or out of the full tier's marking)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import FULL_TIER

TESTS = Path(__file__).resolve().parents[1]


def test_every_full_tier_entry_names_a_test_that_exists() -> None:
    missing = []
    for entry in FULL_TIER:
        where, _, name = entry.partition("::")
        path = TESTS / where
        if not path.exists():
            missing.append(entry)
        elif name:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            defined = {node.name for node in ast.walk(tree)
                       if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
            if name not in defined:
                missing.append(entry)
    assert missing == []
