"""Reading what was typed: the submitted form's limits (the web kit's ``read_form`` reads it), catalogue values
converted to their types as people write them (``1.250,5``, ``25/12/2026``), and how a use case's field paths name
form fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from starlette.datastructures import FormData

from satupintu.common.catalogue import FieldDefinition, FieldType, ServiceDefinition
from satupintu.common.web.uploads import FormLimits
from satupintu.intake.web.fields import text
from satupintu.intake.web.messages import CheckedForm, say

FORM_LIMITS: Final = FormLimits(max_fields=200, max_files=200)
"""How many fields and files a citizen's form may have (the body's size was bounded before it is read, by
``satupintu.intake.uploads``)."""

_GROUPED_INTEGER = re.compile(r"[+-]?\d{1,3}(?:[.,]\d{3})+")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


class Unreadable(ValueError):
    """A typed value that is not of its field's type; ``problem`` names the message to show."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _integer(typed: str, _language: str) -> int:
    compact = typed.replace(" ", "")
    if _GROUPED_INTEGER.fullmatch(compact):
        compact = compact.replace(".", "").replace(",", "")
    if not _INTEGER.fullmatch(compact):
        raise Unreadable("integer")
    return int(compact)


def _number(typed: str, language: str) -> float:
    compact = typed.replace(" ", "")
    # Indonesian writes 1.250,5 and English 1,250.5; a lone comma is a decimal comma either way.
    grouping, decimal = (".", ",") if language == "id" else (",", ".")
    if re.fullmatch(rf"[+-]?\d{{1,3}}(?:\{grouping}\d{{3}})+(?:\{decimal}\d+)?", compact):
        compact = compact.replace(grouping, "")
    compact = compact.replace(",", ".")
    if not _DECIMAL.fullmatch(compact):
        raise Unreadable("number")
    return float(compact)


def _date(typed: str, _language: str) -> str:
    day_first = _DAY_FIRST_DATE.fullmatch(typed)
    if day_first:
        day, month, year = day_first.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return typed


_CONVERTERS: dict[FieldType, Callable[[str, str], Any]] = {
    FieldType.INTEGER: _integer,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
}


def typed_value(definition: FieldDefinition, raw: str, language: str, *, answer: bool) -> Any:
    """The value of a catalogue field from what the form sent; None when nothing was given."""
    typed = raw.strip()
    if definition.type is FieldType.BOOLEAN:
        return {"yes": True, "no": False}.get(typed) if answer else typed == "yes"
    if not typed:
        return None
    convert = _CONVERTERS.get(definition.type)
    return convert(typed, language) if convert else typed


def form_data(service: ServiceDefinition, form: FormData, checked: CheckedForm, *, answer: bool) -> dict[str, Any]:
    """The catalogue fields given, converted to their types; conversion failures are reported beside the field."""
    data: dict[str, Any] = {}
    for definition in service.fields:
        name = f"data-{definition.name}"
        try:
            value = typed_value(definition, text(form, name), checked.t.language, answer=answer)
        except Unreadable as unreadable:
            checked.errors.add(name, say(checked.t, unreadable.problem, checked.fields[name].label))
            continue
        if value is not None:
            data[definition.name] = value
    return data


def compact(typed: str, *, dots: bool = False) -> str:
    """A number people type in groups (a NIK, a phone number) without its spaces and dashes; with ``dots``, without
    its dots too (an NPWP is written ``01.234.567.8-901.000``)."""
    return re.sub(r"[\s.-]" if dots else r"[\s-]", "", typed)


def path_to_name(*, documents: Sequence[str], renames: Mapping[str, str]) -> Callable[[str], str | None]:
    """How a use case's field paths (``applicant/nik``, ``data/kbli``, ``documents/0/sha256``) name form fields."""

    def name_of(path: str) -> str | None:
        head, _, rest = path.partition("/")
        first = rest.split("/", 1)[0]
        if head in renames and not (first and head in {"applicant", "answers"}):
            return renames[head]
        if head == "applicant" and first == "business":
            detail = rest.split("/")[1:2]  # applicant/business/nib names business-nib; the bare business, its kind
            return f"business-{detail[0]}" if detail else "applicant-kind"
        if head == "applicant" and first:
            return f"applicant-{first}"
        if head in {"data", "answers"} and first:
            return f"data-{first}"
        if head == "documents" and first.isdigit() and int(first) < len(documents):
            return f"document-{documents[int(first)]}"
        return None

    return name_of
