"""A record as an older OneSEND stored it, before answers had bounds: 900 lists deep, which
the bounds now refuse. For tests that a vault holding one still works around it."""

from __future__ import annotations

from typing import Any

import pytest

import desktop.assessments
from desktop.assessments import Assessments


def create_past_the_bounds(store: Assessments, doc: dict[str, Any],
                           monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> str:
    """Store `doc` with an answer nested 900 deep, bypassing the bounds as no OneSEND does
    now; the record's id."""
    nest: Any = "x"
    for _ in range(900):
        nest = [nest]
    doc["answers"]["about_me"]["deep"] = nest
    with monkeypatch.context() as patch:
        patch.setattr(desktop.assessments, "check_document_bounds",
                      lambda *args, **kwargs: None)
        record_id, _ = store.create(doc, **kwargs)
    return record_id
