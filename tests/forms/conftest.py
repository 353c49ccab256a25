"""Shared fixtures of the forms tests: the national definition and the shipped examples."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from forms.model import FormDefinition
from forms.registry import load_definition


@pytest.fixture(scope="session")
def national() -> FormDefinition:
    return load_definition("national-send-assessment", "1.0.0")


@pytest.fixture(scope="session")
def _examples() -> dict[str, dict[str, Any]]:
    folder = resources.files("forms").joinpath("examples")
    return {
        entry.name.removesuffix(".json"): json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


@pytest.fixture
def example(_examples: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """The answers of a shipped example (a fresh copy each call)."""

    def answers(name: str) -> dict[str, Any]:
        return copy.deepcopy(_examples[name]["answers"])

    return answers
