"""What the now-calling display says for a call, in Indonesian and English, as words a speech synthesizer reads
the same way every time: a queue number letter by letter and digit by digit (``A-012``: "A nol satu dua"), the
counter's number as a number ("loket dua belas"). No I/O: the audio is made from these words elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Language = Literal["id", "en"]

_DIGITS: Final[dict[Language, tuple[str, ...]]] = {
    "id": ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
_EN_TEENS: Final = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_EN_TENS: Final = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_COUNTER_WORDS: Final = {"loket", "counter", "konter"}
"""Words naming a counter: the phrase says "loket" / "counter" itself, so a counter named ``Loket 3`` is not
announced as "loket loket tiga"."""
_SPELLED_LETTERS: Final = 4
"""Runs of at most this many capital letters are spelled (``PBG``: "P B G"); longer ones are read as words."""
_LARGEST_NUMBER: Final = 9999
"""Counter numbers up to this are read as numbers; longer runs of digits digit by digit."""
_TOKENS: Final = re.compile(r"[^\W\d_]+|\d+")
_PHRASES: Final[dict[Language, tuple[str, str, str]]] = {
    "id": ("Nomor antrean", "silakan ke", "loket"),
    "en": ("Ticket number", "please go to", "counter"),
}


@dataclass(frozen=True)
class Announcement:
    """One call as the display shows it (``text``) and as the synthesizer says it (``spoken``), in ``language``."""

    language: Language
    text: str
    spoken: str


def digit_words(digits: str, language: Language) -> list[str]:
    """Each digit as a word: ``012`` → nol, satu, dua (zero, one, two)."""
    return [_DIGITS[language][int(digit)] for digit in digits]


def number_words(value: int, language: Language) -> list[str]:
    """A whole number from 0 to 9999 in words: 12 → dua belas (twelve), 105 → seratus lima (one hundred five)."""
    if not 0 <= value <= _LARGEST_NUMBER:
        raise ValueError(f"{value} is not between 0 and {_LARGEST_NUMBER}")
    return _indonesian(value) if language == "id" else _english(value)


def _indonesian(value: int) -> list[str]:
    digits = _DIGITS["id"]
    if value < 10:
        return [digits[value]]
    if value == 10:
        return ["sepuluh"]
    if value == 11:
        return ["sebelas"]
    if value < 20:
        return [digits[value - 10], "belas"]
    for size, one, unit in ((1000, "seribu", "ribu"), (100, "seratus", "ratus"), (10, "", "puluh")):
        if value >= size:
            head, rest = divmod(value, size)
            words = [one] if head == 1 and one else [*_indonesian(head), unit]
            return words + (_indonesian(rest) if rest else [])
    raise AssertionError(value)  # pragma: no cover - every value from 20 up has a size above


def _english(value: int) -> list[str]:
    if value < 10:
        return [_DIGITS["en"][value]]
    if value < 20:
        return [_EN_TEENS[value - 10]]
    if value < 100:
        tens, rest = divmod(value, 10)
        return [_EN_TENS[tens]] + ([_DIGITS["en"][rest]] if rest else [])
    for size, unit in ((1000, "thousand"), (100, "hundred")):
        if value >= size:
            head, rest = divmod(value, size)
            return [*_english(head), unit] + (_english(rest) if rest else [])
    raise AssertionError(value)  # pragma: no cover - every value from 100 up has a size above


def _letters(run: str) -> list[str]:
    return list(run) if run.isupper() and len(run) <= _SPELLED_LETTERS else [run.lower()]


def ticket_words(number: str, language: Language) -> list[str]:
    """A queue number as said: the prefix's letters one by one, every digit on its own (leading zeros too):
    ``A-012`` → A nol satu dua; ``PBG-017`` → P B G nol satu tujuh (English: zero one seven)."""
    words: list[str] = []
    for run in _TOKENS.findall(number):
        words += digit_words(run, language) if run.isdigit() else _letters(run.upper())
    return words


def counter_words(counter: str, language: Language) -> list[str]:
    """A counter's name as said after "silakan ke" / "please go to": ``3`` → loket tiga (counter three),
    ``Loket 12`` → loket dua belas, ``B2`` → loket B dua, ``Meja 05`` → meja nol lima (a leading zero is read
    digit by digit), ``Loket Paspor`` → loket paspor."""
    runs = _TOKENS.findall(counter)
    words: list[str] = []
    for run in runs:
        if run.isdigit():
            as_number = len(run) == 1 or (not run.startswith("0") and int(run) <= _LARGEST_NUMBER)
            words += number_words(int(run), language) if as_number else digit_words(run, language)
        elif run.lower() in _COUNTER_WORDS:
            words.append(_PHRASES[language][2])
        else:
            words += _letters(run)
    if not runs or not _is_word(runs[0]):
        words.insert(0, _PHRASES[language][2])
    return words


def _is_word(run: str) -> bool:
    """A run that names a place by itself (``Meja``), not a code (``B``) or a number."""
    return not run.isdigit() and not (run.isupper() and len(run) <= _SPELLED_LETTERS)


def announcement(number: str, counter: str, language: Language) -> Announcement:
    """The call of ticket ``number`` to ``counter``: "Nomor antrean A-012, silakan ke loket 3" shown, "Nomor
    antrean A nol satu dua, silakan ke loket tiga" said (English: "Ticket number A zero one two, please go to
    counter three")."""
    opening, go_to, counter_word = _PHRASES[language]
    runs = _TOKENS.findall(counter)
    if runs and runs[0].lower() in _COUNTER_WORDS:
        shown = f"{counter_word} {counter.strip()[len(runs[0]) :].strip()}"
    elif runs and _is_word(runs[0]):
        shown = counter.strip()
    else:
        shown = f"{counter_word} {counter.strip()}"
    return Announcement(
        language=language,
        text=f"{opening} {number}, {go_to} {shown.strip()}",
        spoken=f"{opening} {' '.join(ticket_words(number, language))}, {go_to} "
        f"{' '.join(counter_words(counter, language))}.",
    )
