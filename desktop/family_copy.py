"""The family's copy of an assessment: a tagged PDF (PDF/UA-1) written for the family.

One generator for the window (Family copy (PDF)…) and the command (`onesend assessments
export ID --format pdf`), so both make the same document. It has no Qt: the window builds
the HTML from its session on the GUI thread and renders it on a worker.

What the family gets:

- the child's and the family's own words first (the sections whose title or help says they
  are in someone's own words), then the rest in form order;
- questions and answers only: no instructions to the assessor (a section's help is written
  for the SENCO, so it is never printed), no unanswered questions, and no identifier (UPN,
  ULN, URN and the other reference numbers; see ``IDENTIFIER_TYPES``);
- a tagged PDF: headings (H1-H3), each section's questions and answers as a list, the
  reading order of the page, document language ``en-GB`` and the title shown by the reader
  (PDF/UA-1, ISO 14289-1), so a screen reader can navigate it;
- pages that never cut or repeat a line, and never end with a heading (CSS ``break-after:
  avoid``; a question is kept with the start of its answer); each page's footer has the date
  made, the form and its version, and "Page N of M" (marked as artifacts, not content).

WeasyPrint lays the pages out (with Pango). It is imported only when a PDF is rendered, so
neither the window's start nor the command's pays for it.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

from desktop.answers_text import AnswerRow, SectionBlock, long_date, summary_blocks
from desktop.assessments import summarise
from desktop.paths import write_private_file
from forms.engine import Session
from forms.model import Section

OWN_WORDS = re.compile(r"\bown words\b", re.IGNORECASE)
LANGUAGE = "en-GB"
PDF_VARIANT = "pdf/ua-1"

STYLE = """
@page {
  size: A4;
  margin: 18mm 20mm 22mm 20mm;
  @bottom-left { content: "%(footer)s"; font-size: 9pt; color: #383f43; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt;
                  color: #383f43; }
}
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       font-size: 11pt; line-height: 1.4; color: #0b0c0c; }
h1 { font-size: 20pt; margin: 0 0 4pt 0; }
h2 { font-size: 15pt; margin: 18pt 0 4pt 0; }
h3 { font-size: 12.5pt; margin: 10pt 0 2pt 0; }
h1, h2, h3 { break-after: avoid; break-inside: avoid; }
p { margin: 0 0 4pt 0; orphans: 2; widows: 2; }
p.intro { color: #383f43; margin-bottom: 8pt; }
dl { margin: 0; }
dt { font-weight: bold; margin-top: 8pt; break-after: avoid; break-inside: avoid; }
dd { margin: 0 0 2pt 0; }
ul { margin: 0 0 4pt 0; padding-left: 16pt; }
li { margin: 0; }
"""


def family_copy_title(session: Session) -> str:
    """The document's title (also the suggested file name): the form and the child's name."""
    name = child_name(session)
    return f"{session.definition.title} - {name}" if name else session.definition.title


def child_name(session: Session) -> str:
    names = summarise(session.answers)
    return " ".join(p for p in (names["first_name"], names["last_name"]) if p)


def own_words_first(sections: list[Section]) -> list[str]:
    """Section ids with the sections written in people's own words first, else form order."""
    first = [s.id for s in sections if OWN_WORDS.search(f"{s.title} {s.help}")]
    return first + [s.id for s in sections if s.id not in first]


def footer_text(session: Session, made_on: date) -> str:
    return (f"Made on {long_date(made_on)} · {session.definition.title}, "
            f"form version {session.definition.version}")


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())


def _answer_html(row: AnswerRow) -> str:
    lines = [line for line in row.text.split("\n") if line.strip()]
    if len(lines) > 1 and not row.long:
        # Several choices: a list, so a screen reader says how many.
        return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
    return _paragraphs(row.text)


def _rows_html(rows: tuple[AnswerRow, ...]) -> str:
    items = [f"<dt>{html.escape(row.label)}</dt><dd>{_answer_html(row)}</dd>"
             for row in rows if row.answered]
    return f"<dl>{''.join(items)}</dl>" if items else ""


def _block_html(block: SectionBlock) -> str:
    body = _rows_html(block.rows)
    for item_title, rows in block.items:
        item_body = _rows_html(rows)
        if item_body:
            body += f"<h3>{html.escape(item_title)}</h3>{item_body}"
    if not body:
        return ""
    return f"<section><h2>{html.escape(block.title)}</h2>{body}</section>"


def family_copy_html(session: Session, made_on: date) -> str:
    """The copy as HTML: answered questions only, no identifiers, own words first."""
    blocks = {b.id: b for b in summary_blocks(session, include_identifiers=False,
                                              include_unanswered=False)}
    name = child_name(session)
    title = family_copy_title(session)
    who = name or "the child or young person"
    parts = [
        f'<!DOCTYPE html><html lang="{LANGUAGE}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        '<meta name="generator" content="OneSEND">',
        f"<style>{STYLE % {'footer': _css_string(footer_text(session, made_on))}}</style>",
        "</head><body>",
        f"<h1>{html.escape(name or session.definition.title)}</h1>",
        f'<p class="intro">This is your copy of the {html.escape(session.definition.title)} '
        f"for {html.escape(who)}. It starts with what {html.escape(who)} and the family "
        "said, in their own words.</p>",
    ]
    for section_id in own_words_first(session.visible_sections):
        block = blocks.get(section_id)
        if block is not None:
            parts.append(_block_html(block))
    parts.append("</body></html>")
    return "".join(parts)


def render_pdf(html_text: str) -> bytes:
    """Lay out the HTML on A4 pages as a tagged PDF/UA-1 document (may run on a worker)."""
    from weasyprint import HTML  # noqa: PLC0415 - slow to import: only when a PDF is made

    data = HTML(string=html_text).write_pdf(pdf_variant=PDF_VARIANT)
    assert data is not None  # no target given: the bytes are returned
    return bytes(data)


def write_pdf(html_text: str, path: Path) -> Path:
    """Render and write the PDF atomically, readable by its owner only; returns the path."""
    write_private_file(path, render_pdf(html_text))
    return path


def write_family_copy(session: Session, path: Path, made_on: date) -> Path:
    """The command's one call: the family's copy of this session written to ``path``."""
    return write_pdf(family_copy_html(session, made_on), path)
