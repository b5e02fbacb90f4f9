"""``/applications/{tracking_code}``: following an application, answering an agency's question, and downloading a
document issued for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import ValidationError

from satupintu.common.lockout import LockedOut, locked_problem
from satupintu.common.problems import Problem, documented_problems, field_path
from satupintu.common.requests import JSON_BODY_PROBLEMS, read_json_body
from satupintu.intake.api import dependencies
from satupintu.intake.domain import (
    ApplicationNotFound,
    DocumentUnavailable,
    InformationAlreadyProvided,
    InvalidApplication,
    NoInformationRequested,
    NoOpenBill,
    NotTheApplicant,
)
from satupintu.intake.downloads import Download, DownloadService
from satupintu.intake.schemas import (
    ApplicationStatus,
    DocumentDownloadRequest,
    InformationAccepted,
    InformationAnswer,
)
from satupintu.intake.tracking import TrackingService

router = APIRouter(tags=["tracking"])


def normalized(tracking_code: str) -> str:
    """Tracking codes are read aloud and typed back: accept any case and surrounding spaces."""
    return tracking_code.strip().upper()


def _not_found(tracking_code: str) -> Problem:
    return Problem(404, "unknown-tracking-code", f"no application has the tracking code {tracking_code!r}")


@router.get(
    "/applications/{tracking_code}",
    summary="An application's state and timeline",
    responses=documented_problems(
        {404: "No application has this tracking code (problem+json `unknown-tracking-code`)."}
    ),
)
async def application_status(
    tracking_code: str, service: Annotated[TrackingService, Depends(dependencies.tracking_service)]
) -> ApplicationStatus:
    """State, every agency's task and the timeline; personal data only as the NIK's last 4 digits and initials."""
    try:
        return await service.status(normalized(tracking_code))
    except ApplicationNotFound as missing:
        raise _not_found(tracking_code) from missing


@router.get(
    "/applications/{tracking_code}/bill/qris.png",
    summary="The QRIS code of an application's bill, as a PNG",
    response_class=Response,
    responses={
        200: {
            "description": "The dynamic QRIS payload of the bill (its `bill.qris`) as a QR code a banking app scans.",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        },
        404: {
            "description": "Unknown tracking code, or no bill still to pay (none, or paid, expired or withdrawn) "
            "(problem+json)."
        },
    },
)
async def bill_qr_code(
    tracking_code: str, service: Annotated[TrackingService, Depends(dependencies.tracking_service)]
) -> Response:
    """The QR code of the application's open bill: reachable as the application's status is (by its tracking code),
    since it holds nothing personal (a bill names an amount and a billing code, not who pays); gone once the bill
    is paid, expired or withdrawn, so nobody scans a dead bill from a saved page."""
    try:
        png = await service.bill_qr_code(normalized(tracking_code))
    except ApplicationNotFound as missing:
        raise _not_found(tracking_code) from missing
    except NoOpenBill as settled:
        raise Problem(404, "no-open-bill", "this application has no bill still to pay") from settled
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": InformationAnswer.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@router.post(
    "/applications/{tracking_code}/information",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Answer an agency's request for more information",
    openapi_extra=_BODY,
    responses=JSON_BODY_PROBLEMS
    | {
        403: {"description": "The NIK is not the applicant's (problem+json)."},
        404: {"description": "Unknown tracking code (problem+json)."},
        409: {"description": "Nothing was asked, or it was already answered (problem+json)."},
        422: {"description": "Invalid answer; `errors` names each field path (problem+json)."},
        429: {
            "description": "Too many wrong NIKs for this tracking code (`nik`), or requests from this client; see "
            "Retry-After (problem+json). Nothing was checked or stored."
        },
    },
)
async def provide_information(
    tracking_code: str, request: Request, service: Annotated[TrackingService, Depends(dependencies.tracking_service)]
) -> InformationAccepted:
    """Pass the applicant's answer to the agency that asked; the task resumes."""
    raw, _ = await read_json_body(request, dependencies.max_body_bytes(request))
    try:
        answer = InformationAnswer.model_validate_json(raw)
    except ValidationError as invalid:
        raise Problem(
            422,
            "validation-error",
            "The answer is not valid; see `errors` for each field.",
            errors=[{"field": field_path(e["loc"]), "message": e["msg"], "code": e["type"]} for e in invalid.errors()],
        ) from invalid
    try:
        return await service.provide_information(normalized(tracking_code), answer)
    except ApplicationNotFound as missing:
        raise _not_found(tracking_code) from missing
    except LockedOut as locked:
        raise locked_problem(locked, "nik") from locked
    except NotTheApplicant as stranger:
        raise Problem(403, "not-the-applicant", "only the applicant may answer: the NIK does not match") from stranger
    except NoInformationRequested as unasked:
        raise Problem(
            409, "no-information-requested", "no agency is waiting for information on this application"
        ) from (unasked)
    except InformationAlreadyProvided as answered:
        raise Problem(409, "information-already-provided", "this question was already answered") from answered
    except InvalidApplication as invalid:
        raise Problem(
            422,
            "validation-error",
            "The answer does not meet the service's requirements; see `errors` for each field.",
            errors=[error.as_dict() for error in invalid.errors],
        ) from invalid


NO_DOCUMENT = "no document with this id for this tracking code and NIK"
"""The one answer to every refused download: an unknown code, a wrong NIK, no such document. Nothing else is said."""


def pdf_response(download: Download) -> Response:
    """A signed PDF as an attachment named after its number, kept by no cache."""
    return Response(
        download.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/applications/{tracking_code}/documents/{document_id}",
    summary="Download an issued document's signed PDF",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": DocumentDownloadRequest.model_json_schema(ref_template="#/components/schemas/{model}")
                }
            },
        }
    },
    responses=JSON_BODY_PROBLEMS
    | {
        200: {
            "description": "The signed PDF (PAdES) as an attachment named after the document's number; a revoked "
            "document too (its status, in the application's `documents`, says so).",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        404: {
            "description": "No such document for this tracking code and NIK: the code is unknown, the NIK is not the "
            "applicant's, or the application has no document with this id; which one is not said (problem+json "
            "`no-document`). A wrong NIK counts against the tracking code's limit."
        },
        422: {"description": 'The body is not `{"nik": "..."}` (problem+json).'},
        429: {
            "description": "Too many wrong NIKs for this tracking code (`nik`), or requests from this client; see "
            "Retry-After (problem+json). Nothing was checked."
        },
    },
)
async def download_document(
    tracking_code: str,
    document_id: str,
    request: Request,
    downloads: Annotated[DownloadService, Depends(dependencies.download_service)],
) -> Response:
    """The signed PDF of a document issued for the application, to its applicant only: the tracking code and the
    applicant's NIK, checked as for answering an agency (same limit of wrong NIKs). Recorded in the audit log."""
    raw, _ = await read_json_body(request, dependencies.max_body_bytes(request))
    try:
        asked = DocumentDownloadRequest.model_validate_json(raw)
    except ValidationError as invalid:
        raise Problem(
            422,
            "validation-error",
            "The request is not valid; see `errors` for each field.",
            errors=[{"field": field_path(e["loc"]), "message": e["msg"], "code": e["type"]} for e in invalid.errors()],
        ) from invalid
    try:
        download = await downloads.by_tracking_code(
            normalized(tracking_code),
            asked.nik,
            document_id,
            "POST /applications/{tracking_code}/documents/{document_id}",
        )
    except LockedOut as locked:
        raise locked_problem(locked, "nik") from locked
    except DocumentUnavailable as refused:
        raise Problem(404, "no-document", NO_DOCUMENT) from refused
    return pdf_response(download)
