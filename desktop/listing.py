"""The rows of the assessment list: each record's summary, its status and its next deadline.

Built once after unlock from the decrypted summaries (`Assessments.summaries`) and the outbox,
so the list screen can search, filter and sort 10,000 rows without decrypting anything again.
No UPN is held here: a search by UPN goes through the blind index (`matching_upn`).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from desktop.assessments import Assessments, Summary
from desktop.errors import CorruptVault
from desktop.heads import heads_with_tips, ids_newest_edit_first
from desktop.outbox import Outbox
from desktop.record_status import SET_ASIDE, OutboxState, RecordStatus
from desktop.summaries import summary_of
from desktop.vault import Vault
from forms.errors import FormError
from forms.model import FormDefinition
from forms.registry import Catalogue, load_definition
from forms.validators import normalise_identifier

# What the list shows as a record's status. `ready` (finalised, not yet queued) exists in the
# record's lifecycle, but today finalising queues in the same transaction, so it is rarely
# seen; `quarantined` is the outbox's word for a delivery the server refused (reasons kept).
S = RecordStatus
LIST_STATUSES = (S.DRAFT, S.AMENDED, S.READY, S.QUEUED, OutboxState.QUARANTINED, S.SYNCED,
                 S.CONFLICT)
STATUS_LABELS: dict[str, str] = {
    S.DRAFT: "Draft",
    S.AMENDED: "Amended (draft)",
    S.READY: "Ready to send",
    S.QUEUED: "Queued to send",
    OutboxState.QUARANTINED: "Not accepted by server",
    S.SYNCED: "Sent",
    S.CONFLICT: "Conflict",
}
DAMAGED_TEXT = "This record is damaged and cannot be opened"

STATUTORY_KIND = "ehc_request"
# Counted from the date the request was received (SEND Code of Practice, DOMAIN.md).
TIMESCALES: tuple[tuple[int, str], ...] = (
    (6, "Decision to assess"),
    (16, "Decision to issue a plan"),
    (20, "Final plan due"),
)
OVERDUE_LABEL = "Final plan was due"
# Once the server holds the request the local authority runs the clock; a deadline already
# passed is then history. Until it is sent, a passed final-plan date is shown as overdue.
_UNSENT = frozenset(set(LIST_STATUSES) - {S.SYNCED})
_KIND_LABELS = {
    "ehc_request": "EHC assessment request",
    "ehc_advice": "Advice for EHC assessment",
    "sen_support_review": "SEN support review",
    "annual_review": "EHC plan annual review",
    "phase_transfer": "Phase transfer review",
}
# Letters that are not a base letter plus an accent, so NFKD leaves them: spelt as typed in ASCII.
_UNDECOMPOSABLE = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d",
                                 "þ": "th", "ħ": "h", "\u0131": "i", "ŧ": "t"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UPN_SHAPE = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


@dataclass(frozen=True)
class ListRow:
    """One line of the assessment list, plain data (display formatting is the UI's)."""

    id: str
    child: str
    first_name: str
    last_name: str
    date_of_birth: str
    setting: str
    kind: str
    kind_label: str
    status: str
    last_edited: str
    next_statutory_date: str = ""
    next_statutory_label: str = ""
    overdue: bool = False
    damaged: bool = False
    search_key: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.capitalize())


def fold(text: str) -> str:
    """Text for matching: case- and accent-insensitive (Zoë, ZOE and zoe are the same)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_UNDECOMPOSABLE)


def matches_name(row: ListRow, folded_words: list[str]) -> bool:
    """Every word of the (folded) search appears somewhere in the child's names."""
    return all(word in row.search_key for word in folded_words)


def looks_like_upn(text: str) -> bool:
    """Whether a search is shaped like a whole UPN (then it is looked up by blind index)."""
    return bool(_UPN_SHAPE.match(normalise_identifier(text)))


