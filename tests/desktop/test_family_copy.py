"""The family's copy, read back: a tagged PDF (PDF/UA-1) written for the family.

The PDF is read with pypdf, as a checker would: the structure tree (headings, lists, reading
order), the language and title, every answer exactly once, no heading last on a page, no
assessor instructions and no identifiers. The same file comes from the command.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from desktop.answers_text import summary_blocks
from desktop.family_copy import family_copy_title, write_family_copy
from forms.engine import document_session
from tests.cli_runner import run_onesend

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
MADE_ON = date(2026, 11, 30)
FOOTER = re.compile(r"Made on .*? form version [\d.]+\s*Page \d+ of \d+", re.DOTALL)
PASSWORD = "a long enough passphrase"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    document.pop("id", None)
    return document


def long_record() -> dict[str, Any]:
    """Many outcomes of different lengths: page breaks fall in many different places."""
    document = example("primary")
    outcomes = document["answers"]["outcomes"]
    for n in range(30):
        item = copy.deepcopy(outcomes[n % len(outcomes)])
        item.pop("_key", None)
        words = " ".join(["steady progress"] * (3 + 7 * (n % 4)))
        item["outcome"] = f"Goal number {n + 5}: will join in with {words}, with help."
        item["steps"] = "\n".join(f"Step {n + 5}.{s}: practise it at home."
                                  for s in range(n * 7 % 11))
        outcomes.append(item)
    return document


def each_answer_once(session: Any, text: str) -> int:
    """Every answered question with its answer, as often as the record has it: once."""
    expected: Counter[str] = Counter()
    for block in summary_blocks(session, include_identifiers=False, include_unanswered=False):
        rows = list(block.rows) + [row for _title, rows in block.items for row in rows]
        for row in rows:
            if row.answered:
                expected[normal(f"{row.label} {row.text}")] += 1
    for pair, times in expected.items():
        found = len(re.findall(rf"(?<![\w]){re.escape(pair)}(?![\w])", text))
        assert found == times, (pair, found, times)
    return len(expected)


def normal(text: str) -> str:
    return " ".join(text.replace("•", " ").split())


def body_text(reader: PdfReader) -> list[str]:
    """Each page's text without its footer, whitespace made single."""
    return [normal(FOOTER.sub(" ", page.extract_text())) for page in reader.pages]


def struct_elements(reader: PdfReader) -> list[tuple[str, int, DictionaryObject]]:
    """Every structure element in reading order: (type, depth, element)."""
    root = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    found: list[tuple[str, int, DictionaryObject]] = []

    def walk(node: Any, depth: int) -> None:
        node = node.get_object()
        if isinstance(node, ArrayObject):
            for kid in node:
                walk(kid, depth)
            return
        if isinstance(node, DictionaryObject) and "/S" in node:
            found.append((str(node["/S"]), depth, node))
            if "/K" in node:
                walk(node["/K"], depth + 1)

    walk(root["/K"], 0)
    return found


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[PdfReader, Any, list[str]]:
    session = document_session(long_record())
    path = tmp_path_factory.mktemp("family") / "copy.pdf"
    write_family_copy(session, path, MADE_ON)
    assert path.stat().st_mode & 0o077 == 0
    reader = PdfReader(path)
    return reader, session, body_text(reader)


def test_it_is_tagged_with_language_title_headings_and_lists(
    made: tuple[PdfReader, Any, list[str]],
) -> None:
    reader, session, _pages = made
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB"
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    assert reader.metadata is not None
    assert reader.metadata.title == family_copy_title(session) == (
        "National SEND assessment - Maya Example")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfuaid:part" in xmp or "pdfuaid" in xmp
    kinds = Counter(kind for kind, _depth, _el in struct_elements(reader))
    assert kinds["/Document"] == 1
    assert kinds["/H1"] == 1
    shown = [b for b in summary_blocks(session, include_identifiers=False,
                                       include_unanswered=False)
             if (b.rows and any(r.answered for r in b.rows)) or b.items]
    assert kinds["/H2"] == len(shown)
    assert kinds["/H3"] >= len(session.answers["outcomes"])
    assert kinds["/L"] >= len(shown)
    assert kinds["/LI"] > 50
    # Reading order: the headings in the tree are the document's order, own words first.
    headings = [el for kind, _d, el in struct_elements(reader) if kind == "/H2"]
    assert len(headings) == kinds["/H2"]
    assert reader.pages[0].extract_text().index("About me") < (
        reader.pages[0].extract_text().index("My family's views"))
    assert len(reader.pages) > 5


def test_every_answer_appears_exactly_once_and_nothing_else_of_the_assessor(
    made: tuple[PdfReader, Any, list[str]],
) -> None:
    _reader, session, pages = made
    text = " ".join(pages)
    assert each_answer_once(session, text) > 60
    # Written for the family: no instructions to the assessor, no identifiers.
    for section in session.definition.sections:
        if section.help:
            assert normal(section.help) not in text
    assert "Write what they said as they said it" not in text
    compact = text.replace(" ", "")
    assert "M204123416001" not in compact
    assert "UPN" not in text
    assert "ULN" not in text
    # The child's and the family's own words come first.
    assert text.index("About me") < text.index("My family's views") < (
        text.index("About the assessment"))


def test_no_heading_ends_a_page_and_every_page_is_numbered(
    made: tuple[PdfReader, Any, list[str]],
) -> None:
    reader, _session, _pages = made
    page_of = {page.indirect_reference.idnum: number
               for number, page in enumerate(reader.pages)}
    elements = struct_elements(reader)
    headings = 0
    for index, (kind, depth, element) in enumerate(elements):
        if kind not in ("/H1", "/H2", "/H3"):
            continue
        headings += 1
        following = next(el for k, d, el in elements[index + 1:] if d <= depth)
        assert "/Pg" in element
        assert "/Pg" in following
        here = page_of[element.raw_get("/Pg").idnum]
        assert here == page_of[following.raw_get("/Pg").idnum], (
            f"{kind} on page {here + 1} is the last thing there")
    assert headings > 20
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        footer = " ".join(page.extract_text().split())
        assert f"Page {number} of {total}" in footer
        assert "Made on 30 November 2026" in footer
        assert "form version 1.0.0" in footer


def test_the_command_writes_the_same_family_copy(tmp_path: Path) -> None:
    env = {"ONESEND_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path / "home")}

    def run(*args: str) -> str:
        result = run_onesend(args, stdin=PASSWORD + "\n", env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("profile", "create", "alex", "--password-stdin")
    source = tmp_path / "primary.json"
    source.write_text(json.dumps(example("primary")), "utf-8")
    record_id = json.loads(run("assessments", "import", str(source), "--json",
                               "--password-stdin"))["id"]
    out = tmp_path / "family.pdf"
    run("assessments", "export", record_id, "--format", "pdf", "--out", str(out),
        "--password-stdin")
    assert out.stat().st_mode & 0o077 == 0
    reader = PdfReader(out)
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    text = " ".join(body_text(reader))
    assert each_answer_once(document_session(example("primary")), text) > 40
    assert "M204123416001" not in text.replace(" ", "")
