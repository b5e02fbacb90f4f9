"""Documents are told by their content, and their file names are cleaned (the store: libs/common's
test_document_store)."""

from __future__ import annotations

import pytest

from satupintu.intake.documents import clean_file_name, sniff_media_type

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("head", "media_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
    ids=["pdf", "jpeg", "png"],
)
def test_accepted_types_are_recognised_by_their_leading_bytes(head: bytes, media_type: str) -> None:
    assert sniff_media_type(head) == media_type


def test_text_file_renamed_to_pdf_is_not_recognised() -> None:
    content_of_x_pdf = b"Just some notes, saved as x.pdf\n"

    assert sniff_media_type(content_of_x_pdf) is None


@pytest.mark.parametrize(
    "head",
    [b"", b"%PDF", b"\xff\xd8", b"\x89PNG\r\n", b" %PDF-1.7", b"GIF89a", b"PK\x03\x04"],
    ids=["empty", "pdf-cut-short", "jpeg-cut-short", "png-cut-short", "pdf-after-space", "gif", "zip"],
)
def test_truncated_or_other_signatures_are_not_recognised(head: bytes) -> None:
    assert sniff_media_type(head) is None


def test_file_name_loses_control_and_direction_characters_and_is_cut_to_255() -> None:
    assert clean_file_name("ktp\x00\n\u202efdp.exe") == "ktpfdp.exe"
    assert clean_file_name("a" * 300 + ".pdf") == "a" * 255
