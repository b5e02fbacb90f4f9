"""Error messages a person reads, in their language: chosen by typed codes (pydantic's error types, the
:class:`~satupintu.common.identity.NikProblem` of a refused NIK, the :class:`~satupintu.intake.domain.ValueProblem`
of intake's own validators), never by reading a library's English text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from satupintu.common.catalogue import FieldDefinition, FieldType
from satupintu.common.identity import InvalidNik, NikProblem
from satupintu.common.problems import field_path
from satupintu.intake.domain import InvalidApplication, InvalidValue, ValueProblem
from satupintu.intake.i18n import Translator, mid_sentence
from satupintu.intake.web.fields import FormErrors, FormField


def say(t: Translator, problem: str, label: str, **values: object) -> str:
    """The message ``error.<problem>`` about the field labelled ``label``, the label cased for its place."""
    shown = label if t.template(f"error.{problem}").startswith("{label}") else mid_sentence(label)
    return t(f"error.{problem}", label=shown, **values)


# Validation error types (pydantic's, as the use cases pass them on) and the message each is told with.
_PROBLEMS = {
    "missing": "required",
    "string_too_short": "required",
    "string_type": "required",
    "none_required": "required",
    "literal_error": "choose",
    "bool_type": "choose",
    "bool_parsing": "choose",
    "enum": "choose",
    "string_pattern_mismatch": "pattern",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "greater_than_equal": "minimum",
    "greater_than": "minimum",
    "less_than_equal": "maximum",
    "less_than": "maximum",
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_parsing": "number",
    "float_type": "number",
    "finite_number": "number",
}

# Why a NIK was refused, and the message that says it.
NIK_MESSAGES = {
    NikProblem.NOT_16_DIGITS: "nik",
    NikProblem.ZERO_REGION: "nik_zero_region",
    NikProblem.BIRTH_DATE_NOT_A_DATE: "nik_birth_date",
    NikProblem.BIRTH_DATE_IN_FUTURE: "nik_future",
    NikProblem.ZERO_SERIAL: "nik_serial",
}

# Why one of intake's validators refused a value, and the message that says it (a value that is not a form's
# scalar cannot come from a page: it is told as "invalid", with its detail).
VALUE_MESSAGES = {
    ValueProblem.BLANK: "required",
    ValueProblem.CONTROL_CHARACTERS: "control",
    ValueProblem.NOT_A_DATE: "date",
    ValueProblem.NOT_A_PHONE_NUMBER: "phone",
}

# pydantic's EmailStr refuses with a bare ``value_error``, its only typed cause being which field it is.
_FIELD_MESSAGES = {"applicant-email": "email"}

# A business's numbers not in their format, told with the format they have.
_PATTERN_MESSAGES = {"business-nib": "nib", "business-npwp": "npwp"}

# Messages that name their field themselves (they carry no label).
_SELF_NAMED = ("nik", "nib", "npwp", "email", "phone")


@dataclass(frozen=True)
class Invalidity:
    """One validation error, whoever found it: its type, pydantic's English detail and its context (where a
    validator's own error, with its typed problem, is kept as ``error``)."""

    error_type: str
    detail: str
    context: Mapping[str, Any] = field(default_factory=dict)


def value_problem(form_field: FormField, invalidity: Invalidity, definition: FieldDefinition | None) -> str:
    """The message for an error that its type alone does not explain (a validator's), from the typed problem the
    validator raised, else what the field is."""
    if invalidity.error_type.startswith("date") or (definition is not None and definition.type is FieldType.DATE):
        return "date"
    cause = invalidity.context.get("error")
    if isinstance(cause, InvalidNik):
        return NIK_MESSAGES[cause.problem]
    if isinstance(cause, InvalidValue) and cause.problem in VALUE_MESSAGES:
        return VALUE_MESSAGES[cause.problem]
    return _FIELD_MESSAGES.get(form_field.name, "invalid")


def field_message(
    t: Translator, form_field: FormField, invalidity: Invalidity, definition: FieldDefinition | None
) -> str:
    """What a person reads about a validation error of ``form_field``: said in their language, not pydantic's."""
    problem = _PROBLEMS.get(invalidity.error_type) or value_problem(form_field, invalidity, definition)
    if problem == "pattern":
        problem = _PATTERN_MESSAGES.get(form_field.name, problem)
    if problem == "required":
        problem = {"file": "upload", "radios": "choose", "select": "choose", "checkbox": "choose"}.get(
            form_field.kind, "required"
        )
    context = invalidity.context
    values: dict[str, object] = {}
    if problem == "too_long":
        values["max_length"] = context.get("max_length") or (definition.max_length if definition else "")
    elif problem == "minimum":
        minimum = context.get("ge", context.get("gt", definition.minimum if definition else None))
        values["minimum"] = t.number(minimum) if minimum is not None else ""
    elif problem == "maximum":
        maximum = context.get("le", context.get("lt", definition.maximum if definition else None))
        values["maximum"] = t.number(maximum) if maximum is not None else ""
    elif problem == "invalid":
        values["detail"] = invalidity.detail.removeprefix("Value error, ")
    if problem.startswith(_SELF_NAMED):
        return t(f"error.{problem}")
    return say(t, problem, form_field.label, **values)


@dataclass
class CheckedForm:
    """A submitted form being checked: its fields by name, and how a use case's field paths name them."""

    t: Translator
    fields: dict[str, FormField]
    definitions: Mapping[str, FieldDefinition]
    name_of: Callable[[str], str | None]
    errors: FormErrors

    def report(self, path: str, invalidity: Invalidity) -> None:
        """Put the error at ``path`` beside its field, said in the page's language (in the summary without one)."""
        name = self.name_of(path)
        form_field = self.fields.get(name) if name else None
        if form_field is None:
            self.errors.add(None, invalidity.detail)
            return
        self.errors.add(
            form_field.name, field_message(self.t, form_field, invalidity, self.definitions.get(form_field.name))
        )

    def report_validation(self, invalid: ValidationError, prefix: tuple[str, ...] = ()) -> None:
        """Report every error of a pydantic validation, its location under ``prefix``."""
        for error in invalid.errors():
            self.report(
                field_path((*prefix, *error["loc"])), Invalidity(error["type"], error["msg"], error.get("ctx") or {})
            )

    def report_refusal(self, invalid: InvalidApplication) -> None:
        """Report every error a use case refused with."""
        for refusal in invalid.errors:
            self.report(refusal.field, Invalidity(refusal.code, refusal.message))
