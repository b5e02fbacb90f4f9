"""``GET /verify/{document_id}``: the public verification page an issued document's QR code leads to. Anyone may open
it, without signing in: it says whether the document is valid, expired or revoked (with the reason), who issued it,
its number, dates and content hash, and of the holder only the initials and the NIK's last four digits. A page in
the visitor's language for a browser; JSON for ``?format=json`` or a client that asks for JSON and not HTML. An
unknown or malformed id is "unknown document": a 404 page, or 404 problem+json."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from satupintu.common.problems import PROBLEM_MEDIA_TYPE, problem_response
from satupintu.intake.api.dependencies import context
from satupintu.intake.domain import UnknownDocument
from satupintu.intake.schemas import DocumentVerification
from satupintu.intake.web.rendering import agency_name, page, translator

router = APIRouter(tags=["verification"])

_NO_STORE: Final = {"Cache-Control": "no-store"}
"""A revocation shows at once: no answer is kept by a browser or a proxy."""

Verdict = Literal["valid", "expired", "revoked"]


def wants_json(request: Request, answer_format: str | None) -> bool:
    """Whether to answer JSON: ``?format=json`` (``?format=html`` for the page), else an ``Accept`` that names JSON
    and not HTML (a browser's names HTML; so does the default)."""
    if answer_format is not None:
        return answer_format.strip().lower() == "json"
    accept = request.headers.get("accept", "").lower()
    return "json" in accept and "text/html" not in accept


def verdict(verification: DocumentVerification) -> Verdict:
    """What the page says first: revoked before expired before valid."""
    if verification.status == "revoked":
        return "revoked"
    return "expired" if verification.expired else "valid"


@router.get(
    "/verify/{document_id}",
    summary="Whether an issued document is valid, revoked or unknown",
    response_model=DocumentVerification,
    responses={
        200: {
            "description": "The document: valid or revoked, expired or not (JSON, or the page).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        404: {
            "description": "Unknown document (no issued document has this id, or it is not an id): problem+json "
            "`unknown-document`, or the page saying so.",
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"type": "object"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
    },
)
async def verify(
    document_id: Annotated[str, Path(description="The document's id (a UUID), as its QR code names it.")],
    request: Request,
    answer_format: Annotated[
        str | None, Query(alias="format", description="`json` for the JSON answer, `html` for the page.")
    ] = None,
) -> Response:
    """What a verifier may see of an issued document: public, no sign-in; the holder only as initials and the
    NIK's last four digits."""
    as_json = wants_json(request, answer_format)
    try:
        verification = await context(request).verification.verify(document_id)
    except UnknownDocument:
        if as_json:
            return problem_response(
                request, 404, "unknown-document", "no document issued through Satu Pintu has this id", headers=_NO_STORE
            )
        t = translator(request)
        return page(
            request,
            "notice.html",
            title=t("unknown_document_title"),
            status_code=404,
            body=t("unknown_document_body"),
            links=[("/", t("nav_services"))],
        )
    if as_json:
        return JSONResponse(verification.model_dump(mode="json"), headers=_NO_STORE)
    return _page(request, verification)


def _page(request: Request, verification: DocumentVerification) -> Response:
    t = translator(request)
    agency = agency_name(context(request).catalogue, verification.agency, t.language)
    shown = verdict(verification)
    body: dict[str, Any] = {
        "valid": {"agency": agency},
        "expired": {"agency": agency, "date": t.date(verification.valid_until)},
        "revoked": {"agency": agency, "at": t.moment(verification.revoked_at)},
    }[shown]
    return page(
        request,
        "verify.html",
        title=t("verify_title"),
        verdict=shown,
        verdict_label=t(f"verify_{shown}"),
        verdict_body=t(f"verify_{shown}_body", **body),
        document=verification,
        issuer=agency,
        issued_at=t.date(verification.issued_at),
        valid_until=t.date(verification.valid_until) if verification.valid_until else t("verify_no_expiry"),
        revoked_at=t.moment(verification.revoked_at) if verification.revoked_at else "",
    )
