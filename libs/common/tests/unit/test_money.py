"""Rupiah as people write them, in Indonesian and English."""

from __future__ import annotations

import pytest

from satupintu.common.money import fee_kind_name, rupiah

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("amount", "indonesian", "english"),
    [
        (0, "Rp0", "IDR 0"),
        (500, "Rp500", "IDR 500"),
        (30_000, "Rp30.000", "IDR 30,000"),
        (1_250_000, "Rp1.250.000", "IDR 1,250,000"),
        (-5_000, "-Rp5.000", "-IDR 5,000"),
    ],
)
def test_rupiah_groups_thousands_with_dots_in_indonesian_and_commas_in_english(
    amount: int, indonesian: str, english: str
) -> None:
    assert rupiah(amount, "id") == indonesian
    assert rupiah(amount, "en") == english


def test_a_fee_kind_is_named_for_the_citizen_in_their_language() -> None:
    assert fee_kind_name("pnbp", "id") == "PNBP"
    assert fee_kind_name("retribusi", "en") == "regional levy (retribusi)"
    assert fee_kind_name("other", "id") == "other"
