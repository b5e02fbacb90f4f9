"""Applying: the service's form (the applicant, the catalogue's fields, a file per document, consent), every error
shown at once, and the tracking code once the application is accepted. Where the service takes businesses, the form
asks who applies: a person, or a business (its name, NIB, NPWP and power of attorney) through a representative,
whose the person fields then are; both sets are on the page, and a person's application ignores the business's. A
citizen signed in with an account finds their NIK and name filled in, and applying for their own NIK with consent
reuses their saved data without a one-time code (decision 0024)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from satupintu.common.catalogue import POWER_OF_ATTORNEY, DocumentRequirement, ServiceDefinition
from satupintu.common.identity import public_nik
from satupintu.common.web.uploads import read_form
from satupintu.intake.api.dependencies import context
from satupintu.intake.citizens import Identified
from satupintu.intake.domain import IdempotencyKeyReused, InvalidApplication, request_fingerprint
from satupintu.intake.forms import form_model
from satupintu.intake.i18n import Translator
from satupintu.intake.schemas import ApplicationCreate
from satupintu.intake.web.account import identified, signed_in
from satupintu.intake.web.documents import require_documents, take_documents
from satupintu.intake.web.fields import (
    FormErrors,
    FormField,
    KeptDocument,
    SummaryItem,
    applicant_fields,
    applicant_kind_field,
    business_fields,
    data_field,
    document_field,
    text,
)
from satupintu.intake.web.forms import FORM_LIMITS, compact, form_data, path_to_name
from satupintu.intake.web.messages import CheckedForm
from satupintu.intake.web.rendering import not_found, page, redirect, sla, translator

router = APIRouter(tags=["pages"], include_in_schema=False)

_SUBMISSION_KEY = re.compile(r"page-[A-Za-z0-9_-]{16,64}")


def _new_submission_key() -> str:
    return f"page-{secrets.token_urlsafe(18)}"


def _applicant_kind(form: FormData) -> str:
    """Who the form says applies: what it chose where the service takes businesses, else a person (a business
    chosen on a form that offers no choice is passed on, for the use case to refuse)."""
    return text(form, "applicant-kind") or "person"


def _requirements(service: ServiceDefinition, kind: str) -> tuple[DocumentRequirement, ...]:
    """The documents an applicant of ``kind`` uploads with the form: a person's never include a power of attorney,
    nor do those of a business where none may apply (the use case refuses it by its kind)."""
    return service.documents_for("business" if kind == "business" and service.accepts(kind) else "person")


def _apply_fields(
    service: ServiceDefinition,
    t: Translator,
    form: FormData | None,
    *,
    max_bytes: int,
    kept: Mapping[str, KeptDocument],
    citizen: Identified | None = None,
    name: str = "",
) -> dict[str, list[FormField]]:
    consent = FormField(
        "consent-reuse",
        t("consent_label"),
        kind="checkbox",
        hint=t("reuse_signed_in_hint", nik=public_nik(citizen.nik)) if citizen else t("consent_hint"),
        required=False,
        value="yes" if text(form, "consent-reuse") == "yes" else "",
    )
    applicant = applicant_fields(t, form)
    if citizen is not None and form is None:  # the account's verified NIK and name, which they may change
        applicant[0].value, applicant[1].value = citizen.nik, name
    takes_businesses = service.accepts("business")
    business = [
        *business_fields(t, form),
        document_field(POWER_OF_ATTORNEY, t, max_bytes, kept.get(POWER_OF_ATTORNEY.name), answer=False),
    ]
    return {
        "kind": [applicant_kind_field(t, form)] if takes_businesses else [],
        "business": business if takes_businesses else [],
        "applicant": applicant,
        "data": [data_field(definition, t, form, answer=False) for definition in service.fields],
        "documents": [
            document_field(requirement, t, max_bytes, kept.get(requirement.name), answer=False)
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
    csrf_token: str = "",
) -> HTMLResponse:
    t = translator(request)
    return page(
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
            "sla": sla(t, service.sla_working_days),
        },
        sections=sections,
        submission_key=submission_key,
        csrf_token=csrf_token,
    )


@router.get("/apply/{code}")
async def application_form(code: str, request: Request) -> HTMLResponse:
    """The service's form: the applicant, the catalogue's fields, a file per document, and consent."""
    t = translator(request)
    service = context(request).catalogue.service(code)
    if service is None:
        return not_found(request, t("unknown_service_body", code=code))
    account = await signed_in(request)
    sections = _apply_fields(
        service,
        t,
        None,
        max_bytes=context(request).documents.max_bytes,
        kept={},
        citizen=identified(account),
        name=account.display_name if account else "",
    )
    return _apply_page(request, service, sections, _new_submission_key(), csrf_token=_csrf(request, account))


def _csrf(request: Request, account: object | None) -> str:
    """The signed-in form's CSRF token (empty when nobody is signed in)."""
    return context(request).sign_in.csrf_token(request) if account is not None else ""


