"""The citizen's web pages (server-rendered, work without JavaScript), in Indonesian and English: choose a service,
apply with the form the catalogue describes, follow the application, answer an agency's question. They call the
same use cases as the JSON API; errors are shown GOV.UK-style, in a summary linking to each field and beside it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from satupintu.common.catalogue import Catalogue, DocumentRequirement, FieldDefinition, FieldType, ServiceDefinition
from satupintu.common.lockout import LockedOut
from satupintu.common.problems import field_path, problem_response
from satupintu.common.uploads import Refusal
from satupintu.intake.documents import (
    DocumentService,
    DocumentTooLarge,
    EmptyDocument,
    UnsupportedDocumentType,
    read_upload,
)
from satupintu.intake.domain import (
    ApplicationNotFound,
    IdempotencyKeyReused,
    InformationAlreadyProvided,
    InvalidApplication,
    NoInformationRequested,
    NotTheApplicant,
    request_fingerprint,
)
from satupintu.intake.forms import form_model, partial_form_model
from satupintu.intake.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, language_or_default, mid_sentence
from satupintu.intake.i18n import other_language as the_other_language
from satupintu.intake.schemas import ApplicationCreate, ApplicationStatus, InformationAnswer, TaskStatus
from satupintu.intake.services import ApplicationService
from satupintu.intake.tracking import TrackingService

router = APIRouter(tags=["pages"], include_in_schema=False)

LANGUAGE_COOKIE = "lang"
_LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
_MAX_FORM_FIELDS = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUBMISSION_KEY = re.compile(r"page-[A-Za-z0-9_-]{16,64}")
_DIGITS_ONLY_PATTERN = re.compile(r"(?:\[0-9\]|\\d)(?:\{\d+(?:,\d*)?\}|\+)?")
_GROUPED_INTEGER = re.compile(r"[+-]?\d{1,3}(?:[.,]\d{3})+")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_FILE_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg,.jpeg", "image/png": ".png"}

# Pages carry no script and load nothing from elsewhere; tracking codes in addresses stay on this site.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# ----------------------------------------------------------------------------------------------------------------------
# What templates show


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


# ----------------------------------------------------------------------------------------------------------------------
# Rendering


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("satupintu.intake", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _language(request: Request) -> tuple[str, bool]:
    """The page language (``?lang=`` first, then the cookie, then Indonesian) and whether ``?lang=`` chose it."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return str(asked), True
    return language_or_default(request.cookies.get(LANGUAGE_COOKIE)), False


def _translator(request: Request) -> Translator:
    return Translator(_language(request)[0])


def _switch_url(request: Request, language: str) -> str:
    query = [(key, value) for key, value in request.query_params.multi_items() if key not in {"lang", "answered"}]
    return f"{request.url.path}?{urlencode([*query, ('lang', language)])}"


def _page(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    summary: Sequence[SummaryItem] = (),
    **context: Any,
) -> HTMLResponse:
    language, chosen = _language(request)
    other = the_other_language(language)
    html = (
        _templates()
        .get_template(template)
        .render(
            t=Translator(language),
            lang=language,
            mall_url=request.app.state.settings.mall_public_url.rstrip("/"),
            title=title,
            summary=summary,
            switch_url=_switch_url(request, other),
            switch_language=other,
            switch_label=LANGUAGE_NAMES[other],
            form_action_query=urlencode({"lang": language}),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=_PAGE_HEADERS)
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=_LANGUAGE_COOKIE_SECONDS, httponly=True, samesite="lax", path="/"
        )
    return response


def _redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303, headers=_PAGE_HEADERS)
    language, chosen = _language(request)
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=_LANGUAGE_COOKIE_SECONDS, httponly=True, samesite="lax", path="/"
        )
    return response


def _not_found(request: Request, body: str, title_key: str = "not_found_title") -> HTMLResponse:
    t = _translator(request)
    return _page(
        request, "notice.html", title=t(title_key), status_code=404, body=body, links=[("/", t("nav_services"))]
    )


@router.get("/static/site.css")
async def stylesheet() -> Response:
    """The pages' one stylesheet."""
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(_stylesheet(), media_type="text/css", headers=headers)


@cache
def _stylesheet() -> str:
    return files("satupintu.intake").joinpath("static/site.css").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------------------------------
# Error messages a person reads


def _nik_problem(detail: str) -> str:
    if "future" in detail:
        return "nik_future"
    if "not a real date" in detail:
        return "nik_birth_date"
    if "0000" in detail:
        return "nik_serial"
    if "cannot be 00" in detail:
        return "nik_zero_region"
    return "nik"


