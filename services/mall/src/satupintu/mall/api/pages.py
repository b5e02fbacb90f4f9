"""The mall's citizen pages, one router: the journeys live in :mod:`satupintu.mall.web` (front page, kiosk and
display, board, survey, complaint, consent)."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.mall.web import board, complaint, consent, home, kiosk, survey
from satupintu.mall.web.home import rate_limited_page

__all__ = ["rate_limited_page", "router"]

router = APIRouter(tags=["pages"], include_in_schema=False)
for journey in (home, kiosk, board, survey, complaint, consent):
    router.include_router(journey.router)
