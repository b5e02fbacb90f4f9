"""The issued document as a PDF: an A4 page laid out by fpdf2 from the catalogue's template, in Indonesian with
English under each heading where the catalogue gives English, and a QR code (segno) linking to its verification page.

It uses fpdf2's core fonts (Helvetica, Courier): they cover Latin-1, enough for Indonesian, and they write text into
the content stream as plain strings, so the number can be read (and a tampered digit found) in an uncompressed
stream; an embedded TrueType font would write glyph ids instead, and needs a font file wherever the agency runs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

import segno
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

from satupintu.common.catalogue import DocumentText
from satupintu.common.dates import DEFAULT_TIMEZONE, long_date

PAGE_MARGIN: Final = 20.0
QR_SIZE: Final = 38.0
_INK: Final = (20, 20, 20)
_MUTED: Final = (100, 100, 100)
_RULE: Final = (150, 30, 30)
_LABEL_WIDTH: Final = 62.0
# Typographic characters people paste that Latin-1 lacks, and their plain equivalents.
_PLAIN: Final = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark, the apostrophe word processors type
        "\u201a": ",",  # single low-9 quotation mark
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2026": "...",  # horizontal ellipsis
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
    }
)


class UnprintableText(ValueError):
    """A text has a character the document's fonts cannot print; the message names the part and the character."""


@dataclass(frozen=True)
class PrintedLine:
    """One line of the document's body: a label and its value (each in Indonesian, English where given)."""

    label: DocumentText
    value: DocumentText


@dataclass(frozen=True)
class DocumentContent:
    """Everything an issued document prints."""

    document_id: str
    number: str
    title: DocumentText
    holder_name: str
    outputs: tuple[PrintedLine, ...]
    issued_on: date
    valid_until: date | None
    agency_name: DocumentText
    officer_name: str
    verification_url: str

    @property
    def bilingual(self) -> bool:
        """Whether the fixed headings carry English too: when the catalogue gives the title in English."""
        return self.title.en is not None


def render_pdf(content: DocumentContent, *, compress: bool = True) -> bytes:
    """The document as PDF bytes; the same content renders to the same bytes. ``compress=False`` leaves the page's
    content stream readable (for tests that find or change its text). :class:`UnprintableText` when a text has a
    character outside Latin-1."""
    _check_printable(content)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=PAGE_MARGIN)
    pdf.set_creation_date(datetime.combine(content.issued_on, time(), tzinfo=ZoneInfo(DEFAULT_TIMEZONE)))
    pdf.set_title(f"{content.title.id} {content.number}")
    pdf.set_subject(content.title.en or content.title.id)
    pdf.set_author(content.agency_name.id)
    pdf.set_creator("Satu Pintu")
    pdf.set_lang("id")
    pdf.add_page()
    _letterhead(pdf, content)
    _title_and_number(pdf, content)
    _body(pdf, content)
    _verification(pdf, content)
    return bytes(pdf.output())


def _check_printable(content: DocumentContent) -> None:
    texts: list[tuple[str, str | None]] = [
        ("document_id", content.document_id),
        ("number", content.number),
        ("title", content.title.id),
        ("title (en)", content.title.en),
        ("holder_name", content.holder_name),
        ("agency_name", content.agency_name.id),
        ("agency_name (en)", content.agency_name.en),
        ("officer_name", content.officer_name),
        ("verification_url", content.verification_url),
    ]
    for line in content.outputs:
        texts += [(f"label {line.label.id!r}", line.label.id), (f"label {line.label.id!r} (en)", line.label.en)]
        texts += [(f"value of {line.label.id!r}", line.value.id), (f"value of {line.label.id!r} (en)", line.value.en)]
    for part, text in texts:
        if text is None:
            continue
        for character in _plain(text):
            if ord(character) > 0xFF:
                raise UnprintableText(f"{part}: {character!r} (U+{ord(character):04X}) is not in Latin-1")


def _plain(text: str) -> str:
    return text.translate(_PLAIN)


def _letterhead(pdf: FPDF, content: DocumentContent) -> None:
    pdf.set_text_color(*_MUTED)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 4, "MAL PELAYANAN PUBLIK  |  SATU PINTU", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 6, _plain(content.agency_name.id), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.bilingual and content.agency_name.en:
        _english(pdf, content.agency_name.en, size=9)
    pdf.ln(2)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(10)


def _title_and_number(pdf: FPDF, content: DocumentContent) -> None:
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 8, _plain(content.title.id).upper(), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if content.title.en:
        _english(pdf, content.title.en, size=11, align=Align.C)
    pdf.ln(6)
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*_MUTED)
    heading = "Nomor / Number" if content.bilingual else "Nomor"
    pdf.cell(0, 5, heading, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font("Courier", "B", 16)
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.4)
    box_width = min(pdf.get_string_width(content.number) + 16, pdf.epw)
    pdf.set_x((pdf.w - box_width) / 2)
    pdf.cell(box_width, 11, _plain(content.number), border=1, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)


