"""Working days: weekends, national holidays and cuti bersama are skipped; deadlines end the day in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from satupintu.common.working_days import WorkingCalendar, parse_dates

pytestmark = pytest.mark.unit

WIB = timezone(timedelta(hours=7))
WITA = timezone(timedelta(hours=8))


def test_one_working_day_from_a_friday_is_due_at_the_end_of_monday() -> None:
    calendar = WorkingCalendar()

    due = calendar.due_at(datetime(2026, 10, 9, 10, 0, tzinfo=WIB), 1)

    assert due == datetime(2026, 10, 12, 23, 59, 59, tzinfo=WIB)
    assert due.isoformat() == "2026-10-12T23:59:59+07:00"


def test_one_working_day_from_a_tuesday_is_due_at_the_end_of_wednesday() -> None:
    due = WorkingCalendar().due_at(datetime(2026, 10, 6, 8, 0, tzinfo=WIB), 1)

    assert due.isoformat() == "2026-10-07T23:59:59+07:00"


def test_independence_day_is_skipped() -> None:
    calendar = WorkingCalendar()

    due = calendar.due_at(datetime(2026, 8, 14, 9, 0, tzinfo=WIB), 1)

    assert due.isoformat() == "2026-08-18T23:59:59+07:00"
    assert not calendar.is_working_day(date(2026, 8, 17))


def test_several_working_days_skip_weekends_and_holidays_on_the_way() -> None:
    due = WorkingCalendar().due_at(datetime(2026, 8, 13, 15, 0, tzinfo=WIB), 3)

    # Fri 14, (Sat 15, Sun 16, Mon 17 Independence Day) Tue 18, Wed 19.
    assert due.isoformat() == "2026-08-19T23:59:59+07:00"


def test_configured_collective_leave_day_is_skipped() -> None:
    calendar = WorkingCalendar(collective_leave=frozenset({date(2026, 10, 12)}))

    due = calendar.due_at(datetime(2026, 10, 9, 10, 0, tzinfo=WIB), 1)

    assert due.isoformat() == "2026-10-13T23:59:59+07:00"
    assert not calendar.is_working_day(date(2026, 10, 12))
    assert WorkingCalendar().is_working_day(date(2026, 10, 12))


def test_weekdays_are_working_days_and_weekends_are_not() -> None:
    calendar = WorkingCalendar()

    assert calendar.is_working_day(date(2026, 10, 9))
    assert not calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 11))


def test_due_time_is_in_the_calendar_zone() -> None:
    calendar = WorkingCalendar(timezone="Asia/Makassar")

    due = calendar.due_at(datetime(2026, 10, 6, 1, 0, tzinfo=UTC), 1)

    assert due.isoformat() == "2026-10-07T23:59:59+08:00"
    assert due == datetime(2026, 10, 7, 23, 59, 59, tzinfo=WITA)
    assert due == datetime(2026, 10, 7, 15, 59, 59, tzinfo=UTC)


def test_counting_starts_from_the_local_date_of_the_start() -> None:
    # 16:30 UTC on Thursday 8 October is still Thursday 23:30 in Jakarta but already Friday 00:30 in Makassar.
    start = datetime(2026, 10, 8, 16, 30, tzinfo=UTC)

    in_jakarta = WorkingCalendar(timezone="Asia/Jakarta").due_at(start, 1)
    in_makassar = WorkingCalendar(timezone="Asia/Makassar").due_at(start, 1)

    assert in_jakarta.isoformat() == "2026-10-09T23:59:59+07:00"
    assert in_makassar.isoformat() == "2026-10-12T23:59:59+08:00"


def test_parse_dates_reads_iso_dates_and_ignores_blanks() -> None:
    parsed = parse_dates(["2026-03-20", " 2026-03-23 ", "", "   ", "2026-12-24"])

    assert parsed == frozenset({date(2026, 3, 20), date(2026, 3, 23), date(2026, 12, 24)})


def test_parse_dates_of_nothing_is_empty() -> None:
    assert parse_dates([]) == frozenset()


def test_parse_dates_refuses_a_date_that_is_not_iso() -> None:
    with pytest.raises(ValueError, match="20/03/2026"):
        parse_dates(["20/03/2026"])
