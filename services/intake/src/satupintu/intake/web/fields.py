"""What a form shows: its fields (label, hint, the value typed, the error beside it) built from the catalogue, the
error summary, and the documents kept across a re-display."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.datastructures import FormData

from satupintu.common.catalogue import DocumentRequirement, FieldDefinition, FieldType
from satupintu.common.web.translator import LANGUAGE_NAMES, LANGUAGES
from satupintu.intake.i18n import Translator

_DIGITS_ONLY_PATTERN = re.compile(r"(?:\[0-9\]|\\d)(?:\{\d+(?:,\d*)?\}|\+)?")
_FILE_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg,.jpeg", "image/png": ".png"}


@dataclass(frozen=True)
class Option:
    """One choice of a radio group or a select."""

    value: str
    label: str


@dataclass
class FormField:
    """One field as the page shows it: its label, hint, the value typed, and the error beside it."""

    name: str
    label: str
    kind: Literal["input", "radios", "checkbox", "select", "file", "textarea"] = "input"
    input_type: str = "text"
    hint: str | None = None
    value: str = ""
    required: bool = True
    options: Sequence[Option] = ()
    error: str | None = None
    autocomplete: str | None = None
    inputmode: str | None = None
    spellcheck: bool | None = None
    accept: str | None = None
    kept_filename: str | None = None
    kept_sha256: str | None = None

    @property
    def id(self) -> str:
        """The element id the error summary links to: ``field-<name>``."""
        return f"field-{self.name}"

    @property
    def described_by(self) -> str:
        """Ids of the hint and error that describe the field (``aria-describedby``)."""
        ids = [f"{self.id}-hint"] if self.hint or self.kept_filename else []
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class SummaryItem:
    """An entry of the error summary: the message, linking to its field."""

    message: str
    href: str | None


@dataclass(frozen=True)
class KeptDocument:
    """A document uploaded with this form, kept across a re-display so the citizen need not choose it again."""

    sha256: str
    filename: str


@dataclass
class FormErrors:
    """The errors of a submitted form, one per field (the first found), by the field's form name."""

    by_field: dict[str, str] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)

    def add(self, name: str | None, message: str) -> None:
        """Record ``message`` for the field ``name`` unless it already has one; without a field, in the summary."""
        if name is None:
            self.unplaced.append(message)
        else:
            self.by_field.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.unplaced)

    def place(self, fields: Iterable[FormField]) -> list[SummaryItem]:
        """Put each message beside its field and answer the summary, in the order the fields appear."""
        summary: list[SummaryItem] = []
        placed: set[str] = set()
        for form_field in fields:
            message = self.by_field.get(form_field.name)
            if message is not None:
                form_field.error = message
                placed.add(form_field.name)
                summary.append(SummaryItem(message, f"#{form_field.id}"))
        summary += [SummaryItem(message, None) for name, message in self.by_field.items() if name not in placed]
        summary += [SummaryItem(message, None) for message in self.unplaced]
        return summary


def text(form: FormData | None, name: str) -> str:
    """The text the form sent as ``name``; empty when there is no form, no such field, or a file."""
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""


def nik_field(name: str, t: Translator, form: FormData | None, hint: str) -> FormField:
    """A NIK's field: digits, no autocompletion or spelling."""
    return FormField(
        name,
        t("nik_label"),
        hint=hint,
        value=text(form, name),
        autocomplete="off",
        inputmode="numeric",
        spellcheck=False,
    )


