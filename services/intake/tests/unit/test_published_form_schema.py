"""The form each service publishes (``GET /services/{code}``) is exactly what intake accepts: for every service of
the catalogue, data generated from the published JSON Schema is accepted, and data breaking it in one field (a
wrong type, a broken pattern, a number out of range, a blank or multi-line text, a missing or unknown field) is
refused with that field's path."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from satupintu.common.catalogue import ServiceDefinition, load_catalogue
from satupintu.devtools.testing.json_schema import closed_objects
from satupintu.intake.domain import InvalidApplication
from satupintu.intake.forms import form_model, form_schema, validated_values

pytestmark = pytest.mark.unit

SERVICES = {service.code: service for service in load_catalogue().services}
SCALARS = ["string", "integer", "number", "boolean", "null"]
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PER_FIELD = settings(PROPERTY, max_examples=10)  # a test per field of every service: fewer examples each


def published(code: str) -> dict[str, Any]:
    return form_schema(SERVICES[code])


@cache
def conforming(code: str) -> st.SearchStrategy[dict[str, Any]]:
    """Form data the published schema allows."""
    return closed_objects(published(code))


@cache
def breaking(code: str, field: str) -> st.SearchStrategy[Any]:
    """JSON scalars the published schema does not allow for ``field``, of any type, not only the field's own (a list
    or an object is refused before the form is looked at, as :class:`~satupintu.intake.schemas.FormValue`)."""
    return from_schema({"allOf": [{"not": published(code)["properties"][field]}, {"type": SCALARS}]})


@cache
def judge(code: str) -> Draft202012Validator:
    """The published schema as a standard draft 2020-12 validator, asserting formats (``date``)."""
    return Draft202012Validator(published(code), format_checker=Draft202012Validator.FORMAT_CHECKER)


def intake_accepts(service: ServiceDefinition, data: dict[str, Any]) -> dict[str, Any]:
    return validated_values(form_model(service), data, under="data")


def refused_fields(service: ServiceDefinition, data: dict[str, Any]) -> set[str]:
    with pytest.raises(InvalidApplication) as refused:
        intake_accepts(service, data)
    return {error.field for error in refused.value.errors}


@pytest.mark.parametrize("code", SERVICES)
def test_published_form_is_a_draft_2020_12_json_schema(code: str) -> None:
    schema = published(code)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {field.name for field in SERVICES[code].fields}


@pytest.mark.parametrize("code", SERVICES)
@PROPERTY
@given(data=st.data())
def test_data_generated_from_the_published_form_is_accepted(code: str, data: st.DataObject) -> None:
    form = data.draw(conforming(code), label="form")

    accepted = intake_accepts(SERVICES[code], form)

    assert accepted == {name: value for name, value in form.items() if value is not None}


@pytest.mark.parametrize(
    ("code", "field"), [(service.code, field.name) for service in SERVICES.values() for field in service.fields]
)
@PER_FIELD
@given(data=st.data())
def test_a_value_the_published_form_forbids_is_refused_at_its_field(code: str, field: str, data: st.DataObject) -> None:
    form = {**data.draw(conforming(code), label="form"), field: data.draw(breaking(code, field), label="value")}
    assert not judge(code).is_valid(form)  # the generator broke the published schema

    assert refused_fields(SERVICES[code], form) == {f"data/{field}"}


@pytest.mark.parametrize(
    ("code", "field"),
    [(service.code, field.name) for service in SERVICES.values() for field in service.fields if field.required],
)
@PER_FIELD
@given(data=st.data())
def test_a_required_field_left_out_is_refused_at_its_field(code: str, field: str, data: st.DataObject) -> None:
    form = data.draw(conforming(code), label="form")
    form.pop(field, None)
    assert not judge(code).is_valid(form)

    assert refused_fields(SERVICES[code], form) == {f"data/{field}"}


@pytest.mark.parametrize("code", SERVICES)
@PER_FIELD
@given(data=st.data())
def test_a_field_the_form_does_not_have_is_refused(code: str, data: st.DataObject) -> None:
    form = {**data.draw(conforming(code), label="form"), "unasked": "anything"}
    assert not judge(code).is_valid(form)

    assert refused_fields(SERVICES[code], form) == {"data/unasked"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kbli", "1234"),  # four digits where the published pattern asks five
        ("kbli", "12a45"),
        ("kbli", "12345\n"),  # a pattern's `$` in Python's re would let a final newline through
        ("business_name", " \u3000 "),  # only spaces
        ("business_name", "Warung\tSari"),  # a control character
        ("business_name", "x" * 121),
    ],
)
def test_published_string_rules_are_the_ones_intake_applies(field: str, value: str) -> None:
    form = {"business_name": "Warung Sari", "business_scale": "mikro", "kbli": "56102", "business_address": "Jl. A 1"}
    assert judge("nib").is_valid(form)
    assert intake_accepts(SERVICES["nib"], form)

    broken = {**form, field: value}

    assert not judge("nib").is_valid(broken)
    assert refused_fields(SERVICES["nib"], broken) == {f"data/{field}"}


def test_whole_number_limits_are_published_as_integers() -> None:
    floors = published("pbg")["properties"]["floors"]
    income = published("npwp")["properties"]["monthly_income"]

    assert (floors["type"], floors["minimum"], floors["maximum"]) == ("integer", 1, 100)
    assert all(type(limit) is int for limit in (floors["minimum"], floors["maximum"], income["minimum"]))


def test_a_whole_float_is_an_integer_as_json_schema_says_and_is_kept_as_one() -> None:
    form = {
        "building_function": "hunian",
        "floor_area_m2": 120,
        "floors": 2.0,
        "site_address": "Jl. Merdeka 1",
        "land_certificate_number": "SHM 123",
    }
    assert judge("pbg").is_valid(form)

    accepted = intake_accepts(SERVICES["pbg"], form)

    assert accepted["floors"] == 2
    assert type(accepted["floors"]) is int
    assert refused_fields(SERVICES["pbg"], {**form, "floors": 2.5}) == {"data/floors"}


@pytest.mark.parametrize("written", ["2024-01-01T00:00:00", "20240101", "2024-1-1", "2024-02-30"])
def test_a_date_is_a_real_date_written_yyyy_mm_dd(written: str) -> None:
    form = {
        "child_name": "Sari",
        "child_birth_date": "2024-01-01",
        "child_sex": "perempuan",
        "birth_place": "Samarinda",
        "kk_number": "6472010101010001",
    }
    assert judge("akta-kelahiran").is_valid(form)
    assert intake_accepts(SERVICES["akta-kelahiran"], form)
    broken = {**form, "child_birth_date": written}

    assert not judge("akta-kelahiran").is_valid(broken)
    assert refused_fields(SERVICES["akta-kelahiran"], broken) == {"data/child_birth_date"}
