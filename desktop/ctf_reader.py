"""A safe, streaming reader of the DfE Common Transfer File (CTF): the pupils a school holds.

The file is hostile until proven otherwise: it is parsed with defusedxml (no DTD, no entity,
no external resource), streamed with iterparse so a large school's file never sits whole in
memory, and held to limits on its size, element count, nesting depth and number of pupils.
Every failure is one `BadImportFile` sentence naming the file and, where it applies, the pupil
(by position, never by name) and the element; a file that fails yields no pupils at all.

The reader only extracts; judging the values (codes, dates, check letters) is the importer's
work (`desktop.ctf_import`), so one bad date costs one pupil, not the whole file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from desktop.errors import BadImportFile, ImportCancelled

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What a CTF may hold before it is refused unread (or unfinished)."""

    # A large secondary school's full CTF, with attendance and results, is tens of megabytes.
    max_bytes: int = 256 * 1024 * 1024
    max_elements: int = 10_000_000
    # CTfile/CTFpupilData/Pupil/Addresses/Address/BS7666Address/PAON is 7 deep.
    max_depth: int = 24
    max_pupils: int = 20_000


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class School:
    """A school named in the header (the one that made the file, or the one it is for)."""

    lea: str | None = None
    estab: str | None = None
    urn: str | None = None
    name: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"lea": self.lea, "estab": self.estab, "urn": self.urn, "name": self.name}


@dataclass(frozen=True)
class CtfHeader:
    version: str
    document_name: str | None = None
    date_time: str | None = None
    document_qualifier: str | None = None
    supplier_id: str | None = None
    source_school: School = field(default_factory=School)
    dest_school: School = field(default_factory=School)


@dataclass(frozen=True)
class SenEntry:
    """One `SENhistory/SEN`: a provision code from a start date (raw text, judged later)."""

    start_date: str | None
    provision: str | None


@dataclass(frozen=True)
class SenNeed:
    """One `SENneeds/SENneed`: a ranked type of need (raw text, judged later)."""

    rank: str | None
    type: str | None
    end_date: str | None = None


@dataclass(frozen=True)
class CtfPupil:
    """One `Pupil`, as the file has it: stripped text, or None where an element is absent."""

    position: int
    upn: str | None = None
    former_upns: tuple[str, ...] = ()
    surname: str | None = None
    forename: str | None = None
    preferred_surname: str | None = None
    preferred_forename: str | None = None
    dob: str | None = None
    sex: str | None = None
    sex_element: str = "Sex"
    uln: str | None = None
    nc_year: str | None = None
    sen_history: tuple[SenEntry, ...] = ()
    sen_needs: tuple[SenNeed, ...] = ()


@dataclass(frozen=True)
class CtfFile:
    name: str
    size: int
    header: CtfHeader
    pupils: tuple[CtfPupil, ...]


# Single values a pupil holds, directly under Pupil or under Pupil/BasicDetails (versions
# differ); Surname and Forename also occur under Contacts, which is why paths are exact.
_PUPIL_FIELDS = {
    "UPN": "upn",
    "Surname": "surname",
    "Forename": "forename",
    "PreferredSurname": "preferred_surname",
    "PreferredForename": "preferred_forename",
    "DOB": "dob",
    "Sex": "sex",
    "Gender": "gender",
    "UniqueLearnerNumber": "uln",
    "NCyearActual": "nc_year",
}
_HEADER_FIELDS = {
    "CTFversion": "version",
    "DocumentName": "document_name",
    "DateTime": "date_time",
    "DocumentQualifier": "document_qualifier",
    "SupplierID": "supplier_id",
}
_SCHOOL_FIELDS = {"LEA": "lea", "Estab": "estab", "URN": "urn", "SchoolName": "name"}

