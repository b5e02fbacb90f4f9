"""The mall's server-rendered pages (nothing loaded from elsewhere; no script but the now-calling display's own
file), one module per journey: the queue kiosk and ticket (``kiosk``), booking a visit and checking in
(``booking``), the now-calling display and its spoken calls (``display``), the printed ticket and receipt
(``printing``), the performance board (``board``), the survey, the complaint form and status, the consent ledger, and
the staff pages (``staff_*``: the counter with the clerk's one screen, the complaint desk, the documents waiting for
pickup). They call the same use cases as the JSON API and render through :mod:`satupintu.common.web`; ``rendering``
holds what every mall page shares."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.mall.web import (
    board,
    booking,
    complaint,
    consent,
    display,
    home,
    kiosk,
    printing,
    staff_apply,
    staff_complaints,
    staff_counter,
    staff_pickups,
    staff_sign_in,
    survey,
)
from satupintu.mall.web.home import rate_limited_page
from satupintu.mall.web.staff_session import SESSION_COOKIE

__all__ = ["SESSION_COOKIE", "rate_limited_page", "router"]

router = APIRouter(tags=["pages"], include_in_schema=False)
"""Every page: the citizen's journeys, then the staff pages under ``/staff``."""
for journey in (
    home,
    kiosk,
    booking,
    display,
    board,
    survey,
    complaint,
    consent,
    staff_sign_in,
    staff_counter,
    staff_apply,
    staff_complaints,
    staff_pickups,
    printing,
):
    router.include_router(journey.router)