def parse_iso_date(text: str) -> datetime.date | None:
    if not _ISO_DATE.match(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def next_statutory(
    kind: str, request_date: str, status: str, today: datetime.date
) -> tuple[str, str, bool]:
    """(ISO date, what is due, overdue) of the next statutory deadline, or ("", "", False)."""
    if kind != STATUTORY_KIND or status not in (*_UNSENT, S.SYNCED):
        return "", "", False
    requested = parse_iso_date(request_date)
    if requested is None:
        return "", "", False
    for weeks, label in TIMESCALES:
        due = requested + datetime.timedelta(weeks=weeks)
        if due >= today:
            return due.isoformat(), label, False
    if status in _UNSENT:
        final = requested + datetime.timedelta(weeks=TIMESCALES[-1][0])
        return final.isoformat(), OVERDUE_LABEL, True
    return "", "", False


@cache
def _shipped_code_labels(form: str, version: str) -> dict[str, str]:
    try:
        return _kind_labels_of(load_definition(form, version))
    except FormError:
        return {}


def _kind_labels_of(definition: FormDefinition) -> dict[str, str]:
    code_list = definition.code_lists.get("assessment_kind")
    if code_list is None:
        return {}
    return {item.code: item.label for item in code_list.items}


def _code_labels(form: str, version: str, catalogue: Catalogue | None = None
                 ) -> dict[str, str]:
    """The form's labels for its kinds of assessment: a shipped version's (cached), or a
    version fetched by sync, found only in the open session's catalogue (never cached, so
    nothing of it outlives the session)."""
    shipped = _shipped_code_labels(form, version)
    if shipped or catalogue is None:
        return shipped
    fetched = catalogue.fetched(form).get(version)
    return _kind_labels_of(fetched) if fetched is not None else {}


def kind_label(form: str, version: str, kind: str, catalogue: Catalogue | None = None) -> str:
    """A short name for the kind of assessment; the form's own label for one it adds later
    (a version fetched by sync is looked up in the session's `catalogue`)."""
    if not kind:
        return ""
    return _KIND_LABELS.get(kind) or _code_labels(form, version, catalogue).get(kind, kind)


def _row(summary: Summary, status: str, today: datetime.date,
         catalogue: Catalogue | None = None) -> ListRow:
    if summary.damaged:
        return ListRow(
            id=summary.id, child=DAMAGED_TEXT, first_name="", last_name="", date_of_birth="",
            setting="", kind="", kind_label="", status=status, last_edited=summary.updated_at,
            damaged=True, search_key="",
        )
    child = " ".join(part for part in (summary.first_name, summary.last_name) if part)
    due, label, overdue = next_statutory(summary.kind, summary.request_date, status, today)
    return ListRow(
        id=summary.id,
        child=child,
        first_name=summary.first_name,
        last_name=summary.last_name,
        date_of_birth=summary.date_of_birth,
        setting=summary.setting,
        kind=summary.kind,
        kind_label=kind_label(summary.form, summary.form_version, summary.kind, catalogue),
        status=status,
        last_edited=summary.updated_at,
        next_statutory_date=due,
        next_statutory_label=label,
        overdue=overdue,
        search_key=fold(f"{summary.first_name} {summary.last_name}"),
    )


def outbox_states(vault: Vault) -> dict[tuple[str, int], str]:
    """The outbox state of each delivery that changes what the list says (not the queued ones)."""
    items = Outbox(vault).items(SET_ASIDE)
    return {item.key: item.state for item in items if not item.damaged}


def list_status(summary: Summary, outbox: dict[tuple[str, int], str]) -> str:
    """The record's own status, made honest by the outbox: a refused delivery is quarantined."""
    state = outbox.get((summary.id, summary.revision))
    if summary.status == S.QUEUED and state in SET_ASIDE:
        return str(state)
    return summary.status


def list_rows(vault: Vault, today: datetime.date) -> list[ListRow]:
    """Every assessment as a list row, newest edit first; a damaged record is marked, not fatal."""
    outbox = outbox_states(vault)
    return [_row(s, list_status(s, outbox), today, vault.catalogue)
            for s in Assessments(vault).summaries()]


# The first page is small so it is painted at once; the rest follows in larger pages.
FIRST_PAGE = 200
PAGE = 5_000


@dataclass
class ListLoad:
    """A list load in pages: the ids newest edit first, read once; each page then decrypts
    only its own summaries. `damaged_page` is set when the file itself is damaged: the rest is
    then read by `Assessments.summaries`, which reads round a damaged page."""

    today: datetime.date
    ids: list[str]
    outbox: dict[tuple[str, int], str]
    done: int = 0
    seen: set[str] = field(default_factory=set)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.ids)


def start_load(vault: Vault, today: datetime.date) -> ListLoad:
    """The order of the whole list (two columns, nothing decrypted); None ids on damage."""
    outbox = outbox_states(vault)
    try:
        ids = ids_newest_edit_first(vault)
    except CorruptVault:
        ids = []
        load = ListLoad(today, ids, outbox)
        load.done = -1  # read everything at once, round the damage
        return load
    return ListLoad(today, ids, outbox)


def next_page(vault: Vault, load: ListLoad, size: int) -> list[ListRow]:
    """The next page of rows, in the list's default order (newest edit first)."""
    if load.done < 0:  # the file is damaged: one page of everything that can be read
        load.done = 0
        return _rest_round_damage(vault, load)
    chunk = load.ids[load.done:load.done + size]
    load.done += len(chunk)
    try:
        found = heads_with_tips(vault, chunk)
    except (CorruptVault, ValueError, TypeError):
        return _rest_round_damage(vault, load)
    cipher = vault.cipher
    summaries = {head.id: summary_of(head, tip, cipher) for head, tip in found}
    load.seen.update(summaries)
    return [_row(summaries[i], list_status(summaries[i], load.outbox), load.today,
                 vault.catalogue)
            for i in chunk if i in summaries]


def _rest_round_damage(vault: Vault, load: ListLoad) -> list[ListRow]:
    """Every row not yet shown, read round damaged pages (a damaged record is marked)."""
    load.done = len(load.ids)
    return [_row(s, list_status(s, load.outbox), load.today, vault.catalogue)
            for s in Assessments(vault).summaries() if s.id not in load.seen]



def summaries_of(vault: Vault, record_ids: Sequence[str]) -> dict[str, Summary]:
    """The summaries of just these records (e.g. the sync area's), read in pages."""
    ids = list(dict.fromkeys(record_ids))
    found: dict[str, Summary] = {}
    for start in range(0, len(ids), PAGE):
        try:
            pairs = heads_with_tips(vault, ids[start:start + PAGE])
        except (CorruptVault, ValueError, TypeError):
            wanted = set(ids)
            return {s.id: s for s in Assessments(vault).summaries() if s.id in wanted}
        found.update((head.id, summary_of(head, tip, vault.cipher)) for head, tip in pairs)
    return found


def matching_upn(vault: Vault, text: str) -> set[str]:
    """Ids of the assessments whose child has this UPN, found through the blind index."""
    if not normalise_identifier(text):
        return set()
    return set(Assessments(vault).find_by_upn(text))
