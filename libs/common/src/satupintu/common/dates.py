"""Dates and times as people in Indonesia write them, in Indonesian or English, in a local time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Jakarta"
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}

MONTH_NAMES = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def long_date(value: datetime | date, language: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A date as people write it: ``15 Juni 2026`` or ``15 June 2026`` (a moment's local date in ``timezone``)."""
    day = value.astimezone(ZoneInfo(timezone)).date() if isinstance(value, datetime) else value
    return f"{day.day} {MONTH_NAMES.get(language, MONTH_NAMES['id'])[day.month - 1]} {day.year}"


def long_time(value: datetime, language: str, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A moment as people write it, in ``timezone``: ``15 Juni 2026 14.30 WIB`` or ``15 June 2026 14:30 WIB``."""
    local = value.astimezone(ZoneInfo(timezone))
    separator = "." if language == "id" else ":"
    zone = ZONE_NAMES.get(timezone, timezone)
    return f"{long_date(local, language, timezone)} {local:%H}{separator}{local:%M} {zone}"
