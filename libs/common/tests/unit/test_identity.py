"""NIK rules and masking."""

from __future__ import annotations

from datetime import date

import pytest

from satupintu.common.identity import (
    InvalidNik,
    NikProblem,
    initials,
    mask_email,
    mask_nik,
    mask_phone,
    parse_nik,
    public_nik,
)

pytestmark = pytest.mark.unit


def test_womans_nik_has_forty_added_to_her_birth_day() -> None:
    parts = parse_nik("3171015506900002", today=date(2026, 11, 25))
    assert (parts.birth_date, parts.female, parts.province) == (date(1990, 6, 15), True, "31")


def test_nik_born_after_today_is_refused() -> None:
    with pytest.raises(InvalidNik, match="in the future"):
        parse_nik("3171012611260005", today=date(2026, 11, 25))


def test_two_digit_year_after_this_year_is_read_as_last_century() -> None:
    assert parse_nik("3171010101300005", today=date(2026, 11, 25)).birth_date == date(1930, 1, 1)


@pytest.mark.parametrize("nik", ["317101550690000", "31710155069000a2", "3171013206900002", "3171011513900002"])
def test_malformed_or_impossible_nik_is_refused(nik: str) -> None:
    with pytest.raises(InvalidNik):
        parse_nik(nik, today=date(2026, 11, 25))


@pytest.mark.parametrize(
    ("nik", "problem"),
    [
        ("317101550690000", NikProblem.NOT_16_DIGITS),
        ("31710155069000a2", NikProblem.NOT_16_DIGITS),
        ("0071015506900002", NikProblem.ZERO_REGION),
        ("3100015506900002", NikProblem.ZERO_REGION),
        ("3171005506900002", NikProblem.ZERO_REGION),
        ("3171013206900002", NikProblem.BIRTH_DATE_NOT_A_DATE),
        ("3171011513900002", NikProblem.BIRTH_DATE_NOT_A_DATE),
        ("3171017206900002", NikProblem.BIRTH_DATE_NOT_A_DATE),
        ("3171012611260005", NikProblem.BIRTH_DATE_IN_FUTURE),
        ("3171015506900000", NikProblem.ZERO_SERIAL),
    ],
)
def test_refused_nik_says_which_rule_it_breaks(nik: str, problem: NikProblem) -> None:
    with pytest.raises(InvalidNik) as refused:
        parse_nik(nik, today=date(2026, 11, 25))
    assert refused.value.problem is problem


def test_refused_nik_still_explains_itself_in_english() -> None:
    with pytest.raises(InvalidNik, match=r"serial number \(last 4 digits\) cannot be 0000"):
        parse_nik("3171015506900000", today=date(2026, 11, 25))


def test_personal_data_is_masked_for_display() -> None:
    assert mask_nik("3171015506900002") == "3171********0002"
    assert public_nik("3171015506900002") == public_nik("3171********0002") == "************0002"
    assert mask_email("siti@example.id") == "s***@example.id"
    assert mask_phone("081234567890") == "********7890"
    assert initials("siti  rahayu") == "S. R."
