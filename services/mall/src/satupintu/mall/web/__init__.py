"""The mall's server-rendered pages (no script, nothing loaded from elsewhere), one module per journey: the queue
kiosk, ticket and now-calling display (``kiosk``), booking a visit and checking in (``booking``), the performance
board (``board``), the survey, the complaint form and status, the consent ledger, and the staff pages (``staff_*``:
the counter, the complaint desk, the documents waiting for pickup). They call the same use cases as the JSON API and
render through :mod:`satupintu.common.web`; ``rendering`` holds what every mall page shares."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.mall.web import (
    board,
    booking,
    complaint,
    consent,
    home,
    kiosk,
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
    board,
    survey,
    complaint,
    consent,
    staff_sign_in,
    staff_counter,
    staff_complaints,
    staff_pickups,
):
    router.include_router(journey.router)
