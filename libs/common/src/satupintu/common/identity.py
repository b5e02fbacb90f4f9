"""Indonesian identity data: NIK validation, phone numbers, and masking personal data wherever it is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

_NIK = re.compile(r"^[0-9]{16}$")
_PHONE = re.compile(r"^(?:\+62|0)[0-9]{9,12}$")


@dataclass(frozen=True)
class NikParts:
    """What a NIK says: region codes, date of birth, sex and serial."""

    province: str
    regency: str
    district: str
    birth_date: date
    female: bool
    serial: str


class NikProblem(StrEnum):
    """Why a NIK is not valid, in the order :func:`parse_nik` checks: a code to choose a message by."""

    NOT_16_DIGITS = "not_16_digits"
    ZERO_REGION = "zero_region"
    BIRTH_DATE_NOT_A_DATE = "birth_date_not_a_date"
    BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
    ZERO_SERIAL = "zero_serial"


_NIK_PROBLEM_TEXTS = {
    NikProblem.NOT_16_DIGITS: "a NIK is exactly 16 digits",
    NikProblem.ZERO_REGION: "the NIK's province, regency and district codes cannot be 00",
    NikProblem.BIRTH_DATE_NOT_A_DATE: (
        "the NIK's date of birth (digits 7-12, DDMMYY, women's day plus 40) is not a real date"
    ),
    NikProblem.BIRTH_DATE_IN_FUTURE: "the NIK's date of birth is in the future",
    NikProblem.ZERO_SERIAL: "the NIK's serial number (last 4 digits) cannot be 0000",
}


class InvalidNik(ValueError):
    """A NIK that breaks one of :func:`parse_nik`'s rules: ``problem`` says which, the text says it in English."""

    def __init__(self, problem: NikProblem) -> None:
        super().__init__(_NIK_PROBLEM_TEXTS[problem])
        self.problem = problem


def parse_nik(nik: str, today: date | None = None) -> NikParts:
    """Split and check a NIK: 16 digits; DDMMYY a real date, women's day plus 40; not in the future. Raises
    :class:`InvalidNik`, whose ``problem`` says which rule the NIK breaks."""
    if not _NIK.fullmatch(nik):
        raise InvalidNik(NikProblem.NOT_16_DIGITS)
    if nik[:2] == "00" or nik[2:4] == "00" or nik[4:6] == "00":
        raise InvalidNik(NikProblem.ZERO_REGION)
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > 40
    if female:
        day -= 40
    today = today or date.today()
    century = 2000 if 2000 + year <= today.year else 1900
    try:
        born = date(century + year, month, day)
    except ValueError as impossible:
        raise InvalidNik(NikProblem.BIRTH_DATE_NOT_A_DATE) from impossible
    if born > today:
        raise InvalidNik(NikProblem.BIRTH_DATE_IN_FUTURE)
    if nik[12:] == "0000":
        raise InvalidNik(NikProblem.ZERO_SERIAL)
    return NikParts(nik[:2], nik[2:4], nik[4:6], born, female, nik[12:])


def is_valid_phone(phone: str) -> bool:
    """Whether ``phone`` is +62 or 0 followed by 9 to 12 digits."""
    return bool(_PHONE.fullmatch(phone))


def normalize_phone(phone: str) -> str:
    """A valid phone number in international form (+62...)."""
    return "+62" + phone[1:] if phone.startswith("0") else phone


def mask_nik(nik: str) -> str:
    """A NIK as it may be shown: first 4 and last 4 digits (``3171********0002``)."""
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:] if len(nik) > 8 else "*" * len(nik)


def public_nik(nik: str) -> str:
    """A NIK as a public page may show it: the last 4 digits only (``************0002``), since the first twelve
    say where and when the citizen was born. Also takes a NIK masked by :func:`mask_nik` (its last 4 are kept)."""
    return "*" * 12 + nik[-4:] if len(nik) > 4 else "*" * 16


def mask_email(email: str) -> str:
    """An e-mail address as it may be shown: first letter and domain (``s***@example.id``)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    """A phone number as it may be shown: the last 4 digits."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def initials(name: str) -> str:
    """A name's initials (``Siti Rahayu`` → ``S. R.``), the most of a name a public page shows."""
    return " ".join(f"{part[0].upper()}." for part in name.split() if part)
