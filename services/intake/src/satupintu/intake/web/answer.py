"""Answering an agency's question: the questions asked, and a form to answer them (the applicant's NIK, changed
fields, a message, files); only the applicant may answer, and wrong NIKs lock the form for a while."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.lockout import LockedOut
from satupintu.common.web.uploads import read_form
from satupintu.intake.api.dependencies import context
from satupintu.intake.domain import (
    ApplicationNotFound,
    InformationAlreadyProvided,
    InvalidApplication,
    NoInformationRequested,
    NotTheApplicant,
)
from satupintu.intake.forms import partial_form_model
from satupintu.intake.i18n import Translator
from satupintu.intake.schemas import ApplicationStatus, InformationAnswer, TaskStatus
from satupintu.intake.web.documents import take_documents
from satupintu.intake.web.fields import (
    FormErrors,
    FormField,
    KeptDocument,
    Option,
    SummaryItem,
    data_field,
    document_field,
    nik_field,
    text,
)
from satupintu.intake.web.forms import FORM_LIMITS, compact, form_data, path_to_name
from satupintu.intake.web.messages import CheckedForm
from satupintu.intake.web.rendering import agency_name, page, redirect, translator
from satupintu.intake.web.track import application_status, unknown_code

router = APIRouter(tags=["pages"], include_in_schema=False)


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
    identity = [nik_field("answer-nik", t, form, t("answer_nik_hint"))]
    if len(asking) > 1:
        options = [Option(task.agency, agency_name(catalogue, task.agency, t.language)) for task in asking]
        task_choice = FormField(
            "answer-agency", t("answer_task_label"), kind="radios", value=text(form, "answer-agency"), options=options
        )
        identity.insert(0, task_choice)
    message = FormField(
        "answer-message",
        t("answer_message_label"),
        kind="textarea",
        required=False,
        value=text(form, "answer-message"),
    )
    return {
        "identity": identity,
        "message": [message],
        "data": [data_field(definition, t, form, answer=True) for definition in service.fields],
        "documents": [
            document_field(requirement, t, max_bytes, kept.get(requirement.name), answer=True)
            for requirement in service.documents
        ],
    }


def _answerpage(
    request: Request,
    status: ApplicationStatus,
    asking: Sequence[TaskStatus],
    sections: dict[str, list[FormField]],
    *,
    summary: Sequence[SummaryItem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    t = translator(request)
    catalogue = context(request).catalogue
    questions = [
        {
            "agency": t("answer_asked_by", agency=agency_name(catalogue, task.agency, t.language)),
            "questions": task.questions,
        }
        for task in asking
    ]
    return page(
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
    t = translator(request)
    return page(
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
    found = await _asked(request, tracking_code, nothing_asked_status=200)
    if isinstance(found, Response):
        return found
    status, service, asking = found
    sections = _answer_fields(
        service,
        asking,
        translator(request),
        None,
        max_bytes=context(request).documents.max_bytes,
        kept={},
        catalogue=context(request).catalogue,
    )
    return _answerpage(request, status, asking, sections)


async def _asked(
    request: Request, tracking_code: str, *, nothing_asked_status: int
) -> tuple[ApplicationStatus, ServiceDefinition, list[TaskStatus]] | HTMLResponse:
    """The application, its service and the tasks whose agency asked something; or the page that says it is unknown
    or that nothing is asked (with ``nothing_asked_status``)."""
    status = await application_status(request, tracking_code)
    if status is None:
        return unknown_code(request, tracking_code)
    service = context(request).catalogue.service(status.service_code)
    asking = [task for task in status.tasks if task.questions]
    if service is None or not asking:
        return _nothing_asked(request, status.tracking_code, "answer_nothing_asked_body", nothing_asked_status)
    return status, service, asking


def _answer(
    service: ServiceDefinition,
    asking: Sequence[TaskStatus],
    form: FormData,
    checked: CheckedForm,
    kept: Mapping[str, KeptDocument],
) -> InformationAnswer | None:
    """The answer the form describes, every error in it reported; None when it cannot be built."""
    answers = form_data(service, form, checked, answer=True)
    agency: str | None = asking[0].agency
    if len(asking) > 1:
        chosen = text(form, "answer-agency")
        agency = chosen if chosen in {task.agency for task in asking} else None
        if agency is None:
            checked.errors.add("answer-agency", checked.t("error.task"))
    message = text(form, "answer-message").strip()
    nik = compact(text(form, "answer-nik"))
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
    found = await _asked(request, tracking_code, nothing_asked_status=409)
    if isinstance(found, Response):
        return found
    status, service, asking = found
    async with read_form(request, FORM_LIMITS) as form:
        return await _answer_with(request, status, service, asking, form)


async def _answer_with(
    request: Request, status: ApplicationStatus, service: ServiceDefinition, asking: list[TaskStatus], form: FormData
) -> Response:
    t = translator(request)
    catalogue = context(request).catalogue
    documents = context(request).documents
    errors = FormErrors()
    kept = await take_documents(service.documents, form, documents, t, errors)
    sections = _answer_fields(service, asking, t, form, max_bytes=documents.max_bytes, kept=kept, catalogue=catalogue)
    checked = CheckedForm(
        t,
        fields={form_field.name: form_field for section in sections.values() for form_field in section},
        definitions={f"data-{definition.name}": definition for definition in service.fields},
        name_of=path_to_name(
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
            await context(request).tracking.provide_information(status.tracking_code, answer)
        except NotTheApplicant:
            errors.add("answer-nik", t("error.not_the_applicant"))
            status_code = 403
        except LockedOut as locked:
            errors.add("answer-nik", t("error.locked", seconds=locked.retry_after_seconds))
            summary = errors.place(checked.fields.values())
            page = _answerpage(request, status, asking, sections, summary=summary, status_code=429)
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
            return redirect(request, f"/track/{status.tracking_code}?answered=1")
    summary = errors.place(checked.fields.values())
    return _answerpage(request, status, asking, sections, summary=summary, status_code=status_code)
