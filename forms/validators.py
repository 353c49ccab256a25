"""Checks of the domain's identifiers and census codes, each returning a plain-English message.

Every ``check_*`` function returns ``None`` when the value is valid, otherwise one sentence a
parent or SENCO can act on. Messages never repeat the value itself.
"""

from __future__ import annotations

import calendar
import csv
import functools
import io
import re
import secrets
from datetime import date, timedelta
from importlib import resources

UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

SEN_PROVISION_CODES: dict[str, str] = {
    "E": "Education, health and care plan",
    "K": "SEN support",
    "N": "No special educational need",
}
HISTORIC_SEN_PROVISION_CODES: dict[str, str] = {
    "S": "Statement (historic)",
    "A": "School Action (historic)",
    "P": "School Action Plus (historic)",
}
SEN_TYPE_CODES: dict[str, str] = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SLCN": "Speech, language and communication needs",
    "ASD": "Autistic spectrum disorder",
    "SEMH": "Social, emotional and mental health",
    "HI": "Hearing impairment",
    "VI": "Vision impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "DS": "Down syndrome",
    "OTH": "Other difficulty or disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}
HISTORIC_SEN_TYPE_CODES: dict[str, str] = {
    "BESD": "Behaviour, emotional and social difficulty (historic)",
}
NC_YEAR_CODES: tuple[str, ...] = (
    "E1", "E2", "N1", "N2", "R",
    *(str(n) for n in range(1, 15)),
    "M", "X",
)
EARLY_YEARS_NC_CODES = frozenset({"E1", "E2", "N1", "N2"})
SEN2_NO_URN_CODES: dict[str, str] = {
    "OLA": "Other arrangements made by the local authority",
    "OPA": "Other arrangements made by parents",
    "EHE": "Elective home education",
    "EYP": "Early years provider without a URN",
    "OTH": "Other setting",
    "NEET": "Not in education, employment or training",
    "NIEC": "Not in education: ceased",
    "NIEO": "Not in education: other",
}

_WHITESPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts "٣" and "³"
_ASCII_DIGITS = frozenset("0123456789")


def normalise_identifier(value: str) -> str:
    """Trim, remove every space and upper-case an identifier as users type it."""
    return _WHITESPACE.sub("", value).upper()


def _digits_message(value: str, length: int, name: str) -> str | None:
    if not value:
        return f"Enter the {name}."
    if not _DIGITS.fullmatch(value) or len(value) != length:
        return f"A {name} is {length} digits."
    return None


def upn_check_letter(body: str) -> str:
    """The check letter for characters 2 to 13 of a UPN."""
    total = 0
    for position, char in enumerate(body, start=2):
        weight = int(char) if char in _ASCII_DIGITS else UPN_CHECK_LETTERS.index(char)
        total += weight * position
    return UPN_CHECK_LETTERS[total % 23]


def check_upn(value: str) -> str | None:
    """A permanent or temporary unique pupil number: its format and its check letter."""
    upn = normalise_identifier(value)
    if not upn:
        return "Enter the UPN."
    if len(upn) != 13:
        return "A UPN is 13 characters: a letter followed by 12 digits, or 11 digits and a letter."
    first, body = upn[0], upn[1:]
    if first not in UPN_CHECK_LETTERS:
        return "A UPN starts with a check letter (any letter except I, O and S)."
    permanent = _DIGITS.fullmatch(body) is not None
    temporary = _DIGITS.fullmatch(body[:-1]) is not None and body[-1] in UPN_CHECK_LETTERS
    if not (permanent or temporary):
        return "After its first letter a UPN has 12 digits, or 11 digits and a letter."
    if upn_check_letter(body) != first:
        return "This UPN's check letter does not match its digits: check it was typed correctly."
    return None


def check_uln(value: str) -> str | None:
    """A unique learner number: ten digits and a check digit."""
    uln = normalise_identifier(value)
    message = _digits_message(uln, 10, "ULN")
    if message:
        return message
    if uln[0] == "0":
        return "A ULN never starts with 0: check it was typed correctly."
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(uln[:9], weights, strict=True))
    remainder = total % 11
    if remainder == 0 or 10 - remainder != int(uln[9]):
        return "This ULN's last digit does not match the others: check it was typed correctly."
    return None


PERSON_KEY_PREFIX = "OS"


def new_person_key() -> str:
    """A random, stable key for a child with neither UPN nor ULN: 'OS', 10 digits and a check
    letter worked out as a UPN's is. No UPN starts with O (its check letters leave out I, O
    and S), so a person key is never mistaken for a UPN."""
    digits = "".join(secrets.choice("0123456789") for _ in range(10))
    return PERSON_KEY_PREFIX + digits + upn_check_letter(digits)


def check_person_key(value: str) -> str | None:
    """A OneSEND person key, as made by ``new_person_key`` (a mistyped one is caught)."""
    key = normalise_identifier(value)
    if not key:
        return "Enter the person key."
    if (len(key) != 13 or not key.startswith(PERSON_KEY_PREFIX)
            or not _DIGITS.fullmatch(key[2:12]) or upn_check_letter(key[2:12]) != key[12]):
        return "This is not a OneSEND person key: copy it exactly from the earlier record."
    return None


def check_urn(value: str) -> str | None:
    """A unique reference number of a school or setting (6 digits)."""
    return _digits_message(normalise_identifier(value), 6, "URN")


def check_ukprn(value: str) -> str | None:
    """A UK provider reference number of a college or training provider (8 digits)."""
    return _digits_message(normalise_identifier(value), 8, "UKPRN")


