"""The family's copy: a readable PDF written with Qt's own PDF writer.

The child's and the family's own words come first (the sections whose help says they are in
someone's own words), then the rest in form order. Identifiers (UPN, ULN and the like) are
never printed. Every page has a footer with the date made, the form and its version, and the
page number. ``family_copy_html`` runs on the GUI thread (it reads the session);
``write_pdf`` only lays out and paints the text, so it may run on a worker thread.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from desktop.assessments import summarise
from desktop.paths import write_private_file
from forms.definition import Section
from forms.engine import Session
from ui.form.answers_text import AnswerRow, summary_blocks

OWN_WORDS = re.compile(r"\bown words\b", re.IGNORECASE)
RESOLUTION = 300
BODY_POINTS = 11.5


def family_copy_title(session: Session) -> str:
    names = summarise(session.answers)
    name = " ".join(p for p in (names["first_name"], names["last_name"]) if p)
    return f"{session.definition.title} - {name}" if name else session.definition.title


def own_words_first(sections: list[Section]) -> list[str]:
    """Section ids with the sections written in people's own words first, else form order."""
    first = [s.id for s in sections if OWN_WORDS.search(f"{s.title} {s.help}")]
    return first + [s.id for s in sections if s.id not in first]


def _text(value: str) -> str:
    return html.escape(value).replace("\n", "<br>")


def _rows_html(rows: tuple[AnswerRow, ...]) -> str:
    out = []
    for row in rows:
        if not row.answered:
            continue
        out.append(f'<p class="q">{_text(row.label)}</p><p class="a">{_text(row.text)}</p>')
    return "".join(out)


def family_copy_html(session: Session) -> str:
    """The copy as HTML: only answered questions, no identifiers, own words first."""
    blocks = {b.id: b for b in summary_blocks(session, include_identifiers=False,
                                              include_unanswered=False)}
    order = own_words_first(session.visible_sections)
    names = summarise(session.answers)
    name = " ".join(p for p in (names["first_name"], names["last_name"]) if p)
    parts = [
        "<html><head><style>"
        "body { color: #0b0c0c; }"
        "h1 { font-size: 20pt; margin-bottom: 2pt; }"
        "h2 { font-size: 15pt; margin-top: 16pt; margin-bottom: 4pt; }"
        "h3 { font-size: 12.5pt; margin-top: 10pt; margin-bottom: 2pt; }"
        "p.intro { color: #383f43; margin-bottom: 8pt; }"
        "p.help { color: #505a5f; font-style: italic; margin-top: 0; }"
        "p.q { font-weight: bold; margin-top: 8pt; margin-bottom: 1pt; }"
        "p.a { margin-top: 0; margin-bottom: 2pt; line-height: 130%; }"
        "</style></head><body>",
        f"<h1>{_text(name or 'Assessment')}</h1>",
        f'<p class="intro">{_text(session.definition.title)}: the family\'s copy. It starts '
        "with the child's and the family's own words.</p>",
    ]
    for section_id in order:
        block = blocks.get(section_id)
        if block is None:
            continue
        body = _rows_html(block.rows)
        for item_title, rows in block.items:
            item_body = _rows_html(rows)
            if item_body:
                body += f"<h3>{_text(item_title)}</h3>{item_body}"
        if not body:
            continue
        parts.append(f"<h2>{_text(block.title)}</h2>")
        if block.help:
            parts.append(f'<p class="help">{_text(block.help)}</p>')
        parts.append(body)
    parts.append("</body></html>")
    return "".join(parts)


def render_pdf(html_text: str, footer: str, title: str = "Family copy") -> bytes:
    """Lay out and paint the document on A4 pages, each with the footer and its page number."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(20, 18, 20, 16), QPageLayout.Unit.Millimeter))
    writer.setTitle(title)
    writer.setCreator("OneSEND")
    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    footer_font = QFont()
    footer_font.setPointSizeF(9)
    footer_height = RESOLUTION * 0.35  # about 9 mm, in device pixels
    body = QSizeF(page.width(), page.height() - footer_height)

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    font = QFont()
    font.setPointSizeF(BODY_POINTS)
    document.setDefaultFont(font)
    document.setDocumentMargin(0)
    document.setHtml(html_text)
    document.setPageSize(body)
    pages = max(1, document.pageCount())

    painter = QPainter(writer)
    try:
        for number in range(pages):
            if number:
                writer.newPage()
            painter.save()
            painter.translate(0, -number * body.height())
            document.drawContents(painter, QRectF(0, number * body.height(), body.width(),
                                                  body.height()))
            painter.restore()
            painter.setFont(footer_font)
            line_y = body.height() + footer_height * 0.25
            painter.drawLine(0, int(line_y), int(body.width()), int(line_y))
            text_rect = QRectF(0, line_y, body.width(), footer_height * 0.75)
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter
                                            | Qt.AlignmentFlag.AlignLeft), footer)
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter
                                            | Qt.AlignmentFlag.AlignRight),
                             f"Page {number + 1} of {pages}")
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_pdf(html_text: str, path: Path, footer: str) -> Path:
    """Render and write the PDF atomically, readable by its owner only; returns the path."""
    write_private_file(path, render_pdf(html_text, footer))
    return path
