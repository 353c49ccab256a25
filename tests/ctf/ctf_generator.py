"""Generated Common Transfer Files: realistic in shape, invented in every value.

No real pupil data anywhere: names are built from invented syllables, UPNs and ULNs are
computed with their check characters from random serials, and dates are drawn at random.
Several CTF versions differ as real ones do (older files say `Gender` and carry historic SEN
codes; newer ones put names and year under `BasicDetails` and know `DS`), with or without an
XML namespace, and with the noise a real export carries (contacts, addresses, attendance) so
that the reader is tested on more than the elements it wants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from xml.sax.saxutils import escape

from forms.validators import expected_nc_year, upn_check_letter

VERSIONS = ("12.0", "16.0", "20.0", "25.0")
NAMESPACE = "urn:example:onesend-tests:ctf"
REFERENCE_DAY = date(2026, 11, 2)

_FIRST = ("Ar", "Bel", "Cor", "Dra", "El", "Fen", "Gal", "Hal", "Is", "Jun", "Kel", "Lor",
          "Mir", "Nor", "Ol", "Per", "Quin", "Ros", "Sil", "Tam", "Ul", "Vey", "Wyn", "Zel")
_FIRST_END = ("a", "en", "ia", "o", "wyn", "ith", "ara", "ek", "ou", "ëlle", "ián", "ño")
_LAST = ("Ash", "Brack", "Cress", "Dun", "Elder", "Fallow", "Gorse", "Hazel", "Ivy", "Juniper",
         "Kestrel", "Lark", "Marsh", "Nettle", "Oak", "Pebble", "Quarry", "Rush", "Sedge",
         "Thistle", "Umber", "Vetch", "Willow", "Yarrow")
_LAST_END = ("thorne", "wick", "ley", "ford", "by", "ton", "dale", "combe", "mere", "-Ó Brá")
_CURRENT_NEEDS = ("SPLD", "MLD", "SLD", "PMLD", "SLCN", "ASD", "SEMH", "HI", "VI", "MSI", "PD",
                  "OTH")


@dataclass
class GeneratedPupil:
    """What the generator wrote for one pupil: what an import should read back."""

    forename: str
    surname: str
    dob: str
    sex: str
    upn: str
    nc_year: str
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    former_upns: list[str] = field(default_factory=list)
    uln: str | None = None
    sen: list[tuple[str, str]] = field(default_factory=list)  # (start date, provision)
    needs: list[tuple[int, str]] = field(default_factory=list)  # (rank, type)

    @property
    def current_provision(self) -> str | None:
        return max(self.sen)[1] if self.sen else None

    def need(self, rank: int) -> str | None:
        return next((code for r, code in self.needs if r == rank), None)


def make_upn(la: str, estab: str, year: int, serial: int) -> str:
    body = f"{la}{estab}{year % 100:02d}{serial:03d}"
    return upn_check_letter(body) + body


def make_uln(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        digits[0] = digits[0] or 1
        remainder = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if remainder != 0:  # a remainder of 0 has no valid check digit
            return "".join(map(str, digits)) + str(10 - remainder)


def _name(rng: random.Random, parts: tuple[str, ...], ends: tuple[str, ...]) -> str:
    return rng.choice(parts) + rng.choice(ends)


def make_pupils(count: int, *, version: str = "25.0", seed: int = 0,
                la: str = "823", estab: str = "4001") -> list[GeneratedPupil]:
    """Invented pupils of one school, consistent with what a CTF of `version` can say."""
    rng = random.Random(seed)
    major = int(float(version))
    pupils = []
    serials = rng.sample(range(1, 1000), min(count, 999))
    for index in range(count):
        age_days = rng.randrange(3 * 365 + 100, 18 * 365)
        born = REFERENCE_DAY - timedelta(days=age_days)
        year = born.year + 4
        serial = serials[index] if index < len(serials) else index
        upn = make_upn(la, estab if index < 999 else f"{4100 + index // 1000:04d}", year,
                       serial % 1000)
        pupil = GeneratedPupil(
            forename=_name(rng, _FIRST, _FIRST_END),
            surname=_name(rng, _LAST, _LAST_END),
            dob=born.isoformat(),
            sex=rng.choice("MF"),
            upn=upn,
            nc_year=expected_nc_year(born, REFERENCE_DAY),
        )
        if rng.random() < 0.1:
            pupil.preferred_forename = _name(rng, _FIRST, _FIRST_END)
        if rng.random() < 0.05 and major >= 14:
            pupil.preferred_surname = _name(rng, _LAST, _LAST_END)
        if rng.random() < 0.05:
            pupil.former_upns.append(make_upn("999", "1234", year, serial % 1000)[:-1] + "A")
        if (REFERENCE_DAY - born).days >= 14 * 365 and rng.random() < 0.8:
            pupil.uln = make_uln(rng)
        if rng.random() < 0.35:
            _add_sen(pupil, rng, major, born)
        pupils.append(pupil)
    return pupils


def _add_sen(pupil: GeneratedPupil, rng: random.Random, major: int, born: date) -> None:
    historic = major < 14
    first = born + timedelta(days=rng.randrange(4 * 365, 6 * 365))
    first = min(first, REFERENCE_DAY - timedelta(days=30))
    provisions = ("A", "P", "S") if historic else ("K", "K", "K", "E")
    provision = rng.choice(provisions)
    pupil.sen.append((first.isoformat(), provision))
    if rng.random() < 0.4:
        later = first + timedelta(days=rng.randrange(10, max(11, (REFERENCE_DAY - first).days)))
        pupil.sen.append((min(later, REFERENCE_DAY).isoformat(), rng.choice(provisions)))
    current = max(pupil.sen)[1]
    codes = list(_CURRENT_NEEDS)
    if historic:
        codes.append("BESD")
    if major >= 25:
        codes.append("DS")
    primary = "NSA" if current == "K" and rng.random() < 0.1 else rng.choice(codes)
    pupil.needs.append((1, primary))
    if primary != "NSA" and rng.random() < 0.5:
        pupil.needs.append((2, rng.choice([c for c in codes if c != primary])))


def _el(tag: str, value: object, indent: str) -> str:
    return f"{indent}<{tag}>{escape(str(value))}</{tag}>\n"


def render(
    pupils: list[GeneratedPupil], *, version: str = "25.0", namespace: str | None = None,
    encoding: str = "UTF-8", declared_encoding: str | None = None, la: str = "823",
    estab: str = "4001",
) -> bytes:
    """The CTF XML of these pupils, as a school information system might write it."""
    major = int(float(version))
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    out = [f'<?xml version="1.0" encoding="{declared_encoding or encoding}"?>\n',
           f"<CTfile{xmlns}>\n",
           "  <Header>\n",
           _el("DocumentName", "Common Transfer File", "    "),
           _el("CTFversion", version, "    "),
           _el("DateTime", "2026-11-02T09:30:00", "    "),
           _el("DocumentQualifier", "partial", "    "),
           _el("SupplierID", "Invented MIS", "    "),
           "    <SourceSchool>\n",
           _el("LEA", la, "      "), _el("Estab", estab, "      "),
           _el("URN", "199999", "      "), _el("SchoolName", "Brook Lane Academy", "      "),
           _el("AcademicYear", "2026", "      "),
           "    </SourceSchool>\n",
           "    <DestSchool>\n",
           _el("LEA", "823", "      "), _el("Estab", "4002", "      "),
           "    </DestSchool>\n",
           "  </Header>\n",
           "  <CTFpupilData>\n"]
    for index, pupil in enumerate(pupils):
        out.append(_pupil(pupil, major, index))
    out.append("  </CTFpupilData>\n</CTfile>\n")
    return "".join(out).encode(encoding)


def _pupil(p: GeneratedPupil, major: int, index: int) -> str:
    i = "      "
    parts = ["    <Pupil>\n", _el("UPN", p.upn, i)]
    if p.uln:
        parts.append(_el("UniqueLearnerNumber", p.uln, i))
    parts += [_el("Surname", p.surname, i), _el("Forename", p.forename, i), _el("DOB", p.dob, i),
              _el("Gender" if major < 14 else "Sex", p.sex, i)]
    details = []
    for former in p.former_upns:
        details.append(_el("FormerUPN", former, i + "  "))
    if p.preferred_surname:
        details.append(_el("PreferredSurname", p.preferred_surname, i + "  "))
    if p.preferred_forename:
        details.append(_el("PreferredForename", p.preferred_forename, i + "  "))
    details.append(_el("NCyearActual", p.nc_year, i + "  "))
    details.append(_el("Ethnicity", "WBRI" if index % 3 else "AIND", i + "  "))
    details.append(f"{i}  <Languages><Type><LanguageType>F</LanguageType>"
                   f"<Language>ENG</Language></Type></Languages>\n")
    if major >= 14:
        parts += [f"{i}<BasicDetails>\n", *details, f"{i}</BasicDetails>\n"]
    else:
        parts += [d[2:] for d in details]
    if p.sen or p.needs:
        parts.append(f"{i}<SENhistory>\n")
        for start, provision in p.sen:
            parts += [f"{i}  <SEN>\n", _el("StartDate", start, i + "    "),
                      _el("SENprovision", provision, i + "    "), f"{i}  </SEN>\n"]
        needs = "".join(
            f"{i}    <SENneed>\n{_el('SENtypeRank', rank, i + '      ')}"
            f"{_el('SENtype', code, i + '      ')}{i}    </SENneed>\n"
            for rank, code in p.needs
        )
        if major >= 16:
            parts.append(f"{i}  <SENneeds>\n{needs}{i}  </SENneeds>\n")
        parts.append(f"{i}</SENhistory>\n")
        if major < 16 and needs:
            parts.append(f"{i}<SENneeds>\n{needs.replace(i + '    ', i + '  ')}{i}</SENneeds>\n")
    # What a real export also carries: the reader must walk past it without mistaking a
    # parent's Surname for the pupil's.
    parts += [
        f"{i}<Contacts>\n{i}  <Contact>\n",
        _el("Order", 1, i + "    "),
        _el("Surname", "Parentname" + str(index), i + "    "),
        _el("Forename", "Carer", i + "    "),
        _el("Relationship", "PAR", i + "    "),
        f"{i}    <Phones><Phone><TelephoneType>H</TelephoneType>"
        f"<PhoneNo>0100 000 {index:04d}</PhoneNo></Phone></Phones>\n",
        f"{i}  </Contact>\n{i}</Contacts>\n",
        f"{i}<Addresses><Address><BS7666Address><PAON>{index % 90 + 1}</PAON>"
        f"<Street>Invented Road</Street><Town>Nowhere</Town></BS7666Address>"
        f"<PostCode>ZZ99 9ZZ</PostCode></Address></Addresses>\n",
        f"{i}<Attendance><YearData><Year>2026</Year>"
        f"<SessionsPossible>{300 + index % 20}</SessionsPossible>"
        f"<SessionsAuthorised>{index % 7}</SessionsAuthorised>"
        f"<SessionsUnauthorised>{index % 3}</SessionsUnauthorised></YearData></Attendance>\n",
        "    </Pupil>\n",
    ]
    return "".join(parts)


def generate(count: int = 30, *, version: str = "25.0", namespace: str | None = None,
             seed: int = 0, encoding: str = "UTF-8") -> tuple[bytes, list[GeneratedPupil]]:
    """A CTF of `count` invented pupils, and the pupils it holds."""
    pupils = make_pupils(count, version=version, seed=seed)
    return render(pupils, version=version, namespace=namespace, encoding=encoding), pupils
