"""The citizen's consent ledger: which agencies may receive their profile data again, granting and withdrawing
one line, and the history of every reuse; opened with the NIK the application was made with."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from satupintu.common.consent import ALL_AGENCIES
from satupintu.common.lockout import LockedOut
from satupintu.common.web.uploads import read_text_form
from satupintu.mall.api.limits import WriteGroup, limit
from satupintu.mall.domain import ApplicationNotKnown, ConsentRefused, NotTheApplicant
from satupintu.mall.factory import MallContext
from satupintu.mall.web.rendering import agency_name, page_context, render_notice, render_page, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


def _field_label(context: MallContext, name: str, language: str) -> str:
    for service in context.catalogue.services:
        definition = service.field(name)
        if definition is not None:
            return definition.label.in_language(language)
    return name


@router.get("/consent/{tracking_code}")
async def consent_page(tracking_code: str, request: Request) -> HTMLResponse:
    """Ask for the NIK the application was made with, to open the ledger."""
    t = translator(request)
    return render_page(
        request, "consent.html", title=t("consent_title"), tracking_code=tracking_code, ledger=None, nik=""
    )


@router.post("/consent/{tracking_code}", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def consent_ledger_page(tracking_code: str, request: Request) -> HTMLResponse:
    """Show the ledger; a ``grant`` or ``withdraw`` button (``agency:field``) changes one line first."""
    context = page_context(request)
    t = translator(request)
    form = await read_text_form(request)
    nik = str(form.get("nik") or "").strip()
    action, target = "", ""
    for name in ("grant", "withdraw"):
        if form.get(name):
            action, target = name, str(form.get(name))
    agency, _, field = target.partition(":")
    try:
        if action == "grant":
            view = await context.consent.grant(tracking_code, nik, agency, [field])
        elif action == "withdraw":
            view = await context.consent.withdraw(tracking_code, nik, agency, [field])
        else:
            view = await context.consent.ledger(tracking_code, nik)
    except (ApplicationNotKnown, NotTheApplicant):
        return render_page(
            request,
            "consent.html",
            title=t("consent_title"),
            status_code=403,
            tracking_code=tracking_code,
            ledger=None,
            nik="",
            failure=t("consent_unknown"),
        )
    except LockedOut as locked:
        page = render_page(
            request,
            "consent.html",
            title=t("consent_title"),
            status_code=429,
            tracking_code=tracking_code,
            ledger=None,
            nik="",
            failure=t("consent_locked", seconds=locked.retry_after_seconds),
        )
        page.headers["Retry-After"] = str(locked.retry_after_seconds)
        return page
    except ConsentRefused as refused:
        return render_notice(request, t("consent_title"), str(refused), 422)
    lines = [
        {
            "agency": t("consent_every_agency")
            if line.agency == ALL_AGENCIES
            else agency_name(context, line.agency, t.language),
            "field": _field_label(context, line.field, t.language),
            "granted": line.granted,
            "value": f"{line.agency}:{line.field}",
            "changed": t.moment(line.changed_at),
        }
        for line in view.lines
    ]
    history = [
        {
            "kind": t(f"consent_kind_{entry.kind}"),
            "without": entry.kind == "used" and not entry.consented,
            "agency": (
                t("consent_every_agency")
                if entry.agency == ALL_AGENCIES
                else agency_name(context, entry.agency, t.language)
            ),
            "field": _field_label(context, entry.field, t.language),
            "at": t.moment(entry.at),
        }
        for entry in view.history
    ]
    return render_page(
        request,
        "consent.html",
        title=t("consent_title"),
        tracking_code=tracking_code,
        ledger={"lines": lines, "history": history},
        nik=nik,
    )
