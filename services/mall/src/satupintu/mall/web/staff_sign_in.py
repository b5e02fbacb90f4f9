"""The staff pages' sign-in page and home (the session itself: :mod:`satupintu.mall.web.staff_session`). Signing in
and out are the provider's (``/auth/login``, ``/auth/logout`` of :mod:`satupintu.common.oidc.web`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from satupintu.mall.factory import STAFF_HOME
from satupintu.mall.web.rendering import translator
from satupintu.mall.web.staff_session import (
    COUNTER_ROLES,
    DESK_ROLES,
    render_staff_page,
    sign_in_of,
    staff,
    staff_redirect,
)

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
async def staff_home(request: Request) -> Response:
    """The counter for officers and operators, the complaint desk for auditors; the sign-in page before either."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    return staff_redirect(request, "/staff/counter" if found.roles & COUNTER_ROLES else "/staff/complaints")


@router.get("/login")
async def login_page(request: Request) -> Response:
    """The sign-in page: a link to the provider's login page that comes back to the staff home; with
    ``?signed_out=1`` (where the provider sends the browser after signing out) it says the person is signed out."""
    t = translator(request)
    return render_staff_page(
        request,
        "staff_login.html",
        title=t("staff_login_title"),
        principal=None,
        sign_in_url=sign_in_of(request).login_url(f"{STAFF_HOME}{t.query}"),
        signed_out=request.query_params.get("signed_out") == "1",
    )
