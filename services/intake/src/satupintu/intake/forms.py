"""The application form of each catalogue service as a pydantic model: validates ``data`` with a field path for
every error, and gives the JSON Schema that ``GET /services/{code}`` publishes and the web form is built from."""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, create_model

from satupintu.common.catalogue import FieldDefinition, FieldType, ServiceDefinition
from satupintu.intake.domain import InvalidValue, ValueProblem


def no_control_characters(value: str) -> str:
    """Refuse text containing control characters (tabs and newlines included): form fields are single lines."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        raise InvalidValue(ValueProblem.CONTROL_CHARACTERS, "must not contain control characters")
    return value


def not_blank(value: str) -> str:
    """Refuse text that is empty once surrounding spaces are removed."""
    if not value.strip():
        raise InvalidValue(ValueProblem.BLANK, "must not be empty")
    return value


def _iso_date_text(value: object) -> object:
    if not isinstance(value, str):
        raise InvalidValue(ValueProblem.NOT_A_DATE, "must be a date written as YYYY-MM-DD")
    return value


CleanText = Annotated[str, AfterValidator(no_control_characters), AfterValidator(not_blank)]
"""A single line of text a person typed: not blank, no control characters."""


def _field_type(definition: FieldDefinition) -> Any:
    match definition.type:
        case FieldType.STRING:
            return Annotated[
                CleanText,
                Field(
                    max_length=definition.max_length,
                    pattern=f"^(?:{definition.pattern})$" if definition.pattern else None,
                ),
            ]
        case FieldType.INTEGER:
            return Annotated[StrictInt, Field(ge=definition.minimum, le=definition.maximum)]
        case FieldType.NUMBER:
            return Annotated[
                float, Field(strict=True, ge=definition.minimum, le=definition.maximum, allow_inf_nan=False)
            ]
        case FieldType.BOOLEAN:
            return StrictBool
        case FieldType.DATE:
            return Annotated[dt.date, BeforeValidator(_iso_date_text)]
        case FieldType.ENUM:
            return Literal[tuple(definition.enum or ())]
    raise ValueError(f"unknown field type {definition.type}")


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


@cache
def form_model(service: ServiceDefinition) -> type[BaseModel]:
    """The pydantic model of ``service``'s form (built once per service)."""
    fields: dict[str, Any] = {}
    for definition in service.fields:
        annotation = _field_type(definition)
        description = definition.help.en if definition.help else definition.label.en
        info = Field(
            title=definition.label.id,
            description=description,
            json_schema_extra={
                "label": definition.label.model_dump(),
                **({"help": definition.help.model_dump()} if definition.help else {}),
                **({"pii": True} if definition.personal else {}),
            },
        )
        if definition.required:
            fields[definition.name] = (annotation, info)
        else:
            fields[definition.name] = (annotation | None, Field(default=None, **_kwargs(info)))
    return create_model(f"Form_{service.code.replace('-', '_')}", __base__=_Form, **fields)


def _kwargs(info: Any) -> dict[str, Any]:
    return {"title": info.title, "description": info.description, "json_schema_extra": info.json_schema_extra}


def form_schema(service: ServiceDefinition) -> dict[str, Any]:
    """The JSON Schema of ``service``'s form."""
    return form_model(service).model_json_schema()


@cache
def partial_form_model(service: ServiceDefinition) -> type[BaseModel]:
    """``service``'s form with every field optional: validates the fields a citizen changes in an answer."""
    fields: dict[str, Any] = {
        definition.name: (_field_type(definition) | None, Field(default=None)) for definition in service.fields
    }
    return create_model(f"PartialForm_{service.code.replace('-', '_')}", __base__=_Form, **fields)
