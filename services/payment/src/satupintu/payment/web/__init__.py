"""Payment's staff pages (server-rendered, no script, nothing loaded from elsewhere): the counter clerk's bills
(find a bill by its billing code, record a cash or card payment) and the day's reconciliation. They call the same
use cases as the JSON API; staff sign in through the provider (``staff_session``)."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.payment.web import staff_bills, staff_reconciliation, staff_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
"""Every staff page, under ``/staff``, and their stylesheet."""
for pages in (staff_session, staff_bills, staff_reconciliation):
    router.include_router(pages.router)
