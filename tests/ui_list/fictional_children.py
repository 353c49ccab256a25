"""Fictional children for the assessment list's tests, screenshots and benchmark (no real pupil).

Shared with bench/bench_ui.py, so it is a plain module beside the tests. Every name, school and
UPN is made up; UPNs carry a correct check letter (LA code 999, an establishment number no
school has) so the blind index is exercised as it would be with real ones.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from dataclasses import dataclass
from typing import Any

from desktop.assessments import Assessments
from desktop.vault import Vault
from forms.validators import upn_check_letter

FORM = "national-send-assessment"
FORM_VERSION = "1.0.0"
TODAY = datetime.date(2026, 3, 2)

FIRST_NAMES = (
    "Zoë", "Amara", "Oliver", "Siân", "Chloé", "Mohammed", "Aarav", "Freya", "Kofi", "Nia",
    "Leo", "Anaïs", "Tomasz", "Isla", "Yusuf", "Maja", "Rhys", "Priya", "Jamie", "Eilidh",
    "Oluwaseun", "Harper", "Dylan", "Ife", "José", "Ruby", "Finn", "Lena", "Arlo", "Noor",
)
LAST_NAMES = (
    "Okafor", "Nowak", "Brennan", "Ahmed", "Fairweather", "Lindqvist", "Moreau", "Patel",
    "Ó Briain", "Kowalczyk", "Mensah", "Whitlock", "Haddad", "Pembridge", "Nguyen", "Castellano",
    "Ashdown", "Dubois", "Llewellyn", "Achterberg", "Quayle", "Sørensen", "Thistlewood", "Yilmaz",
)
SETTINGS = (
    "Elm Grove Primary School", "Kingfisher Academy", "St Aldric's C of E Primary",
    "Harbourside Nursery", "Meadowbank Secondary School", "Riverside Learning Centre",
    "Thornfield Infant School", "Hollow Lane Junior School", "Brackenwood College",
    "Little Acorns Pre-school",
)
# The module-scoped vault of the list's tests: which records have which status, which is damaged.
COUNT = 10_000
DAMAGED_AT = 5
STATUS_SLICES = {"synced": slice(100, 400), "queued": slice(400, 450),
                 "conflict": slice(450, 457), "amended": slice(457, 500)}
KINDS = ("ehc_request", "ehc_request", "sen_support_review", "annual_review", "ehc_advice",
         "phase_transfer")


def fictional_upn(serial: int) -> str:
    """A made-up UPN with a correct check letter: LA 999 does not exist."""
    body = f"999{serial % 10_000_000:07d}{serial // 10_000_000 % 100:02d}"
    return upn_check_letter(body) + body


def document(
    first_name: str, last_name: str, date_of_birth: str, *, setting: str = "",
    kind: str = "", request_date: str = "", upn: str = "",
) -> dict[str, Any]:
    child: dict[str, Any] = {
        "first_name": first_name, "last_name": last_name, "date_of_birth": date_of_birth,
    }
    if upn:
        child["upn"] = upn
    about: dict[str, Any] = {}
    if setting:
        about["setting_name"] = setting
    if kind:
        about["kind"] = kind
    if request_date:
        about["request_date"] = request_date
    answers: dict[str, Any] = {"child": child}
    if about:
        answers["assessment"] = about
    return {"form": FORM, "form_version": FORM_VERSION, "answers": answers}


def documents(count: int, seed: int = 20260302) -> list[dict[str, Any]]:
    """`count` fictional drafts; the n-th child has UPN fictional_upn(n) (none for every 7th)."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        born = datetime.date(2008, 9, 1) + datetime.timedelta(days=rng.randrange(14 * 365))
        kind = KINDS[n % len(KINDS)]
        request = ""
        if kind == "ehc_request":
            request = (TODAY - datetime.timedelta(days=rng.randrange(200))).isoformat()
        made.append(document(
            FIRST_NAMES[rng.randrange(len(FIRST_NAMES))],
            LAST_NAMES[rng.randrange(len(LAST_NAMES))],
            born.isoformat(),
            setting=SETTINGS[rng.randrange(len(SETTINGS))],
            kind=kind,
            request_date=request,
            upn="" if n % 7 == 3 else fictional_upn(n),
        ))
    return made


def fill(vault: Vault, docs: list[dict[str, Any]]) -> list[str]:
    """Create every document as a draft; their ids, in order."""
    store = Assessments(vault)
    return [store.create(doc)[0] for doc in docs]


def set_status(vault: Vault, ids: list[str], status: str) -> None:
    """Test data only: give records a status directly (the real paths are in test_listing)."""
    set_head(vault, ids, status=status)


def set_head(vault: Vault, ids: list[str], **changes: Any) -> None:
    """Test data only: change records' rows through the vault's own MAC'd write (a change by
    hand in SQL would rightly make them show as damaged)."""
    store = Assessments(vault)
    with vault.write() as conn:
        for record_id in ids:
            store.put_head(conn, dataclasses.replace(store.verified_head(conn, record_id),
                                                     **changes))


def damage_summary(vault: Vault, record_id: str) -> None:
    """Corrupt one record's sealed summary, as a bad disk sector or a bad edit would."""
    with vault.write() as conn:
        conn.execute("UPDATE assessments SET summary = ? WHERE id = ?",
                     (b"\x00" * 48, record_id))


@dataclass
class BigVault:
    """A vault of fictional assessments with the documents they were made from."""

    vault: Vault
    ids: list[str]
    docs: list[dict[str, Any]]

    @property
    def damaged_id(self) -> str:
        return self.ids[DAMAGED_AT]