_EXPAT_MESSAGES = {
    expat_errors.XML_ERROR_NO_ELEMENTS: "it ends before the XML is complete (is it truncated?)",
    expat_errors.XML_ERROR_UNCLOSED_TOKEN: "it ends in the middle of a tag (is it truncated?)",
    expat_errors.XML_ERROR_PARTIAL_CHAR: "it ends in the middle of a character "
                                         "(is it truncated?)",
    expat_errors.XML_ERROR_INVALID_TOKEN: "it has a character or markup that is not allowed "
                                          "there (is its encoding the one it declares?)",
    expat_errors.XML_ERROR_TAG_MISMATCH: "a closing tag does not match its opening tag",
    expat_errors.XML_ERROR_INCORRECT_ENCODING: "its content does not match the encoding it "
                                               "declares",
    expat_errors.XML_ERROR_UNKNOWN_ENCODING: "it declares an encoding OneSEND cannot read",
    expat_errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "there is more after the end of the file's "
                                                   "root element",
    expat_errors.XML_ERROR_BAD_CHAR_REF: "it refers to a character that XML does not allow",
    expat_errors.XML_ERROR_UNDEFINED_ENTITY: "it uses an entity that is not defined",
    expat_errors.XML_ERROR_DUPLICATE_ATTRIBUTE: "an element repeats an attribute",
}
_EXPAT_CODES = {expat_errors.codes[message]: text for message, text in _EXPAT_MESSAGES.items()}


def _local(tag: Any) -> str:
    """The element's name without its namespace (CTFs come with and without one)."""
    if not isinstance(tag, str):
        return "?"
    return tag.rpartition("}")[2]


def _shown(name: str) -> str:
    """An element name from the file, made safe to print (it is the file's, not a child's)."""
    clean = "".join(c if c.isalnum() or c in "-_." else "?" for c in name[:40])
    return clean + ("…" if len(name) > 40 else "")


def _text(element: Element) -> str | None:
    text = (element.text or "").strip()
    return text or None


class _Source:
    """The file as iterparse reads it: counted, capped, and a point to report progress or stop."""

    def __init__(self, stream: IO[bytes], reader: CtfReader) -> None:
        self.stream = stream
        self.reader = reader
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        self.reader.check_cancelled()
        wanted = CHUNK if size is None or size < 0 else min(size, CHUNK)
        data = self.stream.read(wanted)
        self.read_bytes += len(data)
        if self.read_bytes > self.reader.limits.max_bytes:
            # The file grew after it was measured, or is not what its size says.
            raise self.reader.fail(
                f"is larger than the {self.reader.limits.max_bytes // (1024 * 1024)} MB "
                "OneSEND reads"
            )
        if self.reader.progress is not None:
            self.reader.progress(self.read_bytes, self.reader.size)
        return data


