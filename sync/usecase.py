"""One sync, the same for the window and the command: send → fetch new forms → migrate drafts.

Qt-free. The window's sync panel runs it on a worker (its scheduler decides when); `onesend
sync` runs it in the foreground. Each caller builds the engine with its own callbacks and says
what it shows of the outcome; both fetch forms and (unless the window has a draft open for
editing, `migrate`) carry drafts to them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from desktop.errors import OneSendError
from forms.registry import Catalogue
from sync.engine import SyncEngine, SyncReport
from sync.form_updates import FormsUpdate, update_forms
from sync.http import ApiSettings


@dataclass
class SyncOutcome:
    """What one sync did: the engine's report, then what fetching forms did (None when the
    run was cancelled before it), or the sentence saying why it could not."""

    report: SyncReport
    forms: FormsUpdate | None = None
    forms_problem: str | None = None


def run_sync(
    engine: SyncEngine, *, settings: ApiSettings | None = None, migrate: bool = True,
    cancel: threading.Event | None = None,
    catalogue: Catalogue | None = None,
) -> SyncOutcome:
    """Send what is queued; then (unless cancelled) fetch newly published, signature-checked
    form versions and, when `migrate`, carry drafts to them. A failure to fetch forms never
    undoes what was sent: it is returned as one sentence. Errors of the send itself raise."""
    outcome = SyncOutcome(engine.run())
    if not (cancel is not None and cancel.is_set()):
        try:
            outcome.forms = update_forms(engine.vault, settings, migrate=migrate,
                                         catalogue=catalogue)
        except OneSendError as exc:
            outcome.forms_problem = str(exc)
    return outcome
