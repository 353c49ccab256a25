"""`onesend self-test`: prove a build works (the bundle runs it after packaging)."""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
from pathlib import Path
from typing import Any

from app.common import out
from desktop.assessments import Assessments
from desktop.crypto import FAST_KDF
from desktop.errors import OneSendError
from desktop.profiles import Profiles
from forms.registry import list_definitions

# -- self-test and the window ------------------------------------------------------------------

SELF_TEST_DOCUMENT: dict[str, Any] = {
    "form": "national-send-assessment",
    "form_version": "1.0.0",
    "answers": {
        "child": {"first_name": "Zoë-Self", "last_name": "Test", "date_of_birth": "2015-03-02"},
        "about_me": {"what_matters": "Ünïcode, \"quotes\" and a long line " * 20},
    },
}


def cmd_self_test(args: argparse.Namespace) -> int:
    """Prove a build works: a window opens and closes offscreen; a record round-trips a vault."""
    del args
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from ui.selftest import (  # noqa: PLC0415 - Qt only when asked for
        check_text_services,
        open_and_close_window,
    )

    open_and_close_window()
    try:
        check_text_services()
    except RuntimeError as exc:  # a build without what Qt needs for English text: say which
        raise OneSendError(str(exc)) from exc
    if not list_definitions():
        raise OneSendError("Self-test failed: no form definitions were found in this build.")
    with tempfile.TemporaryDirectory(prefix="onesend-self-test-") as tmp:
        profiles = Profiles(Path(tmp), kdf=FAST_KDF)
        vault, _ = profiles.create("self-test", "self-test password")
        with vault:
            record_id, _ = Assessments(vault).create(SELF_TEST_DOCUMENT)
        with profiles.unlock("self-test", "self-test password") as vault:
            document = Assessments(vault).get(record_id)
    if document["answers"] != SELF_TEST_DOCUMENT["answers"]:
        raise OneSendError("Self-test failed: a record did not round-trip through the vault.")
    # The family's copy: WeasyPrint, Pango and a font are all in this build.
    from desktop.family_copy import family_copy_html, render_pdf  # noqa: PLC0415
    from forms.engine import document_session  # noqa: PLC0415

    session = document_session(document)
    pdf = render_pdf(family_copy_html(session, datetime.date(2026, 1, 1)))
    if not pdf.startswith(b"%PDF"):
        raise OneSendError("Self-test failed: the family's copy could not be made.")
    out("OK")
    return 0




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    selftest = commands.add_parser(
        "self-test", help="check this installation: a window offscreen and a vault round trip"
    )
    selftest.set_defaults(handler=cmd_self_test)