def applicant_fields(t: Translator, form: FormData | None) -> list[FormField]:
    """Who applies: NIK, name, e-mail, phone and the language they are told things in."""
    return [
        nik_field("applicant-nik", t, form, t("nik_hint")),
        FormField(
            "applicant-name",
            t("name_label"),
            hint=t("name_hint"),
            value=text(form, "applicant-name"),
            autocomplete="name",
            spellcheck=False,
        ),
        FormField(
            "applicant-email",
            t("email_label"),
            input_type="email",
            hint=t("email_hint"),
            value=text(form, "applicant-email"),
            required=False,
            autocomplete="email",
            spellcheck=False,
        ),
        FormField(
            "applicant-phone",
            t("phone_label"),
            input_type="tel",
            hint=t("phone_hint"),
            value=text(form, "applicant-phone"),
            required=False,
            autocomplete="tel",
        ),
        FormField(
            "applicant-language",
            t("language_label"),
            kind="radios",
            hint=t("language_hint"),
            value=text(form, "applicant-language") if form is not None else t.language,
            options=[Option(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        ),
    ]


def applicant_kind_field(t: Translator, form: FormData | None) -> FormField:
    """Who applies, where a service takes businesses too: a person for themselves, or a business."""
    return FormField(
        "applicant-kind",
        t("applicant_kind_label"),
        kind="radios",
        hint=t("applicant_kind_hint"),
        value=text(form, "applicant-kind") or "person",
        options=[Option("person", t("applicant_kind_person")), Option("business", t("applicant_kind_business"))],
    )


def business_fields(t: Translator, form: FormData | None) -> list[FormField]:
    """A business applying through a representative: its registered name, NIB and NPWP."""
    return [
        FormField(
            "business-name",
            t("business_name_label"),
            hint=t("business_name_hint"),
            value=text(form, "business-name"),
            autocomplete="organization",
            spellcheck=False,
        ),
        FormField(
            "business-nib",
            t("nib_label"),
            hint=t("nib_hint"),
            value=text(form, "business-nib"),
            autocomplete="off",
            inputmode="numeric",
            spellcheck=False,
        ),
        FormField(
            "business-npwp",
            t("npwp_label"),
            hint=t("npwp_hint"),
            value=text(form, "business-npwp"),
            autocomplete="off",
            inputmode="numeric",
            spellcheck=False,
        ),
    ]


def _option_label(value: str) -> str:
    return value[:1].upper() + value[1:]


def data_field(definition: FieldDefinition, t: Translator, form: FormData | None, *, answer: bool) -> FormField:
    """The form field of a catalogue field; in an answer every field is optional and empty means unchanged."""
    name = f"data-{definition.name}"
    unchanged = [Option("", t("answer_unchanged"))] if answer else []
    shape: dict[str, Any]
    if definition.type is FieldType.ENUM:
        options = [Option(value, _option_label(value)) for value in definition.enum or ()]
        shape = {"kind": "select" if answer else "radios", "options": [*unchanged, *options]}
    elif definition.type is FieldType.BOOLEAN:
        options = [*unchanged, Option("yes", t("yes")), Option("no", t("no"))]
        shape = {"kind": "select", "options": options} if answer else {"kind": "checkbox"}
    elif definition.type is FieldType.DATE:
        shape = {"input_type": "date"}
    elif definition.type is FieldType.INTEGER:
        shape = {"inputmode": "numeric", "spellcheck": False}
    elif definition.type is FieldType.NUMBER:
        shape = {"inputmode": "decimal", "spellcheck": False}
    elif definition.pattern is not None and _DIGITS_ONLY_PATTERN.fullmatch(definition.pattern):
        shape = {"inputmode": "numeric", "spellcheck": False}
    else:
        shape = {}
    return FormField(
        name,
        definition.label.in_language(t.language),
        hint=definition.help.in_language(t.language) if definition.help else None,
        value=text(form, name),
        required=definition.required and not answer,
        **shape,
    )


def _accept(requirement: DocumentRequirement) -> str:
    return ",".join(
        part for media_type in requirement.media_types for part in (media_type, _FILE_EXTENSIONS.get(media_type, ""))
    ).strip(",")


def document_field(
    requirement: DocumentRequirement, t: Translator, max_bytes: int, kept: KeptDocument | None, *, answer: bool
) -> FormField:
    """A document's file field: the types and size it takes, and the file kept from an earlier try."""
    return FormField(
        f"document-{requirement.name}",
        requirement.label.in_language(t.language),
        kind="file",
        hint=t(
            "document_hint",
            types=t.media_types(requirement.media_types),
            size=t.size(min(requirement.max_bytes, max_bytes)),
        ),
        required=requirement.required and not answer,
        accept=_accept(requirement),
        kept_filename=kept.filename if kept else None,
        kept_sha256=kept.sha256 if kept else None,
    )