class CtfReader:
    """Reads one CTF file; `read()` returns every pupil or raises one `BadImportFile`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        limits: Limits = DEFAULT_LIMITS,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name or str(path)
        self.limits = limits
        self.progress = progress
        self.cancelled = cancelled
        self.size = 0
        self.stack: list[str] = []
        self.position = 0
        self.in_pupil = False

    # -- errors ------------------------------------------------------------------------------

    def where(self) -> str:
        """Where the reader is: the pupil by position, and the element path inside it."""
        if self.in_pupil:
            inner = "/".join(_shown(tag) for tag in self.stack[3:])
            return f"pupil {self.position}" + (f", element {inner}" if inner else "")
        if self.stack:
            return "element " + "/".join(_shown(tag) for tag in self.stack)
        return ""

    def fail(self, problem: str, *, where: str | None = None) -> BadImportFile:
        place = self.where() if where is None else where
        suffix = f" ({place})" if place else ""
        return BadImportFile(
            f"The file {self.name} cannot be imported: {problem}{suffix}. Nothing was imported."
        )

    def check_cancelled(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise ImportCancelled(f"Reading {self.name} was stopped; nothing was imported.")

    # -- reading -----------------------------------------------------------------------------

    def read(self) -> CtfFile:
        try:
            info = self.path.stat()
        except OSError as exc:
            raise self.fail(f"it cannot be read ({exc.strerror or 'unreadable'})",
                            where="") from None
        if not stat.S_ISREG(info.st_mode):
            raise self.fail("it is not a regular file", where="")
        self.size = info.st_size
        if self.size > self.limits.max_bytes:
            raise self.fail(
                f"it is {self.size / (1024 * 1024):,.0f} MB, larger than the "
                f"{self.limits.max_bytes // (1024 * 1024)} MB OneSEND reads", where="")
        if self.size == 0:
            raise self.fail("it is empty", where="")
        try:
            with self.path.open("rb") as stream:
                return self._parse(_Source(stream, self))
        except OSError as exc:
            raise self.fail(f"it cannot be read ({exc.strerror or 'unreadable'})",
                            where="") from None

    def _parse(self, source: _Source) -> CtfFile:
        try:
            events = iterparse(source, events=("start", "end"), forbid_dtd=True,
                               forbid_entities=True, forbid_external=True)
            return self._walk(events)
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            reason = _EXPAT_CODES.get(getattr(exc, "code", 0), "it is not well-formed XML")
            raise self.fail(f"{reason}, at line {line}, column {column}") from None
        except DefusedXmlException:
            raise self.fail(
                "it declares a DTD, entities or an external resource, which a CTF never does "
                "and OneSEND refuses to read", where="") from None
        except LookupError:
            raise self.fail("it declares an encoding OneSEND does not know", where="") from None
        except ValueError:
            # expat refuses multi-byte encodings such as Shift_JIS this way.
            raise self.fail("it declares an encoding OneSEND cannot read", where="") from None

    def _walk(self, events: Any) -> CtfFile:
        limits = self.limits
        stack = self.stack
        elements: list[Element] = []
        count = 0
        header: dict[str, str] = {}
        schools: dict[str, dict[str, str]] = {"SourceSchool": {}, "DestSchool": {}}
        seen_header = seen_pupil_data = False
        pupils: list[CtfPupil] = []
        pupil: dict[str, Any] = {}
        sen: dict[str, str | None] = {}
        need: dict[str, str | None] = {}

        for event, element in events:
            if event == "start":
                count += 1
                tag = _local(element.tag)
                stack.append(tag)
                elements.append(element)
                if count > limits.max_elements:
                    raise self.fail(f"it has more than {limits.max_elements:,} elements")
                depth = len(stack)
                if depth > limits.max_depth:
                    raise self.fail(f"its elements nest more than {limits.max_depth} deep")
                if depth == 1 and tag != "CTfile":
                    raise self.fail(
                        f"it is not a Common Transfer File (its root element is {_shown(tag)}, "
                        "not CTfile)", where="")
                if depth == 2 and tag == "Header":
                    seen_header = True
                elif depth == 2 and tag == "CTFpupilData":
                    seen_pupil_data = True
                elif depth == 3 and tag == "Pupil" and stack[1] == "CTFpupilData":
                    self.position += 1
                    if self.position > limits.max_pupils:
                        raise self.fail(f"it holds more than {limits.max_pupils:,} pupils",
                                        where="")
                    self.in_pupil = True
                    pupil = {"position": self.position, "former_upns": [], "sen_history": [],
                             "sen_needs": []}
                    self.check_cancelled()
                elif self.in_pupil and tag == "SEN" and "SENhistory" in stack[3:-1]:
                    sen = {}
                elif self.in_pupil and tag == "SENneed":
                    need = {}
                continue

            # An "end" event: the element's text is complete; take what is wanted, free it.
            tag = stack[-1]
            depth = len(stack)
            if self.in_pupil and depth > 3:
                self._pupil_value(pupil, stack[3:], element, sen, need)
            elif depth == 3 and stack[1] == "Header":
                if tag in _HEADER_FIELDS and tag not in header:
                    value = _text(element)
                    if value is not None:
                        header[tag] = value
            elif depth == 4 and stack[1] == "Header" and stack[2] in schools:
                if tag in _SCHOOL_FIELDS:
                    value = _text(element)
                    if value is not None:
                        schools[stack[2]].setdefault(_SCHOOL_FIELDS[tag], value)
            elif depth == 3 and self.in_pupil:
                pupils.append(self._pupil(pupil))
                self.in_pupil = False
            stack.pop()
            elements.pop()
            if depth <= 3 and elements:
                # Whole subtrees (a pupil, the header) are done with: drop them from the tree.
                elements[-1].remove(element)
            elif depth > 3:
                element.clear()

        if not seen_header:
            raise self.fail("it has no Header element, which every CTF has", where="")
        if "CTFversion" not in header:
            raise self.fail("its Header has no CTFversion", where="element CTfile/Header")
        if not seen_pupil_data:
            raise self.fail("it has no CTFpupilData element, so it holds no pupils", where="")
        return CtfFile(
            name=self.name,
            size=self.size,
            header=CtfHeader(
                version=header["CTFversion"],
                document_name=header.get("DocumentName"),
                date_time=header.get("DateTime"),
                document_qualifier=header.get("DocumentQualifier"),
                supplier_id=header.get("SupplierID"),
                source_school=School(**schools["SourceSchool"]),
                dest_school=School(**schools["DestSchool"]),
            ),
            pupils=tuple(pupils),
        )

    @staticmethod
    def _pupil_value(
        pupil: dict[str, Any], path: list[str], element: Element,
        sen: dict[str, str | None], need: dict[str, str | None],
    ) -> None:
        """Take one element's value into the pupil being read (path is relative to Pupil)."""
        tag = path[-1]
        direct = len(path) == 1 or (len(path) == 2 and path[0] == "BasicDetails")
        if direct and tag == "FormerUPN":
            value = _text(element)
            if value is not None:
                pupil["former_upns"].append(value)
        elif direct and tag in _PUPIL_FIELDS:
            key = _PUPIL_FIELDS[tag]
            if key not in pupil:
                pupil[key] = _text(element)
        elif "SENhistory" in path[:-2] and path[-2] == "SEN" and tag in (
                "StartDate", "SENprovision"):
            sen.setdefault(tag, _text(element))
        elif tag == "SEN" and "SENhistory" in path[:-1]:
            pupil["sen_history"].append(
                SenEntry(start_date=sen.get("StartDate"), provision=sen.get("SENprovision")))
        elif len(path) >= 3 and path[-2] == "SENneed" and path[-3] == "SENneeds" and tag in (
                "SENtypeRank", "SENtype", "NeedEndDate"):
            need.setdefault(tag, _text(element))
        elif tag == "SENneed" and len(path) >= 2 and path[-2] == "SENneeds":
            pupil["sen_needs"].append(SenNeed(rank=need.get("SENtypeRank"),
                                              type=need.get("SENtype"),
                                              end_date=need.get("NeedEndDate")))

    @staticmethod
    def _pupil(values: dict[str, Any]) -> CtfPupil:
        sex, sex_element = values.get("sex"), "Sex"
        if sex is None and values.get("gender") is not None:
            sex, sex_element = values["gender"], "Gender"
        return CtfPupil(
            position=values["position"],
            upn=values.get("upn"),
            former_upns=tuple(values["former_upns"]),
            surname=values.get("surname"),
            forename=values.get("forename"),
            preferred_surname=values.get("preferred_surname"),
            preferred_forename=values.get("preferred_forename"),
            dob=values.get("dob"),
            sex=sex,
            sex_element=sex_element,
            uln=values.get("uln"),
            nc_year=values.get("nc_year"),
            sen_history=tuple(values["sen_history"]),
            sen_needs=tuple(values["sen_needs"]),
        )


def read_ctf(
    path: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> CtfFile:
    """Every pupil of a CTF file, or one `BadImportFile` saying why the file is refused."""
    return CtfReader(path, limits=limits, progress=progress, cancelled=cancelled).read()
