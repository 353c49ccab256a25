"""Assessments in the vault: one child, one form version, many append-only revisions.

The assessment document (import and export) is
`{"id"?, "form", "form_version", "answers": {SECTION_ID: {QUESTION_ID: value}}}`; an export
adds `id`, `revision`, `status`, `created_at` and `updated_at`. The list screen reads an
encrypted summary per record (taken from `answers.child.*`), never the whole document.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from contract.canonical import canonical_json, now_iso
from desktop import finalising, heads, judging
from desktop.errors import (
    BadDocument,
    NotFound,
    TamperedData,
)
from desktop.heads import chain_tips, readable_heads
from desktop.integrity import DAMAGED_RECORD, Head, revision_mac
from desktop.outbox import Outbox
from desktop.paths import write_private_file
from desktop.record_status import FINALISABLE, Event, RecordStatus, next_status
from desktop.summaries import UPN_INDEX_FIELD, Summary, summarise, summary_of, upn_index
from desktop.vault import Vault
from forms.bounds import MAX_DOCUMENT_BYTES, OutOfBounds, check_document_bounds
from forms.registry import Catalogue
from forms.validators import normalise_identifier

__all__ = [
    "Assessments",
    "RevisionInfo",
    "Summary",
    "parse_document",
    "summarise",
    "upn_index",
    "write_export",
]

# Per open vault: record id -> (editing session, the revision that session is writing).
# In memory only: after a restart (or a kill) the next save starts a new revision.
_SESSIONS: weakref.WeakKeyDictionary[Vault, dict[str, tuple[str, int]]] = (
    weakref.WeakKeyDictionary())
EXPORT_FIELDS = ("id", "revision", "status", "created_at", "updated_at")
DOCUMENT_FIELDS = ("form", "form_version", "answers")
# Answers a form migration moved out of the form (forms/migrations.py): kept, never sent.
OPTIONAL_FIELDS = ("archive",)
_CHUNK = 250  # revisions named in one statement (two values each)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


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


def check_document(data: Any, source: str, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The document's shape, checked; the engine judges its answers elsewhere. A fetched form
    version's bounds are found in `catalogue` (the open session's)."""
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
        check_document_bounds(data, catalogue=catalogue)
    except OutOfBounds as exc:
        raise BadDocument(f"{source} was not accepted: {exc}.") from exc
    return data


