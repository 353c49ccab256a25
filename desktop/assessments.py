"""Assessments in the vault: one child, one form version, many append-only revisions.

The assessment document (import and export) is
`{"id"?, "form", "form_version", "answers": {SECTION_ID: {QUESTION_ID: value}}}`; an export
adds `id`, `revision`, `status`, `created_at` and `updated_at`. The list screen reads an
encrypted summary per record (taken from `answers.child.*`), never the whole document.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop.errors import BadDocument, NotFound, NotReady, TamperedData
from desktop.paths import write_private_file
from desktop.vault import Vault, now_iso
from forms.bounds import MAX_DOCUMENT_BYTES, OutOfBounds, check_document_bounds
from forms.errors import FormError
from forms.validators import normalise_identifier

STATUSES = ("draft", "ready", "queued", "synced", "amended", "conflict")
FINALISABLE = ("draft", "amended", "conflict", "ready")
EXPORT_FIELDS = ("id", "revision", "status", "created_at", "updated_at")
DOCUMENT_FIELDS = ("form", "form_version", "answers")
# Answers a form migration moved out of the form (forms/migrations.py): kept, never sent.
OPTIONAL_FIELDS = ("archive",)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
UPN_INDEX_FIELD = "child.upn"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_document(raw: bytes | str, source: str) -> dict[str, Any]:
    """Parse and check an assessment document; one sentence naming `source` when it is wrong."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise BadDocument(f"{source} is larger than the {MAX_DOCUMENT_BYTES // 2**20} MiB "
                          "OneSEND accepts for one assessment.")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadDocument(f"{source} is not valid JSON.") from exc
    return check_document(data, source)


