"""The pages' error messages are chosen by typed codes: a refused NIK's ``NikProblem`` and intake's validators'
``ValueProblem`` travel in pydantic's error context and pick the message, in Indonesian and English."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from satupintu.common.catalogue.models import FieldDefinition, FieldType, LocalizedText
from satupintu.common.identity import InvalidNik, NikProblem
from satupintu.intake.domain import InvalidValue, ValueProblem
from satupintu.intake.i18n import Translator
from satupintu.intake.schemas import ApplicationCreate
from satupintu.intake.web.fields import FormErrors, FormField
from satupintu.intake.web.forms import path_to_name
from satupintu.intake.web.messages import NIK_MESSAGES, VALUE_MESSAGES, CheckedForm, Invalidity, field_message

pytestmark = pytest.mark.unit

VALID_NIK = "3171015506900002"

NIK_TEXTS = {
    NikProblem.NOT_16_DIGITS: (
        "Isi NIK dengan 16 angka seperti pada KTP",
        "Enter a NIK of 16 digits, as on your identity card",
    ),
    NikProblem.ZERO_REGION: (
        "Kode wilayah pada NIK (6 angka pertama) tidak boleh 00",
        "The region codes of the NIK (its first 6 digits) cannot be 00",
    ),
    NikProblem.BIRTH_DATE_NOT_A_DATE: (
        "Tanggal lahir pada NIK (angka ke-7 sampai ke-12) bukan tanggal yang benar",
        "The date of birth in the NIK (digits 7 to 12) is not a real date",
    ),
    NikProblem.BIRTH_DATE_IN_FUTURE: (
        "Tanggal lahir pada NIK belum terjadi",
        "The date of birth in the NIK is in the future",
    ),
    NikProblem.ZERO_SERIAL: (
        "Nomor urut pada NIK (4 angka terakhir) tidak boleh 0000",
        "The serial number of the NIK (its last 4 digits) cannot be 0000",
    ),
}


def _value_error(cause: ValueError) -> Invalidity:
    """An error as pydantic reports a validator's ValueError: the error itself kept in the context."""
    return Invalidity("value_error", f"Value error, {cause}", {"error": cause})


@pytest.mark.parametrize("problem", list(NikProblem))
@pytest.mark.parametrize("language", ["id", "en"])
def test_each_nik_problem_has_its_own_message_in_both_languages(problem: NikProblem, language: str) -> None:
    nik_field = FormField("applicant-nik", "NIK")

    message = field_message(Translator(language), nik_field, _value_error(InvalidNik(problem)), None)

    assert message == NIK_TEXTS[problem][0 if language == "id" else 1]


def test_every_nik_problem_and_page_value_problem_maps_to_a_text() -> None:
    t = Translator("en")
    assert set(NIK_MESSAGES) == set(NikProblem)
    assert set(VALUE_MESSAGES) == set(ValueProblem) - {ValueProblem.NOT_A_SCALAR}
    assert all(t.has(f"error.{key}") for key in [*NIK_MESSAGES.values(), *VALUE_MESSAGES.values()])


@pytest.mark.parametrize(
    ("form_field", "problem", "indonesian", "english"),
    [
        (FormField("applicant-name", "Nama lengkap"), ValueProblem.BLANK, "Isi nama lengkap", "Enter nama lengkap"),
        (
            FormField("applicant-name", "Full name"),
            ValueProblem.CONTROL_CHARACTERS,
            "Full name tidak boleh berisi karakter khusus atau baris baru",
            "Full name must not contain special characters or line breaks",
        ),
        (
            FormField("applicant-phone", "Nomor HP"),
            ValueProblem.NOT_A_PHONE_NUMBER,
            "Isi nomor HP dengan format yang benar, misalnya 081234567890",
            "Enter a mobile number in the correct format, like 081234567890",
        ),
    ],
)
def test_a_validators_value_problem_picks_the_message(
    form_field: FormField, problem: ValueProblem, indonesian: str, english: str
) -> None:
    invalidity = _value_error(InvalidValue(problem, "whatever the English says"))

    assert field_message(Translator("id"), form_field, invalidity, None) == indonesian
    assert field_message(Translator("en"), form_field, invalidity, None) == english


def test_the_english_text_of_an_error_does_not_choose_its_message() -> None:
    misleading = _value_error(InvalidValue(ValueProblem.BLANK, "the NIK's date of birth is in the future"))

    message = field_message(Translator("en"), FormField("applicant-name", "Full name"), misleading, None)

    assert message == "Enter full name"


def test_a_date_fields_refusal_says_it_must_be_a_real_date() -> None:
    definition = FieldDefinition(
        name="tanggal", label=LocalizedText(id="Tanggal mulai", en="Start date"), type=FieldType.DATE
    )
    invalidity = _value_error(InvalidValue(ValueProblem.NOT_A_DATE, "must be a date written as YYYY-MM-DD"))

    message = field_message(Translator("en"), FormField("data-tanggal", "Start date"), invalidity, definition)

    assert message == "Start date must be a real date"


def test_an_unexplained_refusal_shows_its_detail() -> None:
    invalidity = _value_error(InvalidValue(ValueProblem.NOT_A_SCALAR, "must be text, a number, true/false or null"))

    message = field_message(Translator("en"), FormField("data-luas", "Area"), invalidity, None)

    assert message == "Area is not valid: must be text, a number, true/false or null"


def _checked(language: str, *names: str) -> CheckedForm:
    return CheckedForm(
        Translator(language),
        fields={name: FormField(name, name) for name in names},
        definitions={},
        name_of=path_to_name(documents=[], renames={}),
        errors=FormErrors(),
    )


def _application(**applicant: Any) -> dict[str, Any]:
    return {
        "service_code": "siup",
        "applicant": {"nik": VALID_NIK, "name": "Siti Rahayu", "language": "id", **applicant},
        "data": {},
        "consent_reuse": False,
    }


@pytest.mark.parametrize(
    ("applicant", "field", "english"),
    [
        ({"nik": "31710155069000"}, "applicant-nik", NIK_TEXTS[NikProblem.NOT_16_DIGITS][1]),
        ({"nik": "3171015506900000"}, "applicant-nik", NIK_TEXTS[NikProblem.ZERO_SERIAL][1]),
        ({"nik": "0071015506900002"}, "applicant-nik", NIK_TEXTS[NikProblem.ZERO_REGION][1]),
        ({"nik": "3171013206900002"}, "applicant-nik", NIK_TEXTS[NikProblem.BIRTH_DATE_NOT_A_DATE][1]),
        ({"phone": "12345"}, "applicant-phone", "Enter a mobile number in the correct format, like 081234567890"),
        ({"email": "siti"}, "applicant-email", "Enter an email address in the correct format, like name@example.com"),
        ({"name": "   "}, "applicant-name", "Enter applicant-name"),
        (
            {"name": "Siti\tRahayu"},
            "applicant-name",
            "applicant-name must not contain special characters or line breaks",
        ),
    ],
)
def test_a_refused_application_is_told_by_the_typed_cause_pydantic_passes_on(
    applicant: dict[str, Any], field: str, english: str
) -> None:
    checked = _checked("en", "applicant-nik", "applicant-name", "applicant-email", "applicant-phone")
    with pytest.raises(ValidationError) as refused:
        ApplicationCreate.model_validate(_application(**applicant))

    checked.report_validation(refused.value)

    assert checked.errors.by_field == {field: english}