def checked_body(
    document: dict[str, Any], source: str, catalogue: Catalogue | None,
) -> dict[str, Any]:
    """The document checked (`check_document`) and reduced to what a revision stores."""
    checked = check_document(document, source, catalogue)
    body = {key: checked[key] for key in DOCUMENT_FIELDS}
    if checked.get("archive"):
        body["archive"] = checked["archive"]
    return body


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
    damaged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Assessments:
    """The assessments in one open vault."""

    # What finalising's judge (desktop/judging.py, perhaps in a worker process) checks a
    # stored body with: a module function, so a worker finds it by name.
    document_check = staticmethod(checked_body)

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    # -- writing -----------------------------------------------------------------------------

    def import_document(self, document: dict[str, Any]) -> tuple[str, int]:
        """A new assessment, or a new revision of the one whose `id` the document names."""
        record_id = check_document(document, "The assessment", self.vault.catalogue).get("id")
        exists = bool(record_id) and self._exists(str(record_id))
        if record_id and exists:
            revision = self.save(str(record_id), document, action="import")
            return str(record_id), revision
        return self.create(document, record_id=record_id or None, action="import")

    def create(
        self, document: dict[str, Any], *, record_id: str | None = None, action: str = "create"
    ) -> tuple[str, int]:
        record_id = record_id or uuid.uuid4().hex
        body = self.checked_body(document)
        now = now_iso()
        with self.vault.write() as conn:
            # The row first (the revision refers to it), then its MAC once the tip is known.
            conn.execute(
                "INSERT INTO assessments (id, created_at, updated_at, current_revision, "
                "revision_count, status, summary) VALUES (?, ?, ?, 0, 0, ?, x'')",
                (record_id, now, now, RecordStatus.DRAFT),
            )
            tip = self._insert_revision(
                conn, record_id, 1, now=now, action=action, status=RecordStatus.DRAFT, body=body,
                previous=None,
            )
            self.put_head(conn, Head(
                record_id, now, now, 1, 1, RecordStatus.DRAFT, self._upn_index(body["answers"]),
                body["form"], body["form_version"], self._seal_summary(body, record_id, 1), tip,
                None))
            self.vault.audit(conn, f"assessment.{action}", record_id, new_record=True)
        return record_id, 1

    def save(
        self, record_id: str, document: dict[str, Any], *, action: str = "edit",
        session: str | None = None,
    ) -> int:
        """Save these answers; the revision's number is returned.

        Without `session` (import, amend, restore, migration…) a new revision is appended.
        An editing session (the editor passes one token per record it opens) appends one
        revision at its first save, and each later autosave of the same session replaces that
        revision in place, re-MAC'd and chained to the revision before it, in one durable
        transaction: the vault grows per editing session, not per keystroke, and a kill keeps
        the last completed save. Earlier revisions are never touched, so a damaged working
        revision cannot hide the last one of the previous session.
        """
        body = self.checked_body(document)
        now = now_iso()
        sessions = _SESSIONS.setdefault(self.vault, {})
        with self.vault.write() as conn:
            head = self.verified_head(conn, record_id)
            # An amendment stays one while it is edited (until it is finalised again).
            status = next_status(head.status, Event.EDIT)
            if (session is not None and action == "edit"
                    and sessions.get(record_id) == (session, head.current_revision)):
                self._replace_tip(conn, head, now=now, status=status, body=body)
                return head.current_revision
            revision = head.current_revision + 1
            self.append_revision(conn, head, revision, now=now, action=action, status=status,
                         head_status=status, body=body, upn=True)
            self.vault.audit(conn, f"assessment.{action}", record_id)
        if session is not None and action == "edit":
            sessions[record_id] = (session, revision)
        else:
            sessions.pop(record_id, None)
        return revision

    def _replace_tip(
        self, conn: Any, head: Head, *, now: str, status: str, body: dict[str, Any],
    ) -> None:
        """The current revision (this session's working revision) replaced by these answers,
        its MAC recomputed over the same chain link; the record's row moved on with it."""
        revision = head.current_revision
        _, _, _ = self.verified_revision(head, revision)  # raises TamperedData if damaged
        before = conn.execute(
            "SELECT CAST(mac AS BLOB) FROM revisions INDEXED BY revisions_chain "
            "WHERE assessment_id = ? AND revision < ? ORDER BY revision DESC LIMIT 1",
            (head.id, revision)).fetchone()
        previous = before[0] if before else None
        plaintext = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        sealed = self.vault.cipher.seal(plaintext, "answers", head.id, revision)
        tip = revision_mac(self.vault.cipher, head.id, revision, now, self.vault.profile,
                           "edit", status, body["form"], body["form_version"], sealed, previous)
        conn.execute(
            "UPDATE revisions SET created_at = ?, author = ?, action = 'edit', status = ?, "
            "form = ?, form_version = ?, body = ?, mac = ? WHERE assessment_id = ? AND "
            "revision = ?",
            (now, self.vault.profile, status, body["form"], body["form_version"], sealed, tip,
             head.id, revision),
        )
        self.put_head(conn, replace(
            head, updated_at=now, status=status, upn_index=self._upn_index(body["answers"]),
            form=body["form"], form_version=body["form_version"],
            summary=self._seal_summary(body, head.id, revision), tip=tip,
        ))

    def finalise(self, record_id: str) -> tuple[int, bool]:
        """Sign off the current revision and queue it for the server, in one transaction
        (desktop/finalising.py): (revision, newly_finalised)."""
        return finalising.finalise(self, record_id)

    def finalise_many(
        self, record_ids: Sequence[str], *, batch: int = 250, workers: int | None = None,
    ) -> Iterator[tuple[str, int | None, bool, Exception | None]]:
        """Finalise many assessments, a batch per durable transaction, judged on every core
        when there are many (desktop/finalising.py): (id, revision, newly, why-if-skipped)."""
        return finalising.finalise_many(self, record_ids, batch=batch, workers=workers)

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
        body = self.checked_body(document)
        now = now_iso()
        with self.vault.write() as conn:
            head = self.verified_head(conn, record_id)
            # The server's revision numbers come first, so a gap here is expected: the
            # revisions' MAC chain, not their numbering, shows that none is missing.
            revision = max(head.current_revision, server_revision) + 1
            self.append_revision(conn, head, revision, now=now, action="resolve-conflict",
                         status=RecordStatus.AMENDED,
                         head_status=next_status(head.status, Event.RESOLVE), body=body,
                         upn=True)
            Outbox(self.vault).adopt_server_revision(conn, record_id, server_revision)
            self.vault.audit(conn, "assessment.resolve-conflict", record_id)
        return revision

    def restore(self, record_id: str, revision: int) -> int:
        """Make an earlier revision current again, as a new revision (history is kept)."""
        old = self.get(record_id, revision)
        return self.save(record_id, old, action=f"restore-from-{revision}")

    # -- reading -----------------------------------------------------------------------------

    def get(self, record_id: str, revision: int | None = None) -> dict[str, Any]:
        """The export document of the current (or a given) revision.

        The record's row, its revision count and the revision's MAC (chained to the one
        before) are checked first: a record altered outside OneSEND raises TamperedData (one
        sentence) and is never silently trusted.
        """
        with self.vault.errors():
            head = self.verified_head(self.vault.conn, record_id)
        wanted = head.current_revision if revision is None else revision
        blob, status, updated_at = self.verified_revision(head, wanted)
        if wanted == head.current_revision:
            # A revision's row keeps the status it was saved with; the record's own status
            # moves on (queued, synced, conflict) without a new revision.
            status = head.status
        body = json.loads(self.vault.cipher.open(blob, "answers", record_id, wanted))
        return {
            "id": record_id,
            "revision": wanted,
            "status": status,
            "created_at": head.created_at,
            "updated_at": updated_at,
            **body,
        }

    def summaries(self) -> list[Summary]:
        """Every assessment's summary, newest edit first; a damaged one is marked, not fatal.

        Read without joining the revisions, and row by row where the file itself is damaged,
        so one bad page hides only the records on it. A record whose row fails its MAC, or
        whose revisions do not end where its row says (one deleted, added or rolled back),
        is marked damaged.
        """
        heads, unreadable = readable_heads(self.vault)
        chains = chain_tips(self.vault, [head.id for head in heads])
        cipher = self.vault.cipher
        result = [Summary(record_id, 0, "", "", "", "", damaged=True) for record_id in unreadable]
        result.extend(summary_of(head, chains.get(head.id), cipher) for head in heads)
        result.sort(key=lambda summary: summary.id)
        result.sort(key=lambda summary: summary.updated_at, reverse=True)
        return result

    def history(self, record_id: str) -> list[RevisionInfo]:
        """Every revision, each marked `damaged` when its MAC (or the chain to it) fails."""
        with self.vault.errors():
            self.verified_head(self.vault.conn, record_id, check=False)  # NotFound
        rows = self.vault.read(
            "SELECT revision, created_at, author, action, status, form, form_version, "
            "CAST(body AS BLOB), CAST(mac AS BLOB) FROM revisions WHERE assessment_id = ? "
            "ORDER BY revision",
            (record_id,),
        )
        cipher = self.vault.cipher
        previous: bytes | None = None
        result = []
        for revision, created_at, author, action, status, form, form_version, body, mac in rows:
            ok = cipher.mac_ok(mac, "revision", record_id, revision, created_at, author, action,
                               status, form, form_version, _digest(body), previous)
            previous = mac
            result.append(RevisionInfo(int(revision), str(created_at), str(author), str(action),
                                       str(status), str(form), str(form_version),
                                       damaged=not ok))
        return result

    def problems(self, record_id: str) -> str | None:
        """One sentence when the record's row or revisions fail their checks, else None."""
        try:
            with self.vault.errors():
                head = self.verified_head(self.vault.conn, record_id)
            self.verified_chain(head)
        except TamperedData as exc:
            return str(exc)
        return None

    def find_by_upn(self, upn: str) -> list[str]:
        """Ids of assessments whose child has this UPN (compared through the blind index).

        Each matching row's MAC is checked: an index value copied from another record is
        refused in one sentence rather than naming the wrong child.
        """
        key = self.vault.cipher.blind_index(normalise_identifier(upn), UPN_INDEX_FIELD)
        rows = self.vault.read(
            f"SELECT {Head.COLUMNS} FROM assessments WHERE upn_index = ? "  # noqa: S608
            "ORDER BY id", (key,))
        cipher = self.vault.cipher
        for row in rows:
            head = Head.from_row(row)
            if not head.ok(cipher):
                raise TamperedData(DAMAGED_RECORD.format(id=head.id, what="its UPN index or "
                                                         "details do not verify"))
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        return int(self.vault.read("SELECT count(*) FROM assessments")[0][0])

    def status_of(self, record_id: str) -> RecordStatus | None:
        """The record's own status (queued, synced…), not its latest revision's."""
        rows = self.vault.read("SELECT status FROM assessments WHERE id = ?", (record_id,))
        return RecordStatus(str(rows[0][0])) if rows else None

    def current_revision_of(self, record_id: str) -> int | None:
        rows = self.vault.read("SELECT current_revision FROM assessments WHERE id = ?",
                               (record_id,))
        return int(rows[0][0]) if rows else None

    def heads_with_status(
        self, statuses: tuple[RecordStatus, ...]
    ) -> list[tuple[str, int, str, str]]:
        """(id, current revision, form, form version) of each record in one of `statuses`.

        The record's row carries its current form and version (MAC'd): no join of revisions.
        """
        marks = ", ".join("?" for _ in statuses)
        rows = self.vault.read(
            "SELECT id, current_revision, form, form_version FROM assessments "  # noqa: S608
            f"WHERE status IN ({marks}) ORDER BY id", statuses)
        return [(str(i), int(r), str(f), str(v)) for i, r, f, v in rows]

    # -- internals ---------------------------------------------------------------------------

    def _exists(self, record_id: str) -> bool:
        return bool(self.vault.read("SELECT 1 FROM assessments WHERE id = ?", (record_id,)))

    def checked_body(self, document: dict[str, Any],
                     source: str = "The assessment") -> dict[str, Any]:
        return checked_body(document, source, self.vault.catalogue)

    def _upn_index(self, answers: dict[str, Any]) -> bytes | None:
        return upn_index(self.vault.cipher, answers)

    def _seal_summary(self, body: dict[str, Any], record_id: str, revision: int) -> bytes:
        return self.vault.cipher.seal(
            canonical_json(summarise(body["answers"])), "summary", record_id, revision
        )

    def _insert_revision(
        self, conn: Any, record_id: str, revision: int, *, now: str, action: str, status: str,
        body: dict[str, Any], previous: bytes | None, plaintext: bytes | None = None,
    ) -> bytes:
        """Append a revision whose MAC chains to `previous` (the record's tip); its MAC.
        `plaintext`: the body as it is to be sealed, when the caller has encoded it already."""
        # Key order is kept as given, so an export reads like the file that was imported;
        # a sign-off revision is canonical, as a sync sends it (Outbox.payload_bytes).
        if plaintext is None:
            plaintext = (canonical_json(body) if action == "finalise" else
                         json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8"))
        sealed = self.vault.cipher.seal(plaintext, "answers", record_id, revision)
        mac = revision_mac(self.vault.cipher, record_id, revision, now, self.vault.profile,
                           action, status, body["form"], body["form_version"], sealed, previous)
        conn.execute(
            "INSERT INTO revisions (assessment_id, revision, created_at, author, action, status, "
            "form, form_version, body, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, revision, now, self.vault.profile, action, status, body["form"],
             body["form_version"], sealed, mac),
        )
        return mac

    def append_revision(
        self, conn: Any, head: Head, revision: int, *, now: str, action: str, status: str,
        head_status: str, body: dict[str, Any], upn: bool, move_state: bool = True,
        plaintext: bytes | None = None,
    ) -> tuple[bytes | None, bytes]:
        """A new revision and the record's row moved on to it, both MAC'd, in `conn`'s
        transaction; the row's (old, new) MAC (the vault's state row moved by them unless
        the caller moves it for a whole batch, `move_state=False`)."""
        tip = self._insert_revision(conn, head.id, revision, now=now, action=action,
                                    status=status, body=body, previous=head.tip,
                                    plaintext=plaintext)
        moved = replace(
            head, updated_at=now, current_revision=revision,
            revision_count=head.revision_count + 1, status=head_status,
            upn_index=self._upn_index(body["answers"]) if upn else head.upn_index,
            form=body["form"], form_version=body["form_version"],
            summary=self._seal_summary(body, head.id, revision), tip=tip,
        )
        return heads.put_head(self.vault, conn, moved, move_state=move_state)

    def put_head(self, conn: Any, head: Head) -> None:
        """Write the record's row with a fresh MAC (the caller verified the row it read)."""
        heads.put_head(self.vault, conn, head)

    def verified_head(self, conn: Any, record_id: str, *, check: bool = True) -> Head:
        """The record's row; NotFound, or TamperedData when its MAC or revisions fail."""
        return heads.verified_head(self.vault, conn, record_id, check=check)

    def verified_revision(self, head: Head, revision: int) -> tuple[bytes, str, str]:
        """One revision of a verified record, its MAC checked against the previous one's:
        (sealed body, status, created_at)."""
        rows = self.vault.read(
            "SELECT created_at, author, action, status, form, form_version, CAST(body AS BLOB), "
            "CAST(mac AS BLOB) FROM revisions WHERE assessment_id = ? AND revision = ?",
            (head.id, revision),
        )
        if not rows:
            raise NotFound(f"Assessment {head.id} has no revision {revision}.")
        created_at, author, action, status, form, form_version, body, mac = rows[0]
        before = self.vault.read(
            "SELECT CAST(mac AS BLOB) FROM revisions INDEXED BY revisions_chain "
            "WHERE assessment_id = ? AND revision < ? ORDER BY revision DESC LIMIT 1",
            (head.id, revision),
        )
        previous = before[0][0] if before else None
        if not self.vault.cipher.mac_ok(mac, "revision", head.id, revision, created_at, author,
                                        action, status, form, form_version, _digest(body),
                                        previous):
            raise TamperedData(DAMAGED_RECORD.format(
                id=head.id, what=f"revision {revision}'s details do not verify"))
        return bytes(body), str(status), str(created_at)

    def verified_revisions(
        self, conn: Any, wanted: Sequence[tuple[str, int]],
    ) -> dict[str, bytes | NotFound | TamperedData]:
        """`verified_revision` for one revision each of many records: its sealed body, or the
        error `verified_revision` would raise, read (with the MAC before each) in one
        statement per chunk."""
        cipher = self.vault.cipher
        found: dict[str, bytes | NotFound | TamperedData] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = conn.execute(
                "WITH wanted(id, revision) AS (VALUES "  # noqa: S608 - marks only
                f"{', '.join('(?, ?)' for _ in chunk)}) "
                "SELECT w.id, w.revision, r.created_at, r.author, r.action, r.status, r.form, "
                "r.form_version, CAST(r.body AS BLOB), CAST(r.mac AS BLOB), "
                "(SELECT CAST(p.mac AS BLOB) FROM revisions AS p INDEXED BY revisions_chain "
                "WHERE p.assessment_id = w.id AND p.revision < w.revision "
                "ORDER BY p.revision DESC LIMIT 1) "
                "FROM wanted AS w JOIN revisions AS r "
                "ON r.assessment_id = w.id AND r.revision = w.revision",
                [value for pair in chunk for value in pair]).fetchall()
            for (record_id, revision, created_at, author, action, status, form, form_version,
                 body, mac, previous) in rows:
                if cipher.mac_ok(mac, "revision", record_id, revision, created_at, author,
                                 action, status, form, form_version, _digest(body), previous):
                    found[str(record_id)] = bytes(body)
                else:
                    found[str(record_id)] = TamperedData(DAMAGED_RECORD.format(
                        id=record_id, what=f"revision {revision}'s details do not verify"))
        for record_id, revision in wanted:
            if record_id not in found:
                found[record_id] = NotFound(
                    f"Assessment {record_id} has no revision {revision}.")
        return found

    def append_sign_offs(
        self, conn: Any, signed: Sequence[tuple[Head, judging.Judged, str]],
    ) -> None:
        """For each verified row, judged, at its time: the sign-off revision (action
        `finalise`, status ready; the body's canonical JSON, sealed and chained to the
        record's tip) and the row moved on to it (its UPN index kept), in `conn`'s
        transaction: one INSERT, one UPDATE and one move of the vault's state row."""
        cipher, profile = self.vault.cipher, self.vault.profile
        rows, moved = [], []
        for head, judged, now in signed:
            revision = head.current_revision + 1
            sealed = cipher.seal(judged.canonical, "answers", head.id, revision)
            mac = revision_mac(cipher, head.id, revision, now, profile, "finalise",
                               RecordStatus.READY, judged.form, judged.form_version, sealed,
                               head.tip)
            rows.append((head.id, revision, now, profile, "finalise", RecordStatus.READY,
                         judged.form, judged.form_version, sealed, mac))
            moved.append(replace(
                head, updated_at=now, current_revision=revision,
                revision_count=head.revision_count + 1,
                status=next_status(head.status, Event.FINALISE), form=judged.form,
                form_version=judged.form_version,
                summary=cipher.seal(judged.summary, "summary", head.id, revision), tip=mac))
        conn.executemany(
            "INSERT INTO revisions (assessment_id, revision, created_at, author, action, status, "
            "form, form_version, body, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        heads.put_heads(self.vault, conn, moved)

    def verified_chain(self, head: Head) -> None:
        """Every revision of a verified record, each MAC checked against the one before."""
        history = self.history(head.id)
        broken = [entry.revision for entry in history if entry.damaged]
        if broken:
            raise TamperedData(DAMAGED_RECORD.format(
                id=head.id, what=f"revision {broken[0]}'s details do not verify"))


def _digest(blob: Any) -> bytes | None:
    return None if blob is None else hashlib.sha256(bytes(blob)).digest()


def write_export(path: Path, document: dict[str, Any]) -> None:
    """Write an exported document atomically, readable by its owner only (it names a child)."""
    write_private_file(path, json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n")