def check_document(data: Any, source: str) -> dict[str, Any]:
    """The document's shape, checked; the engine judges its answers elsewhere."""
    if not isinstance(data, dict):
        raise BadDocument(f"{source} must hold a JSON object with form, form_version and answers.")
    unknown = sorted(set(data) - set(DOCUMENT_FIELDS) - set(EXPORT_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise BadDocument(f"{source} has fields OneSEND does not know: {', '.join(unknown)}.")
    for field in ("form", "form_version"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise BadDocument(f"{source} needs a text value at /{field}.")
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise BadDocument(f"{source} needs an object of sections at /answers.")
    for section, values in answers.items():
        # A repeating section (outcomes, provision) is a list of items, each an object.
        items = values if isinstance(values, list) else [values]
        if not all(isinstance(item, dict) for item in items):
            raise BadDocument(f"{source}: /answers/{section} must be an object of answers "
                              "(or, for a repeating section, a list of them).")
    archive = data.get("archive", [])
    if not isinstance(archive, list) or not all(isinstance(entry, dict) for entry in archive):
        raise BadDocument(f"{source}: /archive must be a list of archived answers.")
    record_id = data.get("id")
    if record_id is not None and (not isinstance(record_id, str) or not _ID.match(record_id)):
        raise BadDocument(f"{source}: /id must be 1 to 64 letters, digits, dashes or underscores.")
    try:
        # Every answer within its type's hard bound (forms/bounds.py): on import and every save.
        check_document_bounds(data)
    except OutOfBounds as exc:
        raise BadDocument(f"{source} was not accepted: {exc}.") from exc
    return data


def canonical_json(value: Any) -> bytes:
    """One byte sequence per value: what is hashed, sealed and compared."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return str(value)


@dataclass(frozen=True)
class Summary:
    """What the assessment list shows of one record; decrypted once after unlock."""

    id: str
    revision: int
    status: str
    updated_at: str
    form: str
    form_version: str
    first_name: str = ""
    last_name: str = ""
    date_of_birth: str = ""
    setting: str = ""
    kind: str = ""
    nc_year: str = ""
    request_date: str = ""
    damaged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RevisionInfo:
    """One entry in an assessment's history: who saved it, when, how and in what state."""

    revision: int
    created_at: str
    author: str
    action: str
    status: str
    form: str
    form_version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise(answers: dict[str, Any]) -> dict[str, str]:
    """The list's columns, taken from the national form's well-known answer paths."""
    child = answers.get("child") if isinstance(answers.get("child"), dict) else {}
    about = answers.get("assessment") if isinstance(answers.get("assessment"), dict) else {}
    assert isinstance(child, dict)
    assert isinstance(about, dict)
    return {
        "first_name": _text(child.get("first_name")),
        "last_name": _text(child.get("last_name")),
        "date_of_birth": _text(child.get("date_of_birth")),
        "nc_year": _text(child.get("nc_year")),
        "setting": _text(about.get("setting_name")),
        "kind": _text(about.get("kind")),
        "request_date": _text(about.get("request_date")),
    }


class Assessments:
    """The assessments in one open vault."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    # -- writing -----------------------------------------------------------------------------

    def import_document(self, document: dict[str, Any]) -> tuple[str, int]:
        """A new assessment, or a new revision of the one whose `id` the document names."""
        record_id = check_document(document, "The assessment").get("id")
        exists = bool(record_id) and self._exists(str(record_id))
        if record_id and exists:
            revision = self.save(str(record_id), document, action="import")
            return str(record_id), revision
        return self.create(document, record_id=record_id or None, action="import")

    def create(
        self, document: dict[str, Any], *, record_id: str | None = None, action: str = "create"
    ) -> tuple[str, int]:
        record_id = record_id or uuid.uuid4().hex
        body = self._body(document)
        now = now_iso()
        with self.vault.write() as conn:
            conn.execute(
                "INSERT INTO assessments (id, created_at, updated_at, current_revision, status, "
                "upn_index, summary) VALUES (?, ?, ?, 1, 'draft', ?, ?)",
                (record_id, now, now, self._upn_index(body["answers"]),
                 self._seal_summary(body, record_id, 1)),
            )
            self._insert_revision(
                conn, record_id, 1, now=now, action=action, status="draft", body=body
            )
            self.vault.audit(conn, f"assessment.{action}", record_id)
        return record_id, 1

    def save(self, record_id: str, document: dict[str, Any], *, action: str = "edit") -> int:
        """Append a revision with these answers; the new revision's number is returned."""
        body = self._body(document)
        now = now_iso()
        with self.vault.write() as conn:
            row = conn.execute(
                "SELECT current_revision, status FROM assessments WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"There is no assessment with id {record_id}.")
            revision = int(row[0]) + 1
            status = "amended" if row[1] in ("synced", "queued") else "draft"
            self._insert_revision(
                conn, record_id, revision, now=now, action=action, status=status, body=body
            )
            conn.execute(
                "UPDATE assessments SET updated_at = ?, current_revision = ?, status = ?, "
                "upn_index = ?, summary = ? WHERE id = ?",
                (now, revision, status, self._upn_index(body["answers"]),
                 self._seal_summary(body, record_id, revision), record_id),
            )
            self.vault.audit(conn, f"assessment.{action}", record_id)
        return revision

    def finalise(self, record_id: str) -> tuple[int, bool]:
        """Sign off the current revision and queue it for the server, in one transaction.

        Only a complete and valid assessment (as the forms engine judges it) is finalised. A
        new revision (action `finalise`, author the profile's name) fixes the identity that
        every delivery of it will carry. Returns (revision, newly_finalised): finalising what
        is already queued or synced changes nothing.
        """
        from desktop.outbox import Outbox  # noqa: PLC0415 - the outbox builds on this module
        from forms.engine import check_document as judge  # noqa: PLC0415 - loads definitions

        head = self.vault.read(
            "SELECT current_revision, status FROM assessments WHERE id = ?", (record_id,)
        )
        if not head:
            raise NotFound(f"There is no assessment with id {record_id}.")
        current, status = int(head[0][0]), str(head[0][1])
        if status in ("queued", "synced"):
            return current, False
        if status not in FINALISABLE:
            raise NotReady(f"Assessment {record_id} cannot be finalised while it is {status}.")
        document = self.get(record_id, current)
        body = self._body(document, f"Assessment {record_id}")
        try:
            verdict = judge(body)
        except FormError as exc:
            raise NotReady(f"Assessment {record_id} cannot be finalised: {exc}") from exc
        if not verdict.complete:
            paths = ", ".join(problem.path for problem in verdict.problems[:5])
            more = ", …" if len(verdict.problems) > 5 else ""
            raise NotReady(
                f"Assessment {record_id} is not complete and valid: "
                f"{len(verdict.problems)} answer(s) to fix ({paths}{more})."
            )
        now = now_iso()
        sign_off = {"by": self.vault.profile, "at": now}
        with self.vault.write() as conn:
            row = conn.execute(
                "SELECT current_revision FROM assessments WHERE id = ?", (record_id,)
            ).fetchone()
            if int(row[0]) != current:
                raise NotReady(
                    f"Assessment {record_id} changed while it was being finalised; try again."
                )
            revision = current + 1
            self._insert_revision(
                conn, record_id, revision, now=now, action="finalise", status="ready", body=body
            )
            conn.execute(
                "UPDATE assessments SET updated_at = ?, current_revision = ?, status = 'queued', "
                "summary = ? WHERE id = ?",
                (now, revision, self._seal_summary(body, record_id, revision), record_id),
            )
            Outbox(self.vault).enqueue(conn, record_id, revision, body=body, sign_off=sign_off)
            self.vault.audit(conn, "assessment.finalise", record_id)
        return revision, True

    def finalisable(self) -> list[str]:
        """Ids of the assessments that could be finalised (drafts, amended, in conflict)."""
        marks = ", ".join("?" for _ in FINALISABLE)
        rows = self.vault.read(
            f"SELECT id FROM assessments WHERE status IN ({marks}) "  # noqa: S608 - marks only
            "ORDER BY updated_at, id",
            FINALISABLE,
        )
        return [str(row[0]) for row in rows]

    def resolve_conflict(
        self, record_id: str, document: dict[str, Any], server_revision: int
    ) -> int:
        """Save the answers chosen in the conflict view, based on the server's revision.

        The next finalisation of this assessment is sent with `server_revision` as its base;
        nothing on either side is overwritten. Returns the new local revision.
        """
        from desktop.outbox import Outbox  # noqa: PLC0415 - the outbox builds on this module

        body = self._body(document)
        now = now_iso()
        with self.vault.write() as conn:
            row = conn.execute(
                "SELECT current_revision FROM assessments WHERE id = ?", (record_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"There is no assessment with id {record_id}.")
            revision = max(int(row[0]), server_revision) + 1
            self._insert_revision(
                conn, record_id, revision, now=now, action="resolve-conflict", status="amended",
                body=body,
            )
            conn.execute(
                "UPDATE assessments SET updated_at = ?, current_revision = ?, status = 'amended', "
                "upn_index = ?, summary = ? WHERE id = ?",
                (now, revision, self._upn_index(body["answers"]),
                 self._seal_summary(body, record_id, revision), record_id),
            )
            Outbox(self.vault).adopt_server_revision(conn, record_id, server_revision)
            self.vault.audit(conn, "assessment.resolve-conflict", record_id)
        return revision

    def restore(self, record_id: str, revision: int) -> int:
        """Make an earlier revision current again, as a new revision (history is kept)."""
        old = self.get(record_id, revision)
        return self.save(record_id, old, action=f"restore-from-{revision}")

    # -- reading -----------------------------------------------------------------------------

    def get(self, record_id: str, revision: int | None = None) -> dict[str, Any]:
        """The export document of the current (or a given) revision."""
        head = self.vault.read(
            "SELECT created_at, current_revision, status FROM assessments WHERE id = ?",
            (record_id,),
        )
        if not head:
            raise NotFound(f"There is no assessment with id {record_id}.")
        created_at, current, current_status = head[0]
        wanted = current if revision is None else revision
        rows = self.vault.read(
            "SELECT CAST(body AS BLOB), status, created_at FROM revisions WHERE assessment_id = ? "
            "AND revision = ?",
            (record_id, wanted),
        )
        if not rows:
            raise NotFound(f"Assessment {record_id} has no revision {wanted}.")
        blob, status, updated_at = rows[0]
        if wanted == current:
            # A revision's row keeps the status it was saved with; the record's own status
            # moves on (queued, synced, conflict) without a new revision.
            status = current_status
        body = json.loads(self.vault.cipher.open(blob, "answers", record_id, wanted))
        return {
            "id": record_id,
            "revision": wanted,
            "status": status,
            "created_at": created_at,
            "updated_at": updated_at,
            **body,
        }

    def summaries(self) -> list[Summary]:
        """Every assessment's summary, newest edit first; a damaged one is marked, not fatal."""
        rows = self.vault.read(
            "SELECT a.id, a.current_revision, a.status, a.updated_at, CAST(a.summary AS BLOB), "
            "r.form, r.form_version FROM assessments a JOIN revisions r ON r.assessment_id = a.id "
            "AND r.revision = a.current_revision ORDER BY a.updated_at DESC, a.id"
        )
        cipher = self.vault.cipher
        result = []
        for record_id, revision, status, updated_at, blob, form, form_version in rows:
            base = Summary(record_id, revision, status, updated_at, form, form_version)
            try:
                fields = json.loads(cipher.open(blob, "summary", record_id, revision))
            except (TamperedData, ValueError):
                # One damaged record is shown as such; it must not hide the others.
                fields = {"damaged": True}
            result.append(Summary(**{**base.to_json(), **fields}))
        return result

    def history(self, record_id: str) -> list[RevisionInfo]:
        if not self._exists(record_id):
            raise NotFound(f"There is no assessment with id {record_id}.")
        rows = self.vault.read(
            "SELECT revision, created_at, author, action, status, form, form_version "
            "FROM revisions WHERE assessment_id = ? ORDER BY revision",
            (record_id,),
        )
        return [RevisionInfo(*row) for row in rows]

    def find_by_upn(self, upn: str) -> list[str]:
        """Ids of assessments whose child has this UPN (compared through the blind index)."""
        key = self.vault.cipher.blind_index(normalise_identifier(upn), UPN_INDEX_FIELD)
        rows = self.vault.read("SELECT id FROM assessments WHERE upn_index = ? ORDER BY id",
                               (key,))
        return [row[0] for row in rows]

    def count(self) -> int:
        return int(self.vault.read("SELECT count(*) FROM assessments")[0][0])

    # -- internals ---------------------------------------------------------------------------

    def _exists(self, record_id: str) -> bool:
        return bool(self.vault.read("SELECT 1 FROM assessments WHERE id = ?", (record_id,)))

    @staticmethod
    def _body(document: dict[str, Any], source: str = "The assessment") -> dict[str, Any]:
        checked = check_document(document, source)
        body = {key: checked[key] for key in DOCUMENT_FIELDS}
        if checked.get("archive"):
            body["archive"] = checked["archive"]
        return body

    def _upn_index(self, answers: dict[str, Any]) -> bytes | None:
        child = answers.get("child")
        upn = child.get("upn") if isinstance(child, dict) else None
        if not isinstance(upn, str) or not normalise_identifier(upn):
            return None
        return self.vault.cipher.blind_index(normalise_identifier(upn), UPN_INDEX_FIELD)

    def _seal_summary(self, body: dict[str, Any], record_id: str, revision: int) -> bytes:
        return self.vault.cipher.seal(
            canonical_json(summarise(body["answers"])), "summary", record_id, revision
        )

    def _insert_revision(
        self, conn: Any, record_id: str, revision: int, *, now: str, action: str, status: str,
        body: dict[str, Any],
    ) -> None:
        # Key order is kept as given, so an export reads like the file that was imported.
        plaintext = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        conn.execute(
            "INSERT INTO revisions (assessment_id, revision, created_at, author, action, status, "
            "form, form_version, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, revision, now, self.vault.profile, action, status, body["form"],
             body["form_version"],
             self.vault.cipher.seal(plaintext, "answers", record_id, revision)),
        )


def write_export(path: Path, document: dict[str, Any]) -> None:
    """Write an exported document atomically, readable by its owner only (it names a child)."""
    write_private_file(path, json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n")
