"""A citizen with an account (decision 0024): the sign-in page, "my applications" (every application of the NIK
the identity provider verified, without tracking codes), each of them opened on the tracking page's status view, and
the documents issued for them downloaded without a NIK to type.
Nobody needs an account: every other page works as before without one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.auth import Role
from satupintu.common.identity import public_nik
from satupintu.common.money import rupiah
from satupintu.common.oidc.sessions import SignedIn
from satupintu.intake.api.dependencies import context
from satupintu.intake.api.tracking import pdf_response
from satupintu.intake.citizens import Identified
from satupintu.intake.domain import ApplicationNotFound, DocumentUnavailable
from satupintu.intake.factory import MY_APPLICATIONS_PAGE, SIGN_IN_PAGE
from satupintu.intake.web.rendering import page, redirect, translator
from satupintu.intake.web.track import application_status, status_page

router = APIRouter(tags=["pages"], include_in_schema=False)


async def signed_in(request: Request) -> SignedIn | None:
    """The citizen signed in with this request's cookie; None when nobody is, or when who is signed in is no
    citizen (intake's sign-in also admits operators, for the dead-letter page: to these pages they are nobody)."""
    found = await context(request).sign_in.signed_in(request)
    return found if found is not None and Role.CITIZEN in found.principal.roles else None


def identified(account: SignedIn | None) -> Identified | None:
    """The signed-in citizen's verified NIK and audit name; None without an account or without a verified NIK."""
    if account is None or not account.nik:
        return None
    return Identified(nik=account.nik, actor=account.principal.actor())


async def _to_sign_in(request: Request, return_to: str) -> Response:
    """On to sign in as a citizen and back to ``return_to``; someone signed in who is no citizen (an operator) goes
    to the sign-in page instead, as the provider would sign them straight back in as who they are (a loop)."""
    sign_in = context(request).sign_in
    if await sign_in.signed_in(request) is not None:
        return redirect(request, SIGN_IN_PAGE)
    return redirect(request, sign_in.login_url(return_to))


@router.get(SIGN_IN_PAGE)
async def sign_in_page(request: Request, signed_out: str | None = None) -> Response:
    """What an account gives and that none is needed, with the way to sign in (a signed-in citizen goes on to
    their applications)."""
    if signed_out is None and await signed_in(request) is not None:
        return redirect(request, MY_APPLICATIONS_PAGE)
    t = translator(request)
    return page(
        request,
        "sign_in.html",
        title=t("sign_in_title"),
        signed_out=signed_out is not None,
        login_url=context(request).sign_in.login_url(MY_APPLICATIONS_PAGE),
    )


@router.get(MY_APPLICATIONS_PAGE)
async def my_applications(request: Request) -> Response:
    """Every application of the signed-in citizen's NIK, across every service and agency, newest first."""
    account = await signed_in(request)
    if account is None:
        return await _to_sign_in(request, MY_APPLICATIONS_PAGE)
    t = translator(request)
    citizen = identified(account)
    if citizen is None:
        return _no_nik(request)
    found = await context(request).citizens.applications(citizen, f"GET {MY_APPLICATIONS_PAGE}")
    return page(
        request,
        "my_applications.html",
        title=t("my_applications_title"),
        lead=t("my_applications_lead", nik=public_nik(citizen.nik)),
        applications=[
            {
                "href": f"{MY_APPLICATIONS_PAGE}/{application.application_id}",
                "service": application.service_name.get(t.language) or application.service_name.get("id", ""),
                "state": application.status,
                "state_label": t.application_state(application.status),
                "submitted_at": t.moment(application.submitted_at),
                "awaiting_payment": t(
                    "my_applications_awaiting_payment", amount=rupiah(application.awaiting_payment, t.language)
                )
                if application.awaiting_payment is not None
                else "",
            }
            for application in found
        ],
        account_name=account.display_name,
        csrf_token=context(request).sign_in.csrf_token(request),
    )


@router.get(MY_APPLICATIONS_PAGE + "/{application_id}")
async def my_application(application_id: str, request: Request) -> Response:
    """One of the signed-in citizen's applications, on the tracking page's status view, without its tracking code;
    anybody else's is not found here (and the refusal is recorded against it)."""
    path = f"{MY_APPLICATIONS_PAGE}/{application_id}"
    account = await signed_in(request)
    if account is None:
        return await _to_sign_in(request, path)
    citizen = identified(account)
    if citizen is None:
        return _no_nik(request)
    t = translator(request)
    try:
        code = await context(request).citizens.tracking_code(
            citizen, application_id, f"GET {MY_APPLICATIONS_PAGE}/{{application_id}}"
        )
        status = await application_status(request, code)
    except ApplicationNotFound:
        status = None
    if status is None:
        return page(
            request,
            "notice.html",
            title=t("not_yours_title"),
            status_code=404,
            body=t("not_yours_body"),
            links=[(MY_APPLICATIONS_PAGE, t("my_applications_title")), ("/track", t("track_title"))],
        )
    return status_page(
        request,
        status,
        download_url=lambda document_id: f"{MY_APPLICATIONS_PAGE}/{application_id}/documents/{document_id}",
    )


@router.get(MY_APPLICATIONS_PAGE + "/{application_id}/documents/{document_id}")
async def my_document(application_id: str, document_id: str, request: Request) -> Response:
    """The signed PDF of a document issued for one of the signed-in citizen's applications; anybody else's is not
    found here (and the refusal is recorded against it)."""
    path = f"{MY_APPLICATIONS_PAGE}/{application_id}/documents/{document_id}"
    account = await signed_in(request)
    if account is None:
        return await _to_sign_in(request, path)
    citizen = identified(account)
    if citizen is None:
        return _no_nik(request)
    try:
        found = await context(request).downloads.for_citizen(
            citizen,
            application_id,
            document_id,
            f"GET {MY_APPLICATIONS_PAGE}/{{application_id}}/documents/{{document_id}}",
        )
    except DocumentUnavailable:
        t = translator(request)
        return page(
            request,
            "notice.html",
            title=t("download_refused_title"),
            status_code=404,
            body=t("not_yours_body"),
            links=[(MY_APPLICATIONS_PAGE, t("my_applications_title"))],
        )
    return pdf_response(found)


def _no_nik(request: Request) -> HTMLResponse:
    t = translator(request)
    return page(
        request,
        "notice.html",
        title=t("no_nik_title"),
        status_code=403,
        body=t("no_nik_body"),
        links=[("/track", t("track_title"))],
    )
