"""The mall's rules without I/O: the SKM index and grades (literals worked out by hand), queue numbers, wait
estimates, working days taken, and which profile fields each agency may receive again."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.common.consent import receiving_agencies
from satupintu.common.working_days import WorkingCalendar
from satupintu.mall.domain import (
    SKM_ELEMENT_NAMES,
    BookingRule,
    OpeningPeriod,
    estimate_wait_minutes,
    priority_goes_next,
    reusable_fields,
    skm_grade,
    skm_index,
    slot_refusal,
    ticket_number,
    ticket_prefixes,
    working_days_between,
)

pytestmark = pytest.mark.unit
WIB = ZoneInfo("Asia/Jakarta")


def answers(*scores: int) -> dict[str, int]:
    return dict(zip(SKM_ELEMENT_NAMES, scores, strict=True))


def test_every_element_very_good_is_100_grade_a_not_the_99_90_the_rounded_weight_would_give() -> None:
    # NRR of each element = 4; IKM = 9 x 4 x 1/9 = 4; x 25 = 100.00. (With 0.111: 36 x 0.111 x 25 = 99.90.)
    index = skm_index([answers(4, 4, 4, 4, 4, 4, 4, 4, 4)] * 3)

    assert index is not None
    assert (index.respondents, index.index, index.converted, index.grade.letter) == (
        3,
        Decimal("4.000"),
        Decimal("100.00"),
        "A",
    )


def test_every_element_poor_is_25_grade_d() -> None:
    index = skm_index([answers(1, 1, 1, 1, 1, 1, 1, 1, 1)])

    assert index is not None
    assert (index.converted, index.grade.letter, index.grade.label_id) == (Decimal("25.00"), "D", "Tidak baik")


def test_mixed_answers_average_per_element_then_weigh_each_by_one_ninth() -> None:
    # Two respondents. Element sums: U1 3+4=7, U2 2+2=4, U3 3+3=6, U4 4+4=8, U5 1+2=3, U6 3+3=6, U7 4+3=7,
    # U8 2+2=4, U9 3+4=7 -> NRR 3.5, 2, 3, 4, 1.5, 3, 3.5, 2, 3.5; their sum 26; IKM = 26/9 = 2.8888...;
    # x 25 = 72.222... -> 72.22, grade C (65.00-76.60).
    index = skm_index([answers(3, 2, 3, 4, 1, 3, 4, 2, 3), answers(4, 2, 3, 4, 2, 3, 3, 2, 4)])

    assert index is not None
    assert index.element_averages["requirements"] == Decimal("3.500")
    assert index.element_averages["product"] == Decimal("1.500")
    assert (index.index, index.converted, index.grade.letter) == (Decimal("2.889"), Decimal("72.22"), "C")


@pytest.mark.parametrize(
    ("converted", "grade"),
    [("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"), ("65.00", "C"), ("64.99", "D")],
)
def test_grade_boundaries_are_those_of_the_regulation(converted: str, grade: str) -> None:
    assert skm_grade(Decimal(converted)).letter == grade


def test_no_respondents_no_index_and_a_score_outside_1_to_4_is_refused() -> None:
    assert skm_index([]) is None
    with pytest.raises(ValueError, match="facilities: a score is 1 to 4"):
        skm_index([answers(4, 4, 4, 4, 4, 4, 4, 4, 5)])


def test_queue_numbers_use_the_code_or_the_initials_of_a_code_in_several_words() -> None:
    prefixes = ticket_prefixes(load_catalogue())

    assert prefixes["pbg"] == "PBG"
    assert prefixes["sim-perpanjangan"] == "SP"
    assert prefixes["cek-sertifikat-tanah"] == "CST"
    assert len(set(prefixes.values())) == len(prefixes)
    assert ticket_number("PBG", 17) == "PBG-017"
    assert ticket_number("SP", 1234) == "SP-1234"


def test_wait_is_visitors_ahead_times_the_median_service_time_shared_by_open_counters() -> None:
    assert estimate_wait_minutes(0, [600.0], 1, 10) == 0
    assert estimate_wait_minutes(3, [], 1, 10) == 30  # the default 10 minutes a visitor before anyone is served
    assert estimate_wait_minutes(3, [240.0, 360.0, 1200.0], 1, 10) == 18  # median 6 minutes x 3
    assert estimate_wait_minutes(3, [240.0, 360.0, 1200.0], 2, 10) == 9
    assert estimate_wait_minutes(1, [90.0], 1, 10) == 2  # 1.5 minutes, rounded up


def test_working_days_taken_skip_weekends_and_holidays() -> None:
    calendar = WorkingCalendar()
    friday = datetime(2026, 8, 14, 9, tzinfo=WIB)

    assert working_days_between(calendar, friday, datetime(2026, 8, 14, 16, tzinfo=WIB)) == 0
    # Saturday, Sunday and Monday 17 August (Independence Day) are not working days; Tuesday is the first.
    assert working_days_between(calendar, friday, datetime(2026, 8, 18, 10, tzinfo=WIB)) == 1


def test_profile_fields_are_reusable_only_for_agencies_whose_tasks_see_them() -> None:
    catalogue = load_catalogue()
    reusable = reusable_fields(catalogue)

    assert reusable["polres"] == ("address",)
    assert reusable["disdukcapil"] == ("kk_number",)
    assert reusable["bpjs-kes"] == ("kk_number",)
    assert "dinas-pupr" not in reusable
    service = catalogue.service("akta-kelahiran")
    assert service is not None
    assert receiving_agencies(service, "kk_number") == ["bpjs-kes", "disdukcapil"]


@pytest.mark.parametrize(
    ("recent_calls_priority", "ratio", "priority_next"),
    [
        ([], 3, True),
        ([True, True], 3, True),
        ([True, True, True], 3, False),
        ([True, True, True, True], 3, False),
        ([False, True, True], 3, True),
        ([True, True, False, True], 3, True),
        ([True], 1, False),
        ([False], 1, True),
        ([], 0, False),
    ],
)
def test_priority_goes_first_until_ratio_priority_calls_in_a_row(
    recent_calls_priority: list[bool], ratio: int, priority_next: bool
) -> None:
    assert priority_goes_next(recent_calls_priority, ratio) is priority_next


# ----------------------------------------------------------------------------------------------------------------------
# Appointments


def _passport_rule() -> BookingRule:
    morning = (OpeningPeriod(time(8), time(12)), OpeningPeriod(time(13), time(15)))
    friday = (OpeningPeriod(time(8), time(11, 30)), OpeningPeriod(time(13, 30), time(15)))
    return BookingRule(
        hours={"monday": morning, "tuesday": morning, "friday": friday}, slot_minutes=30, quota_per_slot=4
    )


def test_slots_fill_each_opening_stretch_and_none_fall_on_holidays_or_collective_leave() -> None:
    calendar = WorkingCalendar("Asia/Jakarta", frozenset({date(2026, 8, 18)}))
    rule = _passport_rule()

    monday_after_the_holiday = rule.slots_of(date(2026, 8, 24), calendar)
    friday = rule.slots_of(date(2026, 8, 21), calendar)

    assert [f"{s:%H:%M}" for s in monday_after_the_holiday] == [
        "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30",
    ]  # fmt: skip
    assert [f"{s:%H:%M}" for s in friday][-4:] == ["11:00", "13:30", "14:00", "14:30"]
    assert rule.slots_of(date(2026, 8, 17), calendar) == []  # Hari Kemerdekaan
    assert rule.slots_of(date(2026, 8, 18), calendar) == []  # collective leave
    assert rule.slots_of(date(2026, 8, 19), calendar) == []  # Wednesday: no hours given


@pytest.mark.parametrize(
    ("starts_at", "why"),
    [
        (datetime(2026, 8, 14, 9, 0, tzinfo=WIB), "past"),
        (datetime(2026, 8, 17, 9, 0, tzinfo=WIB), "holiday"),
        (datetime(2026, 8, 15, 9, 0, tzinfo=WIB), "not_working_day"),
        (datetime(2026, 8, 24, 12, 0, tzinfo=WIB), "outside_hours"),
        (datetime(2026, 8, 24, 14, 45, tzinfo=WIB), "outside_hours"),
        (datetime(2026, 10, 12, 9, 0, tzinfo=WIB), "too_far"),
        (datetime(2026, 8, 24, 2, 0, tzinfo=UTC), None),  # 09:00 WIB, given in UTC
    ],
)
def test_a_slot_is_refused_with_the_reason_a_citizen_can_act_on(starts_at: datetime, why: str | None) -> None:
    now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    refusal = slot_refusal(_passport_rule(), WorkingCalendar("Asia/Jakarta"), starts_at, now, days_ahead=30)

    assert (refusal.code if refusal else None) == why
