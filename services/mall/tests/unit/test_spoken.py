"""What the now-calling display says for a call: queue numbers letter by letter and digit by digit (leading zeros
too), counters by their number in words, in Indonesian and English."""

from __future__ import annotations

import pytest

from satupintu.mall.spoken import Language, announcement, counter_words, number_words, ticket_words

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("number", "language", "words"),
    [
        ("A-012", "id", "A nol satu dua"),
        ("A-012", "en", "A zero one two"),
        ("PBG-017", "id", "P B G nol satu tujuh"),
        ("PBG-017", "en", "P B G zero one seven"),
        ("SP-100", "id", "S P satu nol nol"),
        ("NPWP-009", "id", "N P W P nol nol sembilan"),
        ("AK-1000", "en", "A K one zero zero zero"),
        ("SIM-PERPANJANGAN-005", "id", "S I M perpanjangan nol nol lima"),
    ],
)
def test_a_queue_number_is_said_letter_by_letter_and_digit_by_digit(
    number: str, language: Language, words: str
) -> None:
    assert " ".join(ticket_words(number, language)) == words


@pytest.mark.parametrize(
    ("counter", "language", "words"),
    [
        ("3", "id", "loket tiga"),
        ("3", "en", "counter three"),
        ("Loket 3", "id", "loket tiga"),
        ("Loket 3", "en", "counter three"),
        ("LOKET 10", "id", "loket sepuluh"),
        ("Loket 11", "id", "loket sebelas"),
        ("Loket 12", "id", "loket dua belas"),
        ("Loket 12", "en", "counter twelve"),
        ("21", "id", "loket dua puluh satu"),
        ("21", "en", "counter twenty one"),
        ("B2", "id", "loket B dua"),
        ("B2", "en", "counter B two"),
        ("Meja 05", "id", "meja nol lima"),
        ("Loket Paspor", "id", "loket paspor"),
        ("Counter 7", "id", "loket tujuh"),
    ],
)
def test_a_counter_is_said_with_its_number_in_words(counter: str, language: Language, words: str) -> None:
    assert " ".join(counter_words(counter, language)) == words


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (0, "nol", "zero"),
        (10, "sepuluh", "ten"),
        (19, "sembilan belas", "nineteen"),
        (40, "empat puluh", "forty"),
        (100, "seratus", "one hundred"),
        (111, "seratus sebelas", "one hundred eleven"),
        (250, "dua ratus lima puluh", "two hundred fifty"),
        (1000, "seribu", "one thousand"),
        (2024, "dua ribu dua puluh empat", "two thousand twenty four"),
    ],
)
def test_numbers_in_words(value: int, indonesian: str, english: str) -> None:
    assert " ".join(number_words(value, "id")) == indonesian
    assert " ".join(number_words(value, "en")) == english


def test_a_call_is_shown_and_said_in_indonesian_and_english() -> None:
    indonesian = announcement("A-012", "3", "id")
    english = announcement("A-012", "Loket 3", "en")

    assert indonesian.text == "Nomor antrean A-012, silakan ke loket 3"
    assert indonesian.spoken == "Nomor antrean A nol satu dua, silakan ke loket tiga."
    assert english.text == "Ticket number A-012, please go to counter 3"
    assert english.spoken == "Ticket number A zero one two, please go to counter three."
    assert announcement("PBG-017", "Loket 12", "id").spoken == (
        "Nomor antrean P B G nol satu tujuh, silakan ke loket dua belas."
    )


def test_a_long_run_of_digits_in_a_counter_is_said_digit_by_digit() -> None:
    assert counter_words("12345", "id") == ["loket", "satu", "dua", "tiga", "empat", "lima"]
