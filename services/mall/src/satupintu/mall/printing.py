"""Slips for the mall's 80 mm thermal printers, as PDF (decision 0035): the kiosk's queue ticket and the counter's
application receipt. A slip is one page as wide as the paper and as tall as its content, black on white (thermal
heads print no grey), with a large code at the top and a QR code (segno) to the page that follows it.

Like the agency's issued documents it uses fpdf2's core fonts (Helvetica, Courier): Latin-1 covers Indonesian and
English, and no font file has to travel with the service. A character outside Latin-1 prints as ``?``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import segno
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

PAPER_WIDTH_MM: Final = 80.0
"""The roll's width: the common thermal receipt printers' 80 mm paper."""
MARGIN_MM: Final = 4.0
"""Either side: what leaves the 72 mm those printers' heads reach."""
QR_SIZE_MM: Final = 38.0
_DRAFT_HEIGHT_MM: Final = 1000.0
_BIG_SIZES: Final = (44, 36, 30, 24, 20, 16, 14, 12)
# Typographic characters people paste that Latin-1 lacks, and their plain equivalents.
_PLAIN: Final = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00b7": "-"}
)


@dataclass(frozen=True)
class Slip:
    """Everything a slip prints, top to bottom, in its reader's language."""

    heading: str
    title: str
    code: str
    lines: tuple[tuple[str, str], ...]
    link: str
    link_caption: str
    footer: str
    printed_at: datetime


def render_slip(slip: Slip, *, compress: bool = True) -> bytes:
    """The slip as a one-page PDF 80 mm wide and as tall as its content; the same slip renders to the same bytes."""
    draft = _draw(slip, _DRAFT_HEIGHT_MM, compress)
    return bytes(_draw(slip, draft.get_y() + MARGIN_MM, compress).output())


def _plain(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", errors="replace").decode("latin-1")


def _draw(slip: Slip, height: float, compress: bool) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format=(PAPER_WIDTH_MM, height))
    pdf.set_compression(compress)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=False)
    pdf.set_creation_date(slip.printed_at)
    pdf.set_title(_plain(f"{slip.title} {slip.code}"))
    pdf.set_creator("Satu Pintu")
    pdf.set_lang("id")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(0, 4, _plain(slip.heading.upper()), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, _plain(slip.title), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _big(pdf, _plain(slip.code))
    _rule(pdf)
    for label, value in slip.lines:
        pdf.set_font("Helvetica", size=8)
        pdf.multi_cell(0, 3.6, _plain(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 5, _plain(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.2)
    _rule(pdf)
    _qr(pdf, slip.link)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 3.6, _plain(slip.link_caption), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Courier", size=7)
    pdf.multi_cell(0, 3.2, slip.link, align=Align.C, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 3.6, _plain(slip.footer), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf


def _big(pdf: FPDF, code: str) -> None:
    """The code in the largest bold size that fits the printable width on one line."""
    for size in _BIG_SIZES:
        pdf.set_font("Helvetica", "B", size)
        if pdf.get_string_width(code) <= pdf.epw:
            break
    pdf.ln(1)
    pdf.multi_cell(0, size * 0.42, code, align=Align.C, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def _rule(pdf: FPDF) -> None:
    pdf.ln(1.5)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_dash_pattern()
    pdf.ln(2.5)


def _qr(pdf: FPDF, link: str) -> None:
    picture = io.BytesIO()
    segno.make(link, error="m").save(picture, kind="png", scale=10, border=4)
    picture.seek(0)
    top = pdf.get_y()
    pdf.image(picture, x=(pdf.w - QR_SIZE_MM) / 2, y=top, w=QR_SIZE_MM, h=QR_SIZE_MM, link=link)
    pdf.set_y(top + QR_SIZE_MM + 1)
