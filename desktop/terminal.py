"""What the `onesend` command writes to a terminal: never a control character it did not mean.

A file name, a profile folder or an answer can hold escape sequences (`ESC [ 2 J`, a title
change, a bidirectional override); printed raw, they would act on the terminal instead of
being read. Every line the command prints goes through `SafeStream`, which writes each such
character as a visible `\\uXXXX` escape (also a valid escape inside a JSON string, so `--json`
output still parses to the same values). Tab, newline and carriage return (the progress line
redraws itself with it) pass; `line_safe` escapes those too, for one-line messages.
"""

from __future__ import annotations

import re
from typing import TextIO

# C0 controls except tab, newline and carriage return; DEL and C1 controls; the
# bidirectional marks, embeddings, overrides and isolates (Trojan Source, CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069]")
_UNSAFE_LINE = re.compile(f"{_UNSAFE.pattern}|[\t\n\r]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str) -> str:
    """`text` with every control character but tab, newline and CR shown as `\\uXXXX`."""
    return _UNSAFE.sub(_escape, text)


def line_safe(text: str) -> str:
    """`text` as one line: tab, newline and CR escaped as well."""
    return _UNSAFE_LINE.sub(_escape, text)


class SafeStream:
    """A text stream that escapes control characters before they reach the real one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)