def _say(t: Translator, problem: str, label: str, **values: object) -> str:
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


@dataclass(frozen=True)
class Invalidity:
    """One validation error, whoever found it: its type, pydantic's English detail and its context."""

    error_type: str
    detail: str
    context: Mapping[str, Any] = field(default_factory=dict)


def _value_problem(form_field: FormField, invalidity: Invalidity, definition: FieldDefinition | None) -> str:
    """The message for an error that its type alone does not explain (a custom validator's)."""
    cause = str(invalidity.context.get("error", invalidity.detail))
    is_date = definition is not None and definition.type is FieldType.DATE
    checks = (
        (invalidity.error_type.startswith("date") or is_date, "date"),
        (form_field.name.endswith("-nik"), _nik_problem(cause)),
        (form_field.name == "applicant-email", "email"),
        (form_field.name == "applicant-phone", "phone"),
        ("must not be empty" in cause, "required"),
        ("control characters" in cause, "control"),
    )
    return next((problem for applies, problem in checks if applies), "invalid")


def _field_message(
    t: Translator, form_field: FormField, invalidity: Invalidity, definition: FieldDefinition | None
) -> str:
    """What a person reads about a validation error of ``form_field``: said in their language, not pydantic's."""
    problem = _PROBLEMS.get(invalidity.error_type) or _value_problem(form_field, invalidity, definition)
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
    if problem.startswith(("nik", "email", "phone")):
        return t(f"error.{problem}")
    return _say(t, problem, form_field.label, **values)


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
            form_field.name, _field_message(self.t, form_field, invalidity, self.definitions.get(form_field.name))
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


# ----------------------------------------------------------------------------------------------------------------------
# The form's fields, from the catalogue


def _text(form: FormData | None, name: str) -> str:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""


def _nik_field(name: str, t: Translator, form: FormData | None, hint: str) -> FormField:
    return FormField(
        name,
        t("nik_label"),
        hint=hint,
        value=_text(form, name),
        autocomplete="off",
        inputmode="numeric",
        spellcheck=False,
    )


