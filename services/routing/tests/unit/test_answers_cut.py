"""Which of the citizen's answers the asking agency receives, judged by their keys alone."""

from __future__ import annotations

import pytest

from satupintu.routing.domain import answers_for_asking_agency

pytestmark = pytest.mark.unit

FORM = {"building_function", "floors", "site_address", "land_certificate_number"}
VISIBLE = ("building_function", "floors", "site_address")


def test_a_field_the_agency_sees_is_kept_and_one_it_does_not_is_cut() -> None:
    kept = answers_for_asking_agency(
        {"floors": 3, "land_certificate_number": "SHM-1"}, form_fields=FORM, visible_fields=VISIBLE, questions=()
    )

    assert kept == {"floors": 3}


def test_the_written_answer_and_answers_keyed_by_its_own_questions_are_the_asking_agencys() -> None:
    kept = answers_for_asking_agency(
        {"message": "Sudah", "Berapa lantai?": "Tiga", "Pertanyaan lembaga lain?": "x"},
        form_fields=FORM,
        visible_fields=VISIBLE,
        questions=("Berapa lantai?",),
    )

    assert kept == {"message": "Sudah", "Berapa lantai?": "Tiga"}


def test_values_pass_through_unread_so_sealed_values_are_kept_as_they_came() -> None:
    sealed = "sealed.v1.k1.bm9uY2UtYW5kLWNpcGhlcnRleHQ="

    kept = answers_for_asking_agency(
        {"site_address": sealed, "land_certificate_number": sealed},
        form_fields=FORM,
        visible_fields=VISIBLE,
        questions=(),
    )

    assert kept == {"site_address": sealed}


def test_a_form_field_named_like_a_question_is_judged_as_a_field() -> None:
    kept = answers_for_asking_agency(
        {"land_certificate_number": "SHM-1"},
        form_fields=FORM,
        visible_fields=VISIBLE,
        questions=("land_certificate_number",),
    )

    assert kept == {}
