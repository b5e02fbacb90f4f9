"""The officers' desk pages (server-rendered, Indonesian): signing in, the task pool, a task and its decision
(``desk``), the documents the agency issued and their revocation (``issued``), on the shared kit
:mod:`satupintu.common.web`."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.agency.web import issued
from satupintu.agency.web.desk import install_page_security
from satupintu.agency.web.desk import router as desk_router

router = APIRouter(include_in_schema=False)
router.include_router(desk_router)
router.include_router(issued.router)

__all__ = ["install_page_security", "router"]
