"""The issued document's PDF, read back by tools no one here wrote: Poppler's pdftotext finds its text, pdftoppm
renders its page and zbar's zbarimg decodes the QR code on that image; pyHanko's reader opens its content stream."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from satupintu.agency.issuing.rendering import DocumentContent, PrintedLine, UnprintableText, render_pdf
from satupintu.common.catalogue import DocumentText, load_catalogue
from satupintu.devtools.testing.browser import screenshot_path

pytestmark = pytest.mark.unit

NUMBER = "SKCK/POLRES/2026/00042"
DOCUMENT_ID = "0b7e6d8c-2f4a-4c1e-9a51-3d2f1e0c9b7a"
VERIFICATION_URL = f"https://satupintu.example.go.id/verify/{DOCUMENT_ID}"
DECISION = {"criminal_record": "Tidak memiliki catatan kriminal", "purpose": "Melamar pekerjaan sebagai guru"}


def skck_content() -> DocumentContent:
    """An SKCK as the shipped catalogue's template lays it out, numbered 42nd of Polres in 2026."""
    catalogue = load_catalogue()
    service = catalogue.service("skck")
    assert service is not None
    template = service.document
    assert template is not None
    agency = catalogue.agency("polres")
    assert agency is not None
    return DocumentContent(
        document_id=DOCUMENT_ID,
        number=template.number(agency="polres", year=2026, serial=42),
        title=template.title,
        holder_name="Siti Rahmawati",
        outputs=tuple(
            PrintedLine(printed.label, DocumentText(id=DECISION[printed.output])) for printed in template.outputs
        ),
        issued_on=date(2026, 11, 20),
        valid_until=date(2027, 5, 19),
        agency_name=DocumentText(id=agency.name.id, en=agency.name.en),
        officer_name="AKP Budi Santoso",
        verification_url=VERIFICATION_URL,
    )


def tool(name: str) -> str:
    """The Debian tool ``name``; the test fails, not skips, without it."""
    executable = shutil.which(name)
    if executable is None:
        pytest.fail(f"{name} is needed: `make system-packages` installs poppler-utils and zbar-tools")
    return executable


def text_of(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as Poppler's pdftotext reads it."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def rendered_page(pdf: bytes, tmp_path: Path, page: int = 1) -> Path:
    """Page ``page`` as a 150 dpi PNG rendered by Poppler's pdftoppm."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        [
            tool("pdftoppm"),
            "-png",
            "-r",
            "150",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(path),
            str(tmp_path / "page"),
        ],
        check=True,
        capture_output=True,
    )
    return tmp_path / "page.png"


def qr_codes_on(image: Path) -> list[str]:
    """Every QR code zbar's zbarimg finds on ``image``, as raw text."""
    decoded = subprocess.run([tool("zbarimg"), "--raw", "-q", str(image)], check=False, capture_output=True, text=True)
    assert decoded.returncode in {0, 4}, decoded.stderr  # 4: no code found
    return decoded.stdout.splitlines()


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


def test_skck_document_shows_its_number_holder_title_outputs_and_dates(tmp_path: Path) -> None:
    text = text_of(render_pdf(skck_content()), tmp_path)

    assert NUMBER in text
    assert "Siti Rahmawati" in text
    assert "SURAT KETERANGAN CATATAN KEPOLISIAN" in text
    assert "Police Clearance Certificate" in text
    for label, value in [("Catatan kepolisian", DECISION["criminal_record"]), ("Keperluan", DECISION["purpose"])]:
        assert label in text
        assert value in text
    assert "Police record" in text
    assert "20 November 2026" in text
    assert "19 Mei 2027" in text
    assert "Kepolisian Resor" in text
    assert "AKP Budi Santoso" in text
    assert VERIFICATION_URL in text


def test_qr_code_on_the_rendered_page_decodes_to_exactly_the_verification_url(tmp_path: Path) -> None:
    page = rendered_page(render_pdf(skck_content()), tmp_path)

    assert qr_codes_on(page) == [VERIFICATION_URL]
    shutil.copyfile(page, screenshot_path("issued-document-skck.png"))


def test_uncompressed_document_holds_the_number_as_plain_text_in_its_page_content_stream() -> None:
    pdf = render_pdf(skck_content(), compress=False)

    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    contents = page["/Contents"]
    assert "/Filter" not in contents
    assert f"({NUMBER}) Tj".encode() in contents.encoded_data


def test_compressed_document_does_not_show_the_number_in_its_raw_content_stream() -> None:
    pdf = render_pdf(skck_content())

    contents = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0]["/Contents"]
    assert contents["/Filter"] == "/FlateDecode"
    assert NUMBER.encode() not in contents.encoded_data
    assert f"({NUMBER}) Tj".encode() in contents.data


def test_document_is_one_a4_page_titled_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "document.pdf"
    path.write_bytes(render_pdf(skck_content()))

    info = subprocess.run([tool("pdfinfo"), str(path)], check=True, capture_output=True, text=True).stdout

    assert "Pages:           1" in info
    assert "(A4)" in info
    assert f"Surat Keterangan Catatan Kepolisian {NUMBER}" in info


def test_the_same_content_renders_to_the_same_bytes() -> None:
    assert render_pdf(skck_content()) == render_pdf(skck_content())


def test_document_without_english_title_prints_indonesian_headings_only(tmp_path: Path) -> None:
    content = dataclasses.replace(
        skck_content(),
        title=DocumentText(id="Nomor Induk Berusaha"),
        outputs=(PrintedLine(DocumentText(id="Tingkat risiko usaha"), DocumentText(id="Rendah")),),
        agency_name=DocumentText(id="Dinas Penanaman Modal", en="Investment Office"),
    )

    text = text_of(render_pdf(content), tmp_path)

    assert "NOMOR INDUK BERUSAHA" in text
    assert "Tingkat risiko usaha" in text
    assert "DIBERIKAN KEPADA" in text
    for english in ["Issued to", "ISSUED TO", "Date of issue", "Investment Office", "Check this document"]:
        assert english not in text


def test_document_that_does_not_expire_says_so(tmp_path: Path) -> None:
    text = text_of(render_pdf(dataclasses.replace(skck_content(), valid_until=None)), tmp_path)

    assert "Tidak terbatas" in text
    assert "Does not expire" in text


def test_long_document_continues_on_a_second_page_with_the_qr_code_whole(tmp_path: Path) -> None:
    many = tuple(
        PrintedLine(DocumentText(id=f"Keterangan {index}", en=f"Particular {index}"), DocumentText(id=f"Nilai {index}"))
        for index in range(1, 25)
    )
    pdf = render_pdf(dataclasses.replace(skck_content(), outputs=many))

    assert page_count(pdf) == 2
    text = text_of(pdf, tmp_path)
    assert "Keterangan 1 " in text
    assert "Nilai 24" in text
    assert qr_codes_on(rendered_page(pdf, tmp_path, page=2)) == [VERIFICATION_URL]


def test_typographic_quotes_and_dashes_are_printed_plain(tmp_path: Path) -> None:
    content = dataclasses.replace(skck_content(), holder_name="Ni Made \u2018Ayu\u2019 Lestari \u2013 Putri")

    assert "Ni Made 'Ayu' Lestari - Putri" in text_of(render_pdf(content), tmp_path)


def test_text_outside_latin_1_is_refused_naming_the_part_and_the_character() -> None:
    content = dataclasses.replace(skck_content(), holder_name="Ayşe Şahin")

    with pytest.raises(UnprintableText, match=r"holder_name: 'ş' \(U\+015F\) is not in Latin-1"):
        render_pdf(content)
