"""One pupil of a school's Common Transfer File, judged and mapped into the national form.

`PupilMapper.map` checks each value of a pupil with the `forms/` validators and maps it into
the form's answers (`TARGETS`); what it finds is a `PupilProblem`: an `error` keeps the pupil
out (no name, no date of birth, no UPN); a `flag` imports the value as the file has it and
leaves the form to mark it invalid (a UPN whose check letter fails is never "corrected"); a
`note` says a value was left out or kept as a historic code (S, A, P, BESD are shown as such,
never translated). Matching against the vault and writing drafts is `desktop.ctf_import`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from desktop.ctf_reader import CtfPupil, School
from desktop.errors import OneSendError
from forms.bounds import OutOfBounds, answers_bound, check_value
from forms.model import FormDefinition
from forms.validators import (
    HISTORIC_SEN_PROVISION_CODES,
    HISTORIC_SEN_TYPE_CODES,
    SEN_PROVISION_CODES,
    SEN_TYPE_CODES,
    check_la_code,
    check_nc_year,
    check_not_future,
    check_sen_needs,
    check_uln,
    check_upn,
    check_urn,
    nc_year_matches_age,
    normalise_identifier,
)

MAX_TEXT = 200  # the form's default limit for a short text answer


# Where each value from the file goes in the national form: (section, question).
TARGETS: dict[str, tuple[str, str]] = {
    "first_name": ("child", "first_name"),
    "last_name": ("child", "last_name"),
    "preferred_name": ("child", "preferred_name"),
    "date_of_birth": ("child", "date_of_birth"),
    "sex": ("child", "sex"),
    "upn": ("child", "upn"),
    "uln": ("child", "uln"),
    "nc_year": ("child", "nc_year"),
    "sen_provision": ("placement", "sen_provision"),
    "primary_need": ("needs", "primary_need"),
    "secondary_need": ("needs", "secondary_need"),
}

Severity = Literal["error", "flag", "note"]
Action = Literal["create", "update", "skip", "not-importable", "not-selected"]
OnExisting = Literal["skip", "update"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class PupilProblem:
    """Something about one value of one pupil; the message never repeats the value."""

    element: str
    message: str
    severity: Severity

    def to_json(self) -> dict[str, str]:
        return {"element": self.element, "message": self.message, "severity": self.severity}


@dataclass(frozen=True)
class Need:
    rank: int
    code: str
    label: str
    historic: bool

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "code": self.code, "label": self.label,
                "historic": self.historic}


@dataclass
class PupilPreview:
    """One row of the preview: what the file says, where it goes, and what will happen."""

    position: int
    first_name: str | None
    last_name: str | None
    preferred_name: str | None
    date_of_birth: str | None
    sex: str | None
    nc_year: str | None
    upn: str | None
    upn_valid: bool
    uln: str | None
    uln_valid: bool | None
    sen_provision: str | None
    sen_provision_label: str | None
    sen_provision_historic: bool
    needs: tuple[Need, ...]
    former_upns: tuple[str, ...]
    answers: dict[str, dict[str, Any]]
    problems: list[PupilProblem] = field(default_factory=list)
    existing: tuple[str, ...] = ()
    existing_status: str | None = None
    action: Action = "create"
    reason: str = ""

    @property
    def importable(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def label(self) -> str:
        """How messages name this pupil: by position in the file, never by name."""
        return f"pupil {self.position}"

    def to_json(self) -> dict[str, Any]:
        return {
            "pupil": self.position,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "preferred_name": self.preferred_name,
            "date_of_birth": self.date_of_birth,
            "sex": self.sex,
            "nc_year": self.nc_year,
            "upn": self.upn,
            "upn_valid": self.upn_valid,
            "uln": self.uln,
            "uln_valid": self.uln_valid,
            "sen_provision": self.sen_provision,
            "sen_provision_label": self.sen_provision_label,
            "sen_provision_historic": self.sen_provision_historic,
            "needs": [need.to_json() for need in self.needs],
            "existing": list(self.existing),
            "existing_status": self.existing_status,
            "action": self.action,
            "reason": self.reason,
            "problems": [problem.to_json() for problem in self.problems],
        }



def check_targets(definition: FormDefinition) -> None:
    """Every question the import writes exists in the form (the form is refined by others)."""
    for section_id, question_id in TARGETS.values():
        section = definition.sections_by_id.get(section_id)
        if section is None or section.min_items or section.max_items:
            raise OneSendError(
                f"The form {definition.id} {definition.version} has no section '{section_id}' "
                "to import into; this version of OneSEND cannot import school files.")
        if not any(question.id == question_id for question in section.questions):
            raise OneSendError(
                f"The form {definition.id} {definition.version} has no question "
                f"'{section_id}.{question_id}' to import into; this version of OneSEND cannot "
                "import school files.")


def setting_answers(definition: FormDefinition, school: School) -> dict[str, Any]:
    """The setting's name, URN and local authority from the file's header (its source school),
    for the questions the form has; a value that is not valid is left out, not guessed."""
    section = definition.sections_by_id.get("assessment")
    if section is None:
        return {}
    asks = {question.id for question in section.questions}
    found: dict[str, Any] = {}
    name = (school.name or "").strip()
    if name and len(name) <= MAX_TEXT and "setting_name" in asks:
        found["setting_name"] = name
    urn = normalise_identifier(school.urn or "")
    if urn and check_urn(urn) is None and {"setting_kind", "setting_urn"} <= asks:
        found["setting_kind"] = "urn"
        found["setting_urn"] = urn
    lea = normalise_identifier(school.lea or "")
    if lea and check_la_code(lea) is None and "setting_la" in asks:
        found["setting_la"] = lea
    return found


def _parse_date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class PupilMapper:
    """Judges one pupil's values and maps them into the national form's answers."""

    def __init__(self, definition: FormDefinition, today: date) -> None:
        self.definition = definition
        self.today = today
        self.sex_codes = definition.code_lists["sex"].by_code
        provision_list = definition.code_lists.get("sen_provision")
        need_list = definition.code_lists.get("sen_type")
        self.provision_labels = {**SEN_PROVISION_CODES, **HISTORIC_SEN_PROVISION_CODES}
        self.need_labels = {**SEN_TYPE_CODES, **HISTORIC_SEN_TYPE_CODES}
        if provision_list is not None:
            self.provision_labels.update({i.code: i.label for i in provision_list.items})
        if need_list is not None:
            self.need_labels.update({i.code: i.label for i in need_list.items})

    def map(self, pupil: CtfPupil) -> PupilPreview:
        problems: list[PupilProblem] = []

        def problem(element: str, message: str, severity: Severity) -> None:
            problems.append(PupilProblem(element, message, severity))

        def text(value: str | None, element: str, *, required: bool) -> str | None:
            if value is None:
                if required:
                    problem(element, f"{element} is missing; every pupil in a CTF has one.",
                            "error")
                return None
            if len(value) > MAX_TEXT:
                problem(element, f"{element} is longer than {MAX_TEXT} characters.", "error")
                return None
            return value

        surname = text(pupil.surname, "Surname", required=True)
        forename = text(pupil.forename, "Forename", required=True)
        preferred_forename = text(pupil.preferred_forename, "PreferredForename", required=False)
        preferred_surname = text(pupil.preferred_surname, "PreferredSurname", required=False)
        preferred = self._preferred_name(forename, surname, preferred_forename, preferred_surname)

        dob: str | None = None
        if pupil.dob is None:
            problem("DOB", "DOB is missing; every pupil in a CTF has one.", "error")
        else:
            born = _parse_date(pupil.dob)
            if born is None:
                problem("DOB", "DOB is not a date in the form YYYY-MM-DD.", "error")
            elif check_not_future(born, self.today):
                problem("DOB", "DOB is in the future.", "error")
            else:
                dob = born.isoformat()

        upn: str | None = None
        upn_valid = False
        raw_upn = text(pupil.upn, "UPN", required=True)
        if raw_upn is not None:
            upn = normalise_identifier(raw_upn)
            # check_upn takes any Unicode digit for a digit (and int() refuses some, such as
            # superscripts); a UPN is plain ASCII, so anything else is flagged before it.
            message = (check_upn(upn) if upn.isascii() else
                       "A UPN is a letter and 12 digits (or 11 digits and a letter), in plain "
                       "letters and digits.")
            if not upn:
                problem("UPN", "UPN is empty; every pupil in a CTF has one.", "error")
                upn = None
            elif message:
                problem("UPN", f"{message} Imported as it is, marked for checking.", "flag")
            else:
                upn_valid = True
        former = tuple(
            normalise_identifier(value) for value in pupil.former_upns
            if len(value) <= MAX_TEXT and normalise_identifier(value)
        )

        uln: str | None = None
        uln_valid: bool | None = None
        raw_uln = text(pupil.uln, "UniqueLearnerNumber", required=False)
        if raw_uln is not None and normalise_identifier(raw_uln):
            uln = normalise_identifier(raw_uln)
            message = check_uln(uln)
            uln_valid = message is None
            if message:
                problem("UniqueLearnerNumber", f"{message} Imported as it is, marked for checking.",
                        "flag")

        sex = pupil.sex.upper() if pupil.sex else None
        if sex is not None and sex not in self.sex_codes:
            problem(pupil.sex_element, f"{pupil.sex_element} is not a code the form knows "
                    "(M, F or U); left for you to answer.", "note")
            sex = None

        nc_year = pupil.nc_year
        if nc_year is not None and check_nc_year(nc_year):
            problem("NCyearActual", "NCyearActual is not a national curriculum year code; left "
                    "for you to answer.", "note")
            nc_year = None
        if (nc_year is not None and dob is not None
                and not nc_year_matches_age(nc_year, date.fromisoformat(dob), self.today)):
            # A year group follows the age on 31 August (the school census's NCyearActual);
            # one that does not fit may be right (taught out of year group), so it is kept
            # and marked, never changed.
            problem("NCyearActual", "The year group does not match the pupil's age. Imported "
                    "as it is, marked for checking.", "flag")

        provision = self._provision(pupil, problem)
        primary, secondary = self._needs(pupil, provision, problem)

        values: dict[str, Any] = {
            "first_name": forename, "last_name": surname, "preferred_name": preferred,
            "date_of_birth": dob, "sex": sex, "upn": upn, "uln": uln, "nc_year": nc_year,
            "sen_provision": provision,
            "primary_need": primary.code if primary else None,
            "secondary_need": secondary.code if secondary else None,
        }
        answers: dict[str, dict[str, Any]] = {}
        for key, (section, question) in TARGETS.items():
            if values[key] is not None:
                answers.setdefault(section, {})[question] = values[key]
        try:
            # The same hard bounds as every save (forms/bounds.py), judged here so a pupil
            # past them is shown as not importable instead of failing the run.
            check_value(answers, answers_bound(self.definition))
        except OutOfBounds as exc:
            problem("Pupil", f"This pupil cannot be imported: {exc}.", "error")
        return PupilPreview(
            position=pupil.position,
            first_name=forename,
            last_name=surname,
            preferred_name=preferred,
            date_of_birth=dob,
            sex=sex,
            nc_year=nc_year,
            upn=upn,
            upn_valid=upn_valid,
            uln=uln,
            uln_valid=uln_valid,
            sen_provision=provision,
            sen_provision_label=self.provision_labels.get(provision) if provision else None,
            sen_provision_historic=provision in HISTORIC_SEN_PROVISION_CODES,
            needs=tuple(need for need in (primary, secondary) if need is not None),
            former_upns=former,
            answers=answers,
            problems=problems,
        )

    @staticmethod
    def _preferred_name(forename: str | None, surname: str | None,
                        preferred_forename: str | None,
                        preferred_surname: str | None) -> str | None:
        first = preferred_forename or forename
        last = preferred_surname or surname
        if (first, last) == (forename, surname) or first is None:
            return None
        name = f"{first} {last}" if preferred_surname and last else first
        return name if len(name) <= MAX_TEXT else None

    def _provision(self, pupil: CtfPupil,
                   problem: Callable[[str, str, Severity], None]) -> str | None:
        """The current SEN provision: the SENhistory entry with the latest start date."""
        latest: tuple[date, int, str] | None = None
        for index, entry in enumerate(pupil.sen_history, start=1):
            where = f"SENhistory/SEN[{index}]"
            code = entry.provision.upper() if entry.provision else None
            if code is None:
                problem(f"{where}/SENprovision", "An SEN entry has no SENprovision; it was "
                        "left out.", "note")
                continue
            if code not in SEN_PROVISION_CODES and code not in HISTORIC_SEN_PROVISION_CODES:
                problem(f"{where}/SENprovision", "SENprovision is not a school census SEN "
                        "provision code; it was left out.", "note")
                continue
            started = _parse_date(entry.start_date) if entry.start_date else None
            if entry.start_date is not None and started is None:
                problem(f"{where}/StartDate", "StartDate is not a date in the form YYYY-MM-DD; "
                        "the entry is taken as the oldest.", "note")
            key = (started or date.min, index, code)
            if latest is None or key > latest:
                latest = key
        if latest is None:
            return None
        code = latest[2]
        if code in HISTORIC_SEN_PROVISION_CODES:
            problem("SENhistory/SEN/SENprovision", "The current SEN provision is a historic "
                    "code, kept as it is: choose a current code in the draft.", "note")
        return code

    def _needs(self, pupil: CtfPupil, provision: str | None,
               problem: Callable[[str, str, Severity], None]) -> tuple[Need | None, Need | None]:
        """The ranked types of need: rank 1 is the form's primary need, rank 2 its secondary."""
        ranked: dict[int, Need] = {}
        for index, entry in enumerate(pupil.sen_needs, start=1):
            where = f"SENneeds/SENneed[{index}]"
            if entry.end_date is not None:
                ended = _parse_date(entry.end_date)
                if ended is not None and ended <= self.today:
                    continue  # a need that has ended is history, not the current picture
            rank_text = entry.rank or ""
            if not (rank_text.isascii() and rank_text.isdigit()) or not 1 <= int(rank_text) <= 99:
                problem(f"{where}/SENtypeRank", "SENtypeRank is not a rank from 1 to 99; the "
                        "need was left out.", "note")
                continue
            rank = int(rank_text)
            code = entry.type.upper() if entry.type else None
            if code is None or (code not in SEN_TYPE_CODES and code not in HISTORIC_SEN_TYPE_CODES):
                problem(f"{where}/SENtype", "SENtype is not a school census type of need; the "
                        "need was left out.", "note")
                continue
            if rank > 2:
                problem(f"{where}/SENtypeRank", "The form holds the primary and secondary "
                        "needs only; a need ranked below them was left out.", "note")
                continue
            if rank in ranked:
                problem(f"{where}/SENtypeRank", "Two needs have the same rank; the first was "
                        "kept.", "note")
                continue
            historic = code in HISTORIC_SEN_TYPE_CODES
            if historic:
                problem(f"{where}/SENtype", "A historic type of need code, kept as it is: "
                        "choose a current code in the draft.", "note")
            ranked[rank] = Need(rank, code, self.need_labels.get(code, code), historic)
        primary, secondary = ranked.get(1), ranked.get(2)
        if not any(need.historic for need in ranked.values()):
            current = provision if provision in SEN_PROVISION_CODES else None
            message = check_sen_needs(primary.code if primary else None,
                                      secondary.code if secondary else None, current)
            if message:
                problem("SENneeds", f"{message} Imported as it is, marked for checking.", "flag")
        return primary, secondary

