"""The application form of each catalogue service as a pydantic model: validates ``data`` with a field path for
every error, and gives the JSON Schema (draft 2020-12) that ``GET /services/{code}`` publishes and the web form is
built from. Every rule the model enforces is in that schema (the catalogue's patterns and limits, text being one
non-blank line, dates written ``YYYY-MM-DD``), and the model accepts all the schema allows (a whole float is an
integer): ``tests/unit/test_published_form_schema.py`` holds the two equal for every service."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictInt,
    ValidationError,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from satupintu.common.catalogue import FieldDefinition, FieldType, ServiceDefinition
from satupintu.common.problems import field_path
from satupintu.intake.domain import FieldError, InvalidApplication, InvalidValue, ValueProblem

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The dialect of the published form schemas."""

# Regular-expression character classes written with \uXXXX escapes, which Python, ECMA-262 (the JSON Schema
# dialect) and the web form's browser read alike.
CONTROL_CHARACTERS = r"\u0000-\u001f\u007f-\u009f"
"""Unicode's control characters (category Cc), tab and newline included."""
SPACES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Every character ``str.strip`` removes that is not a control character (Unicode White_Space less Cc)."""
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""How a date is written: ``YYYY-MM-DD`` (RFC 3339's full-date; the value must also be a real date)."""

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_NOT_SPACE = re.compile(f"[^{SPACES}]")
_DATE = re.compile(DATE_PATTERN)


def no_control_characters(value: str) -> str:
    """Refuse text containing control characters (tabs and newlines included): form fields are single lines."""
    if _CONTROL.search(value):
        raise InvalidValue(ValueProblem.CONTROL_CHARACTERS, "must not contain control characters")
    return value


def not_blank(value: str) -> str:
    """Refuse text that is empty once surrounding spaces are removed."""
    if not _NOT_SPACE.search(value):
        raise InvalidValue(ValueProblem.BLANK, "must not be empty")
    return value


def _iso_date_text(value: object) -> object:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidValue(ValueProblem.NOT_A_DATE, "must be a date written as YYYY-MM-DD")
    return value


def _whole_number(value: object) -> object:
    """A JSON number with no fraction (``3.0``) is an integer in JSON Schema: take it as one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Published:
    """Adds to a type's JSON Schema the keywords saying what its own validators check."""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(copy.deepcopy(self.keywords))
        return schema


ONE_LINE_PATTERN = f"^[^{CONTROL_CHARACTERS}]*[^{CONTROL_CHARACTERS}{SPACES}][^{CONTROL_CHARACTERS}]*(?![\\s\\S])"
"""Text that is one line and not blank, as the published schema says it: no control character, at least one
character that is not a space. It ends with ``(?![\\s\\S])`` rather than ``$``, which Python's ``re`` lets match
before a final newline."""

CleanText = Annotated[
    str, AfterValidator(no_control_characters), AfterValidator(not_blank), _Published(pattern=ONE_LINE_PATTERN)
]
"""A single line of text a person typed: not blank, no control characters."""


def _string(definition: FieldDefinition) -> Any:
    if definition.pattern is None:
        return Annotated[
            str,
            Field(max_length=definition.max_length),
            AfterValidator(no_control_characters),
            AfterValidator(not_blank),
            _Published(pattern=ONE_LINE_PATTERN),
        ]
    # The constraints come before the validators: after them pydantic checks a pattern but leaves it unpublished.
    return Annotated[
        str,
        Field(max_length=definition.max_length, pattern=f"^(?:{definition.pattern})$"),
        AfterValidator(no_control_characters),
        AfterValidator(not_blank),
        _Published(allOf=[{"type": "string", "pattern": ONE_LINE_PATTERN}]),
    ]


def _field_type(definition: FieldDefinition) -> Any:
    match definition.type:
        case FieldType.STRING:
            return _string(definition)
        case FieldType.INTEGER:
            minimum, maximum = definition.minimum, definition.maximum
            return Annotated[
                StrictInt,
                Field(
                    ge=None if minimum is None else int(minimum),
                    le=None if maximum is None else int(maximum),
                ),
                BeforeValidator(_whole_number),
            ]
        case FieldType.NUMBER:
            return Annotated[
                float, Field(strict=True, ge=definition.minimum, le=definition.maximum, allow_inf_nan=False)
            ]
        case FieldType.BOOLEAN:
            return StrictBool
        case FieldType.DATE:
            return Annotated[dt.date, BeforeValidator(_iso_date_text), _Published(pattern=DATE_PATTERN)]
        case FieldType.ENUM:
            return Literal[tuple(definition.enum or ())]
    raise ValueError(f"unknown field type {definition.type}")


class _Form(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=False, frozen=True, json_schema_extra={"$schema": JSON_SCHEMA_DIALECT}
    )


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


def validated_values(form: type[BaseModel], values: Mapping[str, Any], *, under: str) -> dict[str, Any]:
    """``values`` checked by ``form`` (a service's :func:`form_model` or :func:`partial_form_model`), as JSON without
    the fields left out; refused with every error at its path under ``under`` (``data/kbli``)."""
    try:
        checked = form.model_validate(values)
    except ValidationError as invalid:
        raise InvalidApplication(
            [FieldError(field_path((under, *error["loc"])), error["msg"], error["type"]) for error in invalid.errors()]
        ) from invalid
    validated: dict[str, Any] = checked.model_dump(mode="json", exclude_none=True)
    return validated
