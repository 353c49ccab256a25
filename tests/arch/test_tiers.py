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


PACKAGES = ("app", "contract", "desktop", "forms", "national", "sync", "ui")


def test_the_fast_tier_imports_every_package() -> None:
    """Whatever moves to the full tier, `make test-fast` still tests each package directly: a
    broken sync engine, editor or vault fails the fast tier too."""
    whole_modules = tuple(entry for entry in FULL_TIER if "::" not in entry)
    imported: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        if path.relative_to(TESTS).as_posix().startswith(whole_modules):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
    assert set(PACKAGES) - imported == set()
