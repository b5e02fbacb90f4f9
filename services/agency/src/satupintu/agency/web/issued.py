"""The documents the officer's agency issued (``/desk/documents``): number, dates, the public verification page, and
revoking one with a reason (its verification page says revoked at once). The same use cases as the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from satupintu.agency.api.dependencies import desk_service, sign_in, signed_in_officer
from satupintu.agency.domain import DeskError
from satupintu.agency.services.issuance import InvalidRevocation
from satupintu.agency.web.desk import _flash as flash  # the desk pages' helpers, shared
from satupintu.agency.web.desk import _redirect as redirect
from satupintu.agency.web.desk import _refused_form as refused_form
from satupintu.agency.web.desk import _render as render
from satupintu.common.dates import long_date

router = APIRouter(include_in_schema=False)


@router.get("/desk/documents")
async def issued_documents(request: Request) -> Response:
    """The agency's latest issued documents, each with its revocation form."""
    officer = await signed_in_officer(request)
    if officer is None:
        return redirect("/login")
    desk = desk_service(request)
    documents = await desk.issued_documents(officer.principal)
    catalogue = request.app.state.agency.catalogue
    titles = {service.code: service.document.title.id for service in catalogue.services if service.document is not None}
    return render(
        request,
        "issued.html",
        {
            "officer": officer,
            "documents": documents,
            "titles": titles,
            "verify_base": request.app.state.agency.settings.verification_base_url.rstrip("/"),
            "long_date": long_date,
        },
    )


class RevocationForm(BaseModel):
    """The revocation form."""

    csrf_token: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=5_000)


@router.post("/desk/documents/{document_id}/revocation")
async def revoke(request: Request, document_id: str, form: Annotated[RevocationForm, Form()]) -> Response:
    """Revoke the document; back to the list with what happened."""
    officer = await signed_in_officer(request)
    if officer is None:
        return redirect("/login")
    if not sign_in(request).csrf_valid(request, form.csrf_token):
        return refused_form(request)
    try:
        revoked = await desk_service(request).revoke(officer.principal, document_id, form.reason)
    except InvalidRevocation:
        flash(request, "error", "Tulis alasan pencabutan (maks. 1000 karakter); halaman verifikasi menampilkannya.")
    except DeskError as error:
        texts = {
            "issued-document-not-found": "Instansi Anda tidak menerbitkan dokumen ini.",
            "document-already-revoked": "Dokumen ini sudah dicabut sebelumnya.",
        }
        flash(request, "error", texts.get(error.problem_type, error.detail))
    else:
        flash(request, "ok", f"Dokumen {revoked.number} dicabut. Halaman verifikasinya kini menyatakan dicabut.")
    return redirect("/desk/documents")
