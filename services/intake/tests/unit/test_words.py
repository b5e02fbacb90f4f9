"""The citizen pages' words are the web kit's translator with intake's texts: a missing text falls back to
Indonesian, then to its key; a state without a text reads as the state itself; sizes, numbers and file types are
written the language's way."""

from __future__ import annotations

import pytest

from satupintu.intake.i18n import Translator

pytestmark = pytest.mark.unit


def test_a_text_is_said_in_the_asked_language_and_a_missing_one_as_its_key() -> None:
    assert Translator("en")("status_title") == "Application status"
    assert Translator("id")("status_title") == "Status permohonan"
    assert Translator("en")("no_such_text") == "no_such_text"


def test_a_language_the_pages_do_not_speak_is_read_as_indonesian() -> None:
    assert Translator("fr").language == "id"


def test_a_state_without_a_text_reads_as_the_state_itself() -> None:
    t = Translator("en")

    assert t.application_state("completed") == "Completed"
    assert t.application_state("no_such_state") == "no_such_state"
    assert t.task_state("no_such_state") == "no_such_state"


def test_numbers_sizes_and_file_types_are_written_the_languages_way() -> None:
    indonesian, english = Translator("id"), Translator("en")

    assert (indonesian.number(1250.5), english.number(1250.5)) == ("1.250,5", "1,250.5")
    assert (indonesian.size(2_500_000), english.size(500_000)) == ("2,5 MB", "500 KB")
    assert indonesian.media_types(["application/pdf", "image/jpeg", "image/png"]) == "PDF, JPG atau PNG"