def _application(
    service: ServiceDefinition,
    form: FormData,
    checked: CheckedForm,
    kept: Mapping[str, KeptDocument],
    *,
    reusing: bool = False,
) -> ApplicationCreate | None:
    """The application the form describes, every error in it reported; None when it cannot be built. ``reusing``:
    fields left empty may be filled from saved data, so the form is checked by the use case alone."""
    data = form_data(service, form, checked, answer=False)
    kind = _applicant_kind(form)
    business = {
        "name": text(form, "business-name").strip(),
        "nib": compact(text(form, "business-nib"), dots=True),
        "npwp": compact(text(form, "business-npwp"), dots=True),
    }
    applicant = {
        "kind": kind,
        "business": {key: value for key, value in business.items() if value != ""} if kind == "business" else "",
        "nik": compact(text(form, "applicant-nik")),
        "name": text(form, "applicant-name").strip(),
        "email": text(form, "applicant-email").strip() or None,
        "phone": compact(text(form, "applicant-phone")) or None,
        "language": text(form, "applicant-language"),
    }
    payload = {
        "service_code": service.code,
        "applicant": {key: value for key, value in applicant.items() if value != ""},
        "data": data,
        "documents": [{"name": name, "sha256": document.sha256} for name, document in kept.items()],
        "consent_reuse": text(form, "consent-reuse") == "yes",
    }
    application: ApplicationCreate | None = None
    try:
        application = ApplicationCreate.model_validate(payload)
    except ValidationError as invalid:
        checked.report_validation(invalid)
    # The use case checks the form only once the applicant is valid: check it here too, to show every error at once.
    if not reusing:
        try:
            form_model(service).model_validate(data)
        except ValidationError as invalid:
            checked.report_validation(invalid, prefix=("data",))
    return application


@router.post("/apply/{code}")
async def submit_application(code: str, request: Request) -> Response:
    """Check the form, store the files, submit the application; show every error at once, or the tracking code."""
    t = translator(request)
    service = context(request).catalogue.service(code)
    if service is None:
        return not_found(request, t("unknown_service_body", code=code))
    async with read_form(request, FORM_LIMITS) as form:
        return await _apply(request, service, form)


async def _apply(request: Request, service: ServiceDefinition, form: FormData) -> Response:
    t = translator(request)
    documents = context(request).documents
    account = await signed_in(request)
    # Signed in counts only for a form the account's own page sent (its CSRF token), never a forged one.
    citizen = identified(account) if context(request).sign_in.csrf_valid(request, text(form, "csrf_token")) else None
    kind = _applicant_kind(form)
    # A business's representative neither reuses nor keeps their own profile with it (decision 0031).
    own = citizen is not None and compact(text(form, "applicant-nik")) == citizen.nik and kind != "business"
    errors = FormErrors()
    requirements = _requirements(service, kind)
    kept = await take_documents(requirements, form, documents, t, errors)
    require_documents(requirements, kept, t, errors)
    sections = _apply_fields(service, t, form, max_bytes=documents.max_bytes, kept=kept, citizen=citizen)
    checked = CheckedForm(
        t,
        fields={form_field.name: form_field for section in sections.values() for form_field in section},
        definitions={f"data-{definition.name}": definition for definition in service.fields},
        name_of=path_to_name(documents=list(kept), renames={"consent_reuse": "consent-reuse"}),
        errors=errors,
    )
    application = _application(service, form, checked, kept, reusing=own and text(form, "consent-reuse") == "yes")
    submission_key = text(form, "submission-key")
    if not _SUBMISSION_KEY.fullmatch(submission_key):
        submission_key = _new_submission_key()
    if application is not None and not errors:
        try:
            submission = await context(request).applications.submit(
                application,
                idempotency_key=submission_key,
                fingerprint=request_fingerprint(application.model_dump(mode="json")),
                identified=citizen,
            )
        except InvalidApplication as refused:
            checked.report_refusal(refused)
        except IdempotencyKeyReused:
            return page(
                request,
                "notice.html",
                title=t("already_submitted_title"),
                status_code=409,
                body=t("already_submitted_body"),
                links=[(f"/apply/{service.code}", t("start_again"))],
            )
        else:
            return redirect(request, f"/track/{submission.accepted.tracking_code}/confirmation")
    summary = errors.place(checked.fields.values())
    return _apply_page(
        request, service, sections, submission_key, summary=summary, status_code=422, csrf_token=_csrf(request, account)
    )
