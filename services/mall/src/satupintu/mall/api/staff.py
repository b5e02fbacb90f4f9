"""The mall's staff pages, one router under ``/staff``: signing in (:mod:`satupintu.mall.web.staff_sign_in`), the
counter's queue (``staff_counter``) and the complaint desk (``staff_complaints``); the session they share is
:mod:`satupintu.mall.web.staff_session`."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.mall.web import staff_complaints, staff_counter, staff_sign_in
from satupintu.mall.web.staff_session import SESSION_COOKIE

__all__ = ["SESSION_COOKIE", "router"]

router = APIRouter(include_in_schema=False)
for journey in (staff_sign_in, staff_counter, staff_complaints):
    router.include_router(journey.router)