def check_laestab(value: str) -> str | None:
    """A local authority code followed by an establishment number (7 digits)."""
    return _digits_message(normalise_identifier(value), 7, "LAESTAB number")


@functools.cache
def la_codes() -> dict[str, str]:
    """The current local authority codes and names, from the list shipped with the package."""
    text = resources.files("forms").joinpath("data", "la_codes.csv").read_text(encoding="utf-8")
    return {row["la_code"]: row["la_name"] for row in csv.DictReader(io.StringIO(text))}


def check_la_code(value: str) -> str | None:
    """A current local authority code (3 digits, on the list of local authorities)."""
    code = normalise_identifier(value)
    message = _digits_message(code, 3, "local authority code")
    if message:
        return message
    if code not in la_codes():
        return "This is not the code of a current local authority in England."
    return None


def check_sen_provision(value: str) -> str | None:
    """A census SEN provision code for a new record: E, K or N."""
    if value in SEN_PROVISION_CODES:
        return None
    if value in HISTORIC_SEN_PROVISION_CODES:
        return "This SEN provision code is no longer used: choose EHC plan, SEN support or no SEN."
    return "Choose EHC plan, SEN support or no special educational need."


def check_sen_type(value: str, provision: str | None = None) -> str | None:
    """A census type-of-need code; NSA is allowed only with SEN support (provision K)."""
    if value in HISTORIC_SEN_TYPE_CODES:
        return "This type of need code is no longer used: choose one of the current codes."
    if value not in SEN_TYPE_CODES:
        return "Choose a type of need from the list."
    if value == "NSA" and provision is not None and provision != "K":
        return (
            "'No specialist assessment' can only be chosen when the child has SEN support, "
            "not an EHC plan."
        )
    return None


def check_sen_needs(
    primary: str | None, secondary: str | None, provision: str | None = None
) -> str | None:
    """A ranked pair of needs: each a valid code, and the secondary different from the primary."""
    if primary is None:
        if secondary is not None:
            return "Give the primary need before a secondary need."
        return None
    message = check_sen_type(primary, provision)
    if message or secondary is None:
        return message
    message = check_sen_type(secondary, provision)
    if message:
        return message
    if secondary == primary:
        return "The secondary need must be different from the primary need."
    if secondary == "NSA":
        return "'No specialist assessment' can only be the primary need."
    return None


def check_nc_year(value: str) -> str | None:
    """A national curriculum year code (NCyearActual)."""
    if value in NC_YEAR_CODES:
        return None
    return "Choose a national curriculum year from the list."


def age_on(born: date, on: date) -> int:
    """Age in whole years on a day (someone born on 29 February has a birthday on 1 March)."""
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    """The last Monday (0) ... Sunday (6) of a month."""
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def school_leaving_date(year: int) -> date:
    """The school leaving date of a year: the last Friday in June.

    Education (School Leaving Date) Order 1997 (SI 1997/1970), article 2.
    """
    return last_weekday_of_month(year, 6, calendar.FRIDAY)


def end_of_compulsory_school_age(born: date) -> date:
    """The last day of compulsory school age: the school leaving date (last Friday in June)
    of the school year (1 September to 31 August) in which the child turns 16.

    Education Act 1996 s8(3)-(4) and the Education (School Leaving Date) Order 1997: a
    person turning 16 after that year's leaving date but before the next school year begins
    leaves on it (s8(3)(a)); one turning 16 on it leaves on it (s8(3)(b)); anyone else on
    the next leaving date after turning 16 (s8(3)(c)). Rights under Part 3 of the Children
    and Families Act 2014 pass to the young person the day after (CFA 2014 s83(2)).
    A birthday on 29 February falls on 1 March in other years, as in ``age_on``.
    """
    year = born.year + 16
    try:
        sixteenth = born.replace(year=year)
    except ValueError:  # 29 February in a year that is not a leap year
        sixteenth = date(year, 3, 1)
    return school_leaving_date(year if sixteenth.month < 9 else year + 1)


def expected_nc_year(born: date, on: date) -> str:
    """The year group a child of this age is usually in on a day (England, September start).

    The year group follows the child's age on 31 August before the academic year begins:
    4 is Reception, 5 is Year 1 ... 18 is Year 14. Younger children are in early years
    (N2 at 3, N1 at 2, E2 at 1, E1 under 1); from 19 the national curriculum no longer
    applies ("X").
    """
    start_year = on.year if on.month >= 9 else on.year - 1
    age = age_on(born, date(start_year, 8, 31))
    if age >= 19:
        return "X"
    if age >= 5:
        return str(age - 4)
    return {4: "R", 3: "N2", 2: "N1", 1: "E2"}.get(age, "E1")


def nc_year_matches_age(code: str, born: date, on: date) -> bool:
    """Whether a year group fits the child's age; mixed classes and 'not followed' always fit."""
    if code in ("M", "X"):
        return True
    expected = expected_nc_year(born, on)
    if code in EARLY_YEARS_NC_CODES and expected in EARLY_YEARS_NC_CODES:
        return True
    return code == expected


def check_nc_year_for_age(
    code: str, born: date, on: date, override_reason: str | None = None
) -> str | None:
    """A year group consistent with age, unless a reason for being out of year group is given."""
    message = check_nc_year(code)
    if message:
        return message
    if nc_year_matches_age(code, born, on) or (override_reason and override_reason.strip()):
        return None
    return (
        "This year group does not match the child's age. If they are taught out of their "
        "year group, say so and give the reason."
    )


def check_not_future(value: date, today: date) -> str | None:
    """A date that cannot be in the future, such as a date of birth or an advice date."""
    if value > today:
        return "This date cannot be in the future."
    return None
