"""Documents are told by their content, and the local store keeps each content once under its hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from satupintu.intake.documents import LocalDiskStore, clean_file_name, sniff_media_type

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


async def test_stored_content_is_found_under_its_hash_in_a_two_level_layout(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)
    sha256 = hashlib.sha256(PDF).hexdigest()

    assert not await store.exists(sha256)
    await store.put(sha256, PDF)

    assert await store.exists(sha256)
    assert await store.open(sha256) == PDF
    assert (tmp_path / sha256[:2] / sha256).read_bytes() == PDF


async def test_storing_the_same_content_again_leaves_one_file_and_no_temporary_files(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)
    sha256 = hashlib.sha256(PNG).hexdigest()

    await store.put(sha256, PNG)
    await store.put(sha256, PNG)

    assert await store.open(sha256) == PNG
    assert [path.name for path in (tmp_path / sha256[:2]).iterdir()] == [sha256]


async def test_opening_content_never_stored_raises_file_not_found(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)

    with pytest.raises(FileNotFoundError):
        await store.open(hashlib.sha256(b"never uploaded").hexdigest())


@pytest.mark.parametrize("address", ["../../etc/passwd", "A" * 64, "ab"], ids=["traversal", "uppercase", "short"])
async def test_store_refuses_addresses_that_are_not_sha256_hex(tmp_path: Path, address: str) -> None:
    store = LocalDiskStore(tmp_path)

    with pytest.raises(ValueError, match="sha256"):
        await store.exists(address)