def _body(pdf: FPDF, content: DocumentContent) -> None:
    _heading(pdf, DocumentText(id="Diberikan kepada", en="Issued to"), content.bilingual)
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _plain(content.holder_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    if content.outputs:
        _heading(pdf, DocumentText(id="Keterangan", en="Particulars"), content.bilingual)
        _lines(pdf, content.outputs)
        pdf.ln(4)
    _heading(pdf, DocumentText(id="Penerbitan", en="Issue"), content.bilingual)
    validity = (
        _both_dates(content.valid_until)
        if content.valid_until is not None
        else DocumentText(id="Tidak terbatas", en="Does not expire")
    )
    english = content.bilingual
    _lines(
        pdf,
        [
            PrintedLine(_label("Tanggal terbit", "Date of issue", english), _both_dates(content.issued_on)),
            PrintedLine(_label("Berlaku sampai", "Valid until", english), validity),
            PrintedLine(_label("Instansi penerbit", "Issuing agency", english), content.agency_name),
            PrintedLine(_label("Pejabat penerbit", "Issuing officer", english), DocumentText(id=content.officer_name)),
            PrintedLine(_label("ID dokumen", "Document ID", english), DocumentText(id=content.document_id)),
        ],
        english_values=english,
    )


def _label(indonesian: str, english: str, bilingual: bool) -> DocumentText:
    return DocumentText(id=indonesian, en=english if bilingual else None)


def _both_dates(day: date) -> DocumentText:
    indonesian, english = long_date(day, "id"), long_date(day, "en")
    return DocumentText(id=indonesian, en=english if english != indonesian else None)


def _heading(pdf: FPDF, text: DocumentText, bilingual: bool) -> None:
    pdf.set_text_color(*_RULE)
    pdf.set_font("Helvetica", "B", 10)
    heading = f"{text.id.upper()} / {text.en.upper()}" if bilingual and text.en else text.id.upper()
    pdf.cell(0, 6, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_MUTED)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_text_color(*_INK)


def _lines(pdf: FPDF, lines: Sequence[PrintedLine], *, english_values: bool = True) -> None:
    value_x = pdf.l_margin + _LABEL_WIDTH
    value_width = pdf.w - pdf.r_margin - value_x
    for line in lines:
        if pdf.will_page_break(12):
            pdf.add_page()
        top = pdf.get_y()
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(_LABEL_WIDTH - 4, 5, _plain(line.label.id), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if line.label.en:
            _english(pdf, line.label.en, size=8, width=_LABEL_WIDTH - 4)
        label_bottom = pdf.get_y()
        pdf.set_xy(value_x, top)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(value_width, 5, _plain(line.value.id), new_x=XPos.LEFT, new_y=YPos.NEXT)
        if english_values and line.value.en:
            _english(pdf, line.value.en, size=8, width=value_width, x=value_x)
        pdf.set_xy(pdf.l_margin, max(label_bottom, pdf.get_y()) + 2)


def _english(
    pdf: FPDF, text: str, *, size: float, align: Align = Align.L, width: float = 0, x: float | None = None
) -> None:
    pdf.set_text_color(*_MUTED)
    pdf.set_font("Helvetica", "I", size)
    if x is not None:
        pdf.set_x(x)
    pdf.multi_cell(width, size * 0.45, _plain(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)


def _verification(pdf: FPDF, content: DocumentContent) -> None:
    """The QR code and the address it holds, at the foot of the page (on a new page when the body is long)."""
    block_height = QR_SIZE + 16
    if pdf.get_y() + 8 > pdf.h - PAGE_MARGIN - block_height:
        pdf.add_page()
    top = pdf.h - PAGE_MARGIN - block_height
    code = segno.make(content.verification_url, error="m")
    picture = io.BytesIO()
    code.save(picture, kind="png", scale=10, border=4)
    picture.seek(0)
    pdf.image(picture, x=pdf.l_margin, y=top, w=QR_SIZE, h=QR_SIZE, link=content.verification_url)
    text_x = pdf.l_margin + QR_SIZE + 6
    text_width = pdf.w - pdf.r_margin - text_x
    pdf.set_xy(text_x, top + 4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(text_width, 5, "Periksa keaslian dokumen ini", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(
        text_width,
        4.5,
        "Pindai kode QR atau buka alamat di bawahnya: halaman itu menunjukkan apakah dokumen ini sah, dicabut, "
        "atau tidak dikenal. Dokumen ini ditandatangani secara elektronik oleh instansi penerbit.",
        align=Align.L,
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    if content.bilingual:
        pdf.ln(1)
        pdf.set_x(text_x)
        _english(
            pdf,
            "Check this document: scan the QR code or open the address under it to see whether it is valid, "
            "revoked or unknown. It is signed electronically by the issuing agency.",
            size=8,
            width=text_width,
            x=text_x,
        )
    pdf.set_xy(pdf.l_margin, top + QR_SIZE + 2)
    pdf.set_text_color(*_INK)
    pdf.set_font("Courier", size=8)
    pdf.multi_cell(0, 4, content.verification_url, wrapmode=WrapMode.CHAR, link=content.verification_url)
