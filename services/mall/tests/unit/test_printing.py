"""The slip layout on its own: one page 80 mm wide whatever it holds, a long code shrunk to fit on one line, the same
slip rendered to the same bytes, and a character the core fonts lack printed as ``?`` rather than refused."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from satupintu.mall.printing import Slip, render_slip

pytestmark = pytest.mark.unit


def slip(code: str, service: str = "Nomor Induk Berusaha (NIB)") -> Slip:
    return Slip(
        heading="Mal Pelayanan Publik",
        title="Tanda terima permohonan",
        code=code,
        lines=(("Layanan", service), ("Diajukan", "8 Oktober 2026 09.12 WIB")),
        link=f"https://satupintu.example.go.id/track/{code}",
        link_caption="Pindai untuk mengikuti permohonan Anda",
        footer="Dengan kode pelacakan ini Anda mengikuti permohonan.",
        printed_at=datetime(2026, 10, 8, 2, 12, tzinfo=UTC),
    )


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_a_long_tracking_code_is_shrunk_to_one_line_of_the_80_mm_page(tmp_path: Path) -> None:
    code = "SP-2026-10-08-ABCDEFGH"
    text = text_of(render_slip(slip(code)), tmp_path)

    assert re.search(rf"^\s*{code}\s*$", text, re.M)
    path = tmp_path / "slip.pdf"
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Page size:       226.77 x" in info  # 80 mm


def test_the_same_slip_renders_to_the_same_bytes() -> None:
    assert render_slip(slip("NIB-012")) == render_slip(slip("NIB-012"))


def test_a_character_outside_latin_1_prints_as_a_question_mark(tmp_path: Path) -> None:
    text = text_of(render_slip(slip("NIB-012", service="Izin \u2018usaha\u2019 \u4e2d")), tmp_path)

    assert "Izin 'usaha' ?" in text
