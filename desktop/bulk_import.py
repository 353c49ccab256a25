"""Bulk import: many assessment documents into one open vault, one unlock, one process.

The sources are files, the `*.json` files of folders (not their subfolders), and lines of
newline-delimited JSON (one document per line). Each document is read, checked and imported
in its own durable transaction (`Assessments.import_document`), so a bad file is reported
with one sentence and skipped, never stops the others, and never leaves half a record: a
record is either wholly imported (row, revision, MACs, audit entry) or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from desktop.assessments import Assessments, parse_document
from desktop.errors import (
    CorruptVault,
    DiskFull,
    OneSendError,
    VaultBusy,
    VaultFilesChanged,
    VaultLocked,
)
from desktop.vault import Vault

# The vault itself failing stops the import (every later record would fail the same way);
# what was imported before it stays imported.
_VAULT_FAILURES = (CorruptVault, DiskFull, VaultBusy, VaultFilesChanged, VaultLocked)
# A document larger than this is refused unread (the largest the form allows is ~2 MB).
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ImportResult:
    """What became of one source: the record it made or revised, or why it was skipped."""

    source: str
    id: str | None = None
    revision: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"source": self.source, "error": self.error}
        return {"source": self.source, "id": self.id, "revision": self.revision}


# One source: its name, and a function giving its bytes (or raising OneSendError/OSError).
Source = tuple[str, Callable[[], bytes | str]]


def file_sources(paths: Sequence[str]) -> list[Source]:
    """Each named file, and each `*.json` file directly inside a named folder, sorted."""
    found: list[Source] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend((str(child), _reader(child)) for child in
                         sorted(p for p in path.iterdir() if p.suffix.lower() == ".json"
                                and p.is_file()))
        else:
            found.append((name, _reader(path)))
    return found


def ndjson_sources(stream: TextIO, label: str = "stdin") -> Iterator[Source]:
    """One source per non-blank line of newline-delimited JSON, read as it comes."""
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield f"{label} line {number}", _constant(line)


def _constant(text: str) -> Callable[[], bytes | str]:
    return lambda: text


def _reader(path: Path) -> Callable[[], bytes | str]:
    def read() -> bytes:
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise OneSendError(f"{path} is larger than an assessment can be; it was skipped.")
            return path.read_bytes()
        except OSError as exc:
            raise OneSendError(f"Cannot read {path}: {exc.strerror or 'unreadable'}.") from exc
    return read


def import_all(
    vault: Vault, sources: Iterable[Source], *,
    progress: Callable[[int, ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Import every source, each in its own transaction; one result per source, in order."""
    store = Assessments(vault)
    results: list[ImportResult] = []
    for source, read in sources:
        try:
            document = parse_document(read(), source)
            record_id, revision = store.import_document(document)
            result = ImportResult(source, record_id, revision)
        except _VAULT_FAILURES:
            raise
        except OneSendError as exc:
            # A bad document or a refused revision: said in one sentence, nothing written.
            result = ImportResult(source, error=str(exc))
        results.append(result)
        if progress is not None:
            progress(len(results), result)
    return results


class ProgressBar:
    """A one-line progress bar (redrawn in place) for a terminal's standard error."""

    def __init__(self, stream: TextIO, total: int | None, width: int = 30) -> None:
        self.stream, self.total, self.width = stream, total, width
        self.failed = 0

    def __call__(self, done: int, result: ImportResult) -> None:
        self.failed += not result.ok
        if self.total:
            filled = self.width * done // self.total
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"\r[{bar}] {done}/{self.total}"
        else:
            line = f"\r{done} read"
        if self.failed:
            line += f", {self.failed} skipped"
        self.stream.write(line)
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
