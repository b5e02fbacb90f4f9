"""Amounts of money as people in Indonesia write them: whole rupiah, ``Rp30.000`` in Indonesian (a dot between
thousands, no space), ``IDR 30,000`` in English. Amounts are integers everywhere; never floats."""

from __future__ import annotations

FEE_KIND_NAMES = {
    "id": {"pnbp": "PNBP", "retribusi": "retribusi daerah"},
    "en": {"pnbp": "non-tax state revenue (PNBP)", "retribusi": "regional levy (retribusi)"},
}
"""What a fee is, as a citizen reads it: PNBP goes to a central agency, retribusi to the region."""


def rupiah(amount: int, language: str) -> str:
    """``amount`` whole rupiah as written in ``language``: ``Rp30.000`` or ``IDR 30,000`` (a negative amount keeps
    its sign in front: ``-Rp5.000``)."""
    grouped = f"{abs(amount):,}"
    sign = "-" if amount < 0 else ""
    if language == "en":
        return f"{sign}IDR {grouped}"
    return f"{sign}Rp{grouped.replace(',', '.')}"


def fee_kind_name(kind: str, language: str) -> str:
    """A fee's kind (``pnbp``, ``retribusi``) in ``language``; an unknown kind as it is."""
    return FEE_KIND_NAMES.get(language, FEE_KIND_NAMES["id"]).get(kind, kind)