def _applicant_fields(t: Translator, form: FormData | None) -> list[FormField]:
    return [
        _nik_field("applicant-nik", t, form, t("nik_hint")),
        FormField(
            "applicant-name",
            t("name_label"),
            hint=t("name_hint"),
            value=_text(form, "applicant-name"),
            autocomplete="name",
            spellcheck=False,
        ),
        FormField(
            "applicant-email",
            t("email_label"),
            input_type="email",
            hint=t("email_hint"),
            value=_text(form, "applicant-email"),
            required=False,
            autocomplete="email",
            spellcheck=False,
        ),
        FormField(
            "applicant-phone",
            t("phone_label"),
            input_type="tel",
            hint=t("phone_hint"),
            value=_text(form, "applicant-phone"),
            required=False,
            autocomplete="tel",
        ),
        FormField(
            "applicant-language",
            t("language_label"),
            kind="radios",
            hint=t("language_hint"),
            value=_text(form, "applicant-language") if form is not None else t.language,
            options=[Option(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        ),
    ]


def _option_label(value: str) -> str:
    return value[:1].upper() + value[1:]


def _data_field(definition: FieldDefinition, t: Translator, form: FormData | None, *, answer: bool) -> FormField:
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
        value=_text(form, name),
        required=definition.required and not answer,
        **shape,
    )


def _accept(requirement: DocumentRequirement) -> str:
    return ",".join(
        part for media_type in requirement.media_types for part in (media_type, _FILE_EXTENSIONS.get(media_type, ""))
    ).strip(",")


def _document_field(
    requirement: DocumentRequirement, t: Translator, max_bytes: int, kept: KeptDocument | None, *, answer: bool
) -> FormField:
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


# ----------------------------------------------------------------------------------------------------------------------
# Reading what was typed


class _Unreadable(ValueError):
    """A typed value that is not of its field's type; ``problem`` names the message to show."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _integer(text: str, _language: str) -> int:
    compact = text.replace(" ", "")
    if _GROUPED_INTEGER.fullmatch(compact):
        compact = compact.replace(".", "").replace(",", "")
    if not _INTEGER.fullmatch(compact):
        raise _Unreadable("integer")
    return int(compact)


def _number(text: str, language: str) -> float:
    compact = text.replace(" ", "")
    # Indonesian writes 1.250,5 and English 1,250.5; a lone comma is a decimal comma either way.
    grouping, decimal = (".", ",") if language == "id" else (",", ".")
    if re.fullmatch(rf"[+-]?\d{{1,3}}(?:\{grouping}\d{{3}})+(?:\{decimal}\d+)?", compact):
        compact = compact.replace(grouping, "")
    compact = compact.replace(",", ".")
    if not _DECIMAL.fullmatch(compact):
        raise _Unreadable("number")
    return float(compact)


def _date(text: str, _language: str) -> str:
    day_first = _DAY_FIRST_DATE.fullmatch(text)
    if day_first:
        day, month, year = day_first.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


_CONVERTERS: dict[FieldType, Callable[[str, str], Any]] = {
    FieldType.INTEGER: _integer,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
}


def _typed_value(definition: FieldDefinition, raw: str, language: str, *, answer: bool) -> Any:
    """The value of a catalogue field from what the form sent; None when nothing was given."""
    text = raw.strip()
    if definition.type is FieldType.BOOLEAN:
        return {"yes": True, "no": False}.get(text) if answer else text == "yes"
    if not text:
        return None
    convert = _CONVERTERS.get(definition.type)
    return convert(text, language) if convert else text


def _form_data(service: ServiceDefinition, form: FormData, checked: CheckedForm, *, answer: bool) -> dict[str, Any]:
    """The catalogue fields given, converted to their types; conversion failures are reported beside the field."""
    data: dict[str, Any] = {}
    for definition in service.fields:
        name = f"data-{definition.name}"
        try:
            value = _typed_value(definition, _text(form, name), checked.t.language, answer=answer)
        except _Unreadable as unreadable:
            checked.errors.add(name, _say(checked.t, unreadable.problem, checked.fields[name].label))
            continue
        if value is not None:
            data[definition.name] = value
    return data


def _compact(text: str) -> str:
    """A number people type in groups (a NIK, a phone number) without its spaces and dashes."""
    return re.sub(r"[\s-]", "", text)


async def _store_upload(
    requirement: DocumentRequirement, upload: UploadFile, documents: DocumentService, t: Translator
) -> KeptDocument | str:
    """Store a chosen file if its content meets ``requirement``: the document kept, or the message saying why not
    (a file refused is not stored)."""
    label = requirement.label.in_language(t.language)
    max_bytes = min(requirement.max_bytes, documents.max_bytes)
    too_large = _say(t, "file_too_large", label, size=t.size(max_bytes))
    wrong_type = _say(t, "file_type", label, types=t.media_types(requirement.media_types))
    try:
        content = await read_upload(upload, max_bytes)
        if documents.check(upload.content_type, content) not in requirement.media_types:
            return wrong_type
        record = await documents.upload(upload.filename or "", upload.content_type, content)
    except DocumentTooLarge:
        return too_large
    except UnsupportedDocumentType:
        return wrong_type
    except EmptyDocument:
        return _say(t, "file_empty", label)
    return KeptDocument(record.sha256, record.original_name or upload.filename or "")


async def _take_documents(
    service: ServiceDefinition, form: FormData, documents: DocumentService, t: Translator, errors: FormErrors
) -> dict[str, KeptDocument]:
    """Store the files chosen, and keep the ones uploaded with an earlier try of this form (sent back by hash)."""
    kept: dict[str, KeptDocument] = {}
    earlier: dict[str, str] = {}
    for requirement in service.documents:
        name = f"document-{requirement.name}"
        upload = form.get(name)
        if isinstance(upload, UploadFile) and upload.filename:
            stored = await _store_upload(requirement, upload, documents, t)
            if isinstance(stored, KeptDocument):
                kept[requirement.name] = stored
            else:
                errors.add(name, stored)
        elif _SHA256.fullmatch(previous := _text(form, f"{name}-kept")):
            earlier[requirement.name] = previous
    known = await documents.describe(list(earlier.values())) if earlier else {}
    for requirement in service.documents:
        record = known.get(earlier.get(requirement.name, ""))
        if record is not None and record.media_type in requirement.media_types:
            kept[requirement.name] = KeptDocument(record.sha256, record.original_name)
    return kept


def _require_documents(
    service: ServiceDefinition, kept: Mapping[str, KeptDocument], t: Translator, errors: FormErrors
) -> None:
    for requirement in service.documents:
        name = f"document-{requirement.name}"
        if requirement.required and requirement.name not in kept and name not in errors.by_field:
            errors.add(name, _say(t, "upload", requirement.label.in_language(t.language)))


def _read_form(request: Request) -> AbstractAsyncContextManager[FormData]:
    """The submitted form, its files closed (their temporary files gone) when the block ends, however it ends. The
    body's size was bounded before it was read (``satupintu.intake.uploads``)."""
    return request.form(max_files=_MAX_FORM_FIELDS, max_fields=_MAX_FORM_FIELDS)


_REFUSED_UPLOAD_TEXTS = {
    "too-large": ("too_large_title", "too_large_body"),
    "longer-than-declared": ("too_large_title", "too_large_body"),
    "volume": ("upload_volume_title", "upload_volume_body"),
}


def refused_upload(request: Request, refusal: Refusal) -> Response:
    """A refused form upload in the page's language: a page for a browser (it asks for HTML), else problem+json."""
    t = _translator(request)
    title_key, body_key = _REFUSED_UPLOAD_TEXTS.get(refusal.reason, ("busy_title", "busy_body"))
    if "text/html" in request.headers.get("accept", ""):
        response = _page(
            request, "notice.html", title=t(title_key), status_code=refusal.status, body=t(body_key), links=[]
        )
        response.headers.update(refusal.headers)
        return response
    return problem_response(
        request, refusal.status, refusal.problem_type, t(body_key), title=t(title_key), headers=dict(refusal.headers)
    )


def _path_to_name(*, documents: Sequence[str], renames: Mapping[str, str]) -> Callable[[str], str | None]:
    """How a use case's field paths (``applicant/nik``, ``data/kbli``, ``documents/0/sha256``) name form fields."""

    def name_of(path: str) -> str | None:
        head, _, rest = path.partition("/")
        first = rest.split("/", 1)[0]
        if head in renames and not (first and head in {"applicant", "answers"}):
            return renames[head]
        if head == "applicant" and first:
            return f"applicant-{first}"
        if head in {"data", "answers"} and first:
            return f"data-{first}"
        if head == "documents" and first.isdigit() and int(first) < len(documents):
            return f"document-{documents[int(first)]}"
        return None

    return name_of


# ----------------------------------------------------------------------------------------------------------------------
# The services behind the pages


def _catalogue(request: Request) -> Catalogue:
    catalogue: Catalogue = request.app.state.catalogue
    return catalogue


def _document_service(request: Request) -> DocumentService:
    service: DocumentService = request.app.state.document_service
    return service


def _application_service(request: Request) -> ApplicationService:
    service: ApplicationService = request.app.state.application_service
    return service


def _tracking_service(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking_service
    return service


def _agency_name(catalogue: Catalogue, code: str | None, language: str) -> str:
    if code is None:
        return ""
    agency = catalogue.agency(code)
    return agency.name.in_language(language) if agency else code


def _sla(t: Translator, days: int) -> str:
    return t("service_sla_one") if days == 1 else t("service_sla", days=days)


# ----------------------------------------------------------------------------------------------------------------------
# Choosing a service


@router.get("/")
async def choose_service(request: Request) -> HTMLResponse:
    """Every service the mall offers, with its service standard, each linking to its form."""
    t = _translator(request)
    catalogue = _catalogue(request)
    services = [
        {
            "code": service.code,
            "name": service.name.in_language(t.language),
            "description": service.description.in_language(t.language),
            "agency": _agency_name(catalogue, service.agency, t.language),
            "sla": _sla(t, service.sla_working_days),
            "cost": service.cost.in_language(t.language),
        }
        for service in catalogue.services
    ]
    return _page(request, "services.html", title=t("services_title"), services=services)


# ----------------------------------------------------------------------------------------------------------------------
# Applying


def _new_submission_key() -> str:
    return f"page-{secrets.token_urlsafe(18)}"


def _apply_fields(
    service: ServiceDefinition,
    t: Translator,
    form: FormData | None,
    *,
    max_bytes: int,
    kept: Mapping[str, KeptDocument],
) -> dict[str, list[FormField]]:
    consent = FormField(
        "consent-reuse",
        t("consent_label"),
        kind="checkbox",
        hint=t("consent_hint"),
        required=False,
        value="yes" if _text(form, "consent-reuse") == "yes" else "",
    )
    return {
        "applicant": _applicant_fields(t, form),
        "data": [_data_field(definition, t, form, answer=False) for definition in service.fields],
        "documents": [
            _document_field(requirement, t, max_bytes, kept.get(requirement.name), answer=False)
            for requirement in service.documents
        ],
        "consent": [consent],
    }


def _apply_page(
    request: Request,
    service: ServiceDefinition,
    sections: dict[str, list[FormField]],
    submission_key: str,
    *,
    summary: Sequence[SummaryItem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    t = _translator(request)
    return _page(
        request,
        "apply.html",
        title=t("apply_title", service=service.name.in_language(t.language)),
        status_code=status_code,
        summary=summary,
        service={
            "code": service.code,
            "name": service.name.in_language(t.language),
            "description": service.description.in_language(t.language),
            "product": service.product.in_language(t.language),
            "cost": service.cost.in_language(t.language),
            "sla": _sla(t, service.sla_working_days),
        },
        sections=sections,
        submission_key=submission_key,
    )


@router.get("/apply/{code}")
async def application_form(code: str, request: Request) -> HTMLResponse:
    """The service's form: the applicant, the catalogue's fields, a file per document, and consent."""
    t = _translator(request)
    service = _catalogue(request).service(code)
    if service is None:
        return _not_found(request, t("unknown_service_body", code=code))
    sections = _apply_fields(service, t, None, max_bytes=_document_service(request).max_bytes, kept={})
    return _apply_page(request, service, sections, _new_submission_key())


def _application(
    service: ServiceDefinition, form: FormData, checked: CheckedForm, kept: Mapping[str, KeptDocument]
) -> ApplicationCreate | None:
    """The application the form describes, every error in it reported; None when it cannot be built."""
    data = _form_data(service, form, checked, answer=False)
    applicant = {
        "nik": _compact(_text(form, "applicant-nik")),
        "name": _text(form, "applicant-name").strip(),
        "email": _text(form, "applicant-email").strip() or None,
        "phone": _compact(_text(form, "applicant-phone")) or None,
        "language": _text(form, "applicant-language"),
    }
    payload = {
        "service_code": service.code,
        "applicant": {key: value for key, value in applicant.items() if value != ""},
        "data": data,
        "documents": [{"name": name, "sha256": document.sha256} for name, document in kept.items()],
        "consent_reuse": _text(form, "consent-reuse") == "yes",
    }
    application: ApplicationCreate | None = None
    try:
        application = ApplicationCreate.model_validate(payload)
    except ValidationError as invalid:
        checked.report_validation(invalid)
    # The use case checks the form only once the applicant is valid: check it here too, to show every error at once.
    try:
        form_model(service).model_validate(data)
    except ValidationError as invalid:
        checked.report_validation(invalid, prefix=("data",))
    return application


@router.post("/apply/{code}")
async def submit_application(code: str, request: Request) -> Response:
    """Check the form, store the files, submit the application; show every error at once, or the tracking code."""
    t = _translator(request)
    service = _catalogue(request).service(code)
    if service is None:
        return _not_found(request, t("unknown_service_body", code=code))
    async with _read_form(request) as form:
        return await _apply(request, service, form)


async def _apply(request: Request, service: ServiceDefinition, form: FormData) -> Response:
    t = _translator(request)
    documents = _document_service(request)
    errors = FormErrors()
    kept = await _take_documents(service, form, documents, t, errors)
    _require_documents(service, kept, t, errors)
    sections = _apply_fields(service, t, form, max_bytes=documents.max_bytes, kept=kept)
    checked = CheckedForm(
        t,
        fields={form_field.name: form_field for section in sections.values() for form_field in section},
        definitions={f"data-{definition.name}": definition for definition in service.fields},
        name_of=_path_to_name(documents=list(kept), renames={"consent_reuse": "consent-reuse"}),
        errors=errors,
    )
    application = _application(service, form, checked, kept)
    submission_key = _text(form, "submission-key")
    if not _SUBMISSION_KEY.fullmatch(submission_key):
        submission_key = _new_submission_key()
    if application is not None and not errors:
        try:
            submission = await _application_service(request).submit(
                application,
                idempotency_key=submission_key,
                fingerprint=request_fingerprint(application.model_dump(mode="json")),
            )
        except InvalidApplication as refused:
            checked.report_refusal(refused)
        except IdempotencyKeyReused:
            return _page(
                request,
                "notice.html",
                title=t("already_submitted_title"),
                status_code=409,
                body=t("already_submitted_body"),
                links=[(f"/apply/{service.code}", t("start_again"))],
            )
        else:
            return _redirect(request, f"/track/{submission.accepted.tracking_code}/confirmation")
    summary = errors.place(checked.fields.values())
    return _apply_page(request, service, sections, submission_key, summary=summary, status_code=422)


# ----------------------------------------------------------------------------------------------------------------------
# Following an application


def _normalized(tracking_code: str) -> str:
    return tracking_code.strip().upper()


async def _status(request: Request, tracking_code: str) -> ApplicationStatus | None:
    try:
        return await _tracking_service(request).status(_normalized(tracking_code))
    except ApplicationNotFound:
        return None


def _unknown_code(request: Request, tracking_code: str) -> HTMLResponse:
    t = _translator(request)
    return _page(
        request,
        "notice.html",
        title=t("unknown_code_title"),
        status_code=404,
        body=t("unknown_code_body", code=tracking_code),
        links=[("/track", t("track_title"))],
    )


@router.get("/track/{tracking_code}/confirmation")
async def confirmation(tracking_code: str, request: Request) -> HTMLResponse:
    """The tracking code of the application just sent, in large type, and where to follow it."""
    t = _translator(request)
    status = await _status(request, tracking_code)
    if status is None:
        return _unknown_code(request, tracking_code)
    service = _catalogue(request).service(status.service_code)
    return _page(
        request,
        "confirmation.html",
        title=t("confirmation_title"),
        tracking_code=status.tracking_code,
        next_steps=t(
            "confirmation_next_body",
            service=service.name.in_language(t.language) if service else status.service_code,
            days=service.sla_working_days if service else "",
        ),
    )


@router.get("/track")
async def track(request: Request, code: str | None = None) -> Response:
    """Enter a tracking code; a known one leads to its status page."""
    t = _translator(request)
    tracking_field = FormField(
        "code",
        t("track_code_label"),
        hint=t("track_code_hint"),
        value=code or "",
        autocomplete="off",
        spellcheck=False,
    )
    if code is None:
        return _page(request, "track.html", title=t("track_title"), field=tracking_field)
    if not code.strip():
        tracking_field.error, status_code = t("error.tracking_code"), 422
    elif await _status(request, code) is None:
        tracking_field.error, status_code = t("error.unknown_code"), 404
    else:
        return _redirect(request, f"/track/{_normalized(code)}")
    return _page(
        request,
        "track.html",
        title=t("track_title"),
        status_code=status_code,
        summary=[SummaryItem(tracking_field.error, f"#{tracking_field.id}")],
        field=tracking_field,
    )


def _action(service: ServiceDefinition | None, task: TaskStatus, language: str) -> str:
    if service is None or task.stage_index >= len(service.stages):
        return ""
    stage = service.stages[task.stage_index]
    return next((item.action.in_language(language) for item in stage.tasks if item.agency == task.agency), "")


def _timeline(status: ApplicationStatus, catalogue: Catalogue, t: Translator) -> list[dict[str, Any]]:
    """What happened, newest first, each said in the citizen's language."""
    entries: list[dict[str, Any]] = [
        {"at": t.moment(status.submitted_at), "text": t("event.application.submitted"), "lines": []}
    ]
    for item in status.timeline:
        detail = item.detail
        agency = _agency_name(catalogue, item.agency, t.language)
        key = f"event.{item.kind}"
        lines: list[str] = []
        match item.kind:
            case "application.stage_started":
                names = [_agency_name(catalogue, code, t.language) for code in detail.get("agencies", [])]
                text = t(
                    key,
                    number=int(detail.get("stage_index", 0)) + 1,
                    count=status.stage_count or "?",
                    agencies=", ".join(names),
                )
            case "application.task_updated":
                text = t(key, agency=agency, state=t.task_state(str(detail.get("state", ""))))
            case "application.information_requested":
                text, lines = t(key, agency=agency), [str(question) for question in detail.get("questions", [])]
            case "application.rejected":
                text = t(key, agency=agency)
                lines = [str(detail["reason"])] if detail.get("reason") else []
            case _ if t.has(key):
                text = t(key, agency=agency)
            case _:
                text = t("event.unknown")
        entries.append({"at": t.moment(item.at), "text": text, "lines": lines})
    return entries[::-1]


def _outputs(outputs: Mapping[str, Any], catalogue: Catalogue, language: str) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for agency, produced in outputs.items():
        items = produced.items() if isinstance(produced, Mapping) else [("", produced)]
        shown.append(
            {
                "agency": _agency_name(catalogue, agency, language),
                "items": [(str(key).replace("_", " ").capitalize(), str(value)) for key, value in items],
            }
        )
    return shown


@router.get("/track/{tracking_code}")
async def status_page(tracking_code: str, request: Request, answered: str | None = None) -> HTMLResponse:
    """The application's state, each agency's task and due date, outputs or the rejection reason, and its history."""
    t = _translator(request)
    status = await _status(request, tracking_code)
    if status is None:
        return _unknown_code(request, tracking_code)
    catalogue = _catalogue(request)
    service = catalogue.service(status.service_code)
    tasks = [
        {
            "agency": _agency_name(catalogue, task.agency, t.language),
            "action": _action(service, task, t.language),
            "stage": t("status_stage", number=task.stage_index + 1, count=status.stage_count or "?"),
            "state": task.state,
            "state_label": t.task_state(task.state),
            "due": t.date(task.due_at) if task.due_at else "",
            "questions": task.questions,
        }
        for task in status.tasks
    ]
    return _page(
        request,
        "status.html",
        title=t("status_title"),
        answered=answered is not None,
        application={
            "tracking_code": status.tracking_code,
            "service": status.service_name.get(t.language) or status.service_name.get("id", status.service_code),
            "state": status.status,
            "state_label": t.application_state(status.status),
            "applicant": f"{status.applicant_initials} ({status.applicant_nik})",
            "submitted_at": t.moment(status.submitted_at),
            "updated_at": t.moment(status.updated_at),
            "due_at": t.date(status.due_at) if status.due_at else "",
            "sla_breached": status.sla_breached,
            "reason": status.reason,
        },
        tasks=tasks,
        asked=any(task.questions for task in status.tasks),
        outputs=_outputs(status.outputs, catalogue, t.language) if status.status == "completed" else [],
        timeline=_timeline(status, catalogue, t),
    )


# ----------------------------------------------------------------------------------------------------------------------
# Answering an agency's question


def _answer_fields(
    service: ServiceDefinition,
    asking: Sequence[TaskStatus],
    t: Translator,
    form: FormData | None,
    *,
    max_bytes: int,
    kept: Mapping[str, KeptDocument],
    catalogue: Catalogue,
) -> dict[str, list[FormField]]:
    identity = [_nik_field("answer-nik", t, form, t("answer_nik_hint"))]
    if len(asking) > 1:
        options = [Option(task.agency, _agency_name(catalogue, task.agency, t.language)) for task in asking]
        task_choice = FormField(
            "answer-agency", t("answer_task_label"), kind="radios", value=_text(form, "answer-agency"), options=options
        )
        identity.insert(0, task_choice)
    message = FormField(
        "answer-message",
        t("answer_message_label"),
        kind="textarea",
        required=False,
        value=_text(form, "answer-message"),
    )
    return {
        "identity": identity,
        "message": [message],
        "data": [_data_field(definition, t, form, answer=True) for definition in service.fields],
        "documents": [
            _document_field(requirement, t, max_bytes, kept.get(requirement.name), answer=True)
            for requirement in service.documents
        ],
    }


def _answer_page(
    request: Request,
    status: ApplicationStatus,
    asking: Sequence[TaskStatus],
    sections: dict[str, list[FormField]],
    *,
    summary: Sequence[SummaryItem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    t = _translator(request)
    catalogue = _catalogue(request)
    questions = [
        {
            "agency": t("answer_asked_by", agency=_agency_name(catalogue, task.agency, t.language)),
            "questions": task.questions,
        }
        for task in asking
    ]
    return _page(
        request,
        "answer.html",
        title=t("answer_title"),
        status_code=status_code,
        summary=summary,
        tracking_code=status.tracking_code,
        questions=questions,
        sections=sections,
        agency=asking[0].agency if len(asking) == 1 else None,
    )


def _nothing_asked(request: Request, tracking_code: str, body_key: str, status_code: int) -> HTMLResponse:
    t = _translator(request)
    return _page(
        request,
        "notice.html",
        title=t("answer_nothing_asked_title"),
        status_code=status_code,
        body=t(body_key),
        links=[(f"/track/{tracking_code}", t("back_to_status"))],
    )


@router.get("/track/{tracking_code}/answer")
async def answer_form(tracking_code: str, request: Request) -> HTMLResponse:
    """The agency's questions, and a form to answer them: the applicant's NIK, changed fields, a message, files."""
    t = _translator(request)
    status = await _status(request, tracking_code)
    if status is None:
        return _unknown_code(request, tracking_code)
    catalogue = _catalogue(request)
    service = catalogue.service(status.service_code)
    asking = [task for task in status.tasks if task.questions]
    if service is None or not asking:
        return _nothing_asked(request, status.tracking_code, "answer_nothing_asked_body", 200)
    sections = _answer_fields(
        service, asking, t, None, max_bytes=_document_service(request).max_bytes, kept={}, catalogue=catalogue
    )
    return _answer_page(request, status, asking, sections)


def _answer(
    service: ServiceDefinition,
    asking: Sequence[TaskStatus],
    form: FormData,
    checked: CheckedForm,
    kept: Mapping[str, KeptDocument],
) -> InformationAnswer | None:
    """The answer the form describes, every error in it reported; None when it cannot be built."""
    answers = _form_data(service, form, checked, answer=True)
    agency: str | None = asking[0].agency
    if len(asking) > 1:
        chosen = _text(form, "answer-agency")
        agency = chosen if chosen in {task.agency for task in asking} else None
        if agency is None:
            checked.errors.add("answer-agency", checked.t("error.task"))
    message = _text(form, "answer-message").strip()
    nik = _compact(_text(form, "answer-nik"))
    payload: dict[str, Any] = {
        "agency": agency,
        "answers": answers,
        "message": message or None,
        "documents": [{"name": name, "sha256": document.sha256} for name, document in kept.items()],
        **({"nik": nik} if nik else {}),
    }
    answer: InformationAnswer | None = None
    try:
        answer = InformationAnswer.model_validate(payload)
    except ValidationError as invalid:
        checked.report_validation(invalid)
    try:
        partial_form_model(service).model_validate(answers)
    except ValidationError as invalid:
        checked.report_validation(invalid, prefix=("answers",))
    if not (answers or message or kept):
        checked.errors.add("answer-message", checked.t("error.answer_missing"))
    return answer


@router.post("/track/{tracking_code}/answer")
async def submit_answer(tracking_code: str, request: Request) -> Response:
    """Pass the applicant's answer to the agency that asked; show every error at once, or the status page."""
    status = await _status(request, tracking_code)
    if status is None:
        return _unknown_code(request, tracking_code)
    catalogue = _catalogue(request)
    service = catalogue.service(status.service_code)
    asking = [task for task in status.tasks if task.questions]
    if service is None or not asking:
        return _nothing_asked(request, status.tracking_code, "answer_nothing_asked_body", 409)
    async with _read_form(request) as form:
        return await _answer_with(request, status, service, asking, form)


async def _answer_with(
    request: Request, status: ApplicationStatus, service: ServiceDefinition, asking: list[TaskStatus], form: FormData
) -> Response:
    t = _translator(request)
    catalogue = _catalogue(request)
    documents = _document_service(request)
    errors = FormErrors()
    kept = await _take_documents(service, form, documents, t, errors)
    sections = _answer_fields(service, asking, t, form, max_bytes=documents.max_bytes, kept=kept, catalogue=catalogue)
    checked = CheckedForm(
        t,
        fields={form_field.name: form_field for section in sections.values() for form_field in section},
        definitions={f"data-{definition.name}": definition for definition in service.fields},
        name_of=_path_to_name(
            documents=list(kept),
            renames={
                "nik": "answer-nik",
                "agency": "answer-agency",
                "message": "answer-message",
                "answers": "answer-message",
            },
        ),
        errors=errors,
    )
    answer = _answer(service, asking, form, checked, kept)
    status_code = 422
    if answer is not None and not errors:
        try:
            await _tracking_service(request).provide_information(status.tracking_code, answer)
        except NotTheApplicant:
            errors.add("answer-nik", t("error.not_the_applicant"))
            status_code = 403
        except LockedOut as locked:
            errors.add("answer-nik", t("error.locked", seconds=locked.retry_after_seconds))
            summary = errors.place(checked.fields.values())
            page = _answer_page(request, status, asking, sections, summary=summary, status_code=429)
            page.headers["Retry-After"] = str(locked.retry_after_seconds)
            return page
        except InvalidApplication as refused:
            checked.report_refusal(refused)
        except (NoInformationRequested, InformationAlreadyProvided, ApplicationNotFound) as gone:
            body_key = (
                "answer_already_body" if isinstance(gone, InformationAlreadyProvided) else "answer_nothing_asked_body"
            )
            return _nothing_asked(request, status.tracking_code, body_key, 409)
        else:
            return _redirect(request, f"/track/{status.tracking_code}?answered=1")
    summary = errors.place(checked.fields.values())
    return _answer_page(request, status, asking, sections, summary=summary, status_code=status_code)
