"""``/performance``: the performance board's figures as JSON (the page is ``/board``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from satupintu.mall.api.dependencies import mall
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import BoardRead

router = APIRouter(tags=["board"])
Context = Annotated[MallContext, Depends(mall)]


@router.get("/performance", summary="The performance board per service and agency, and today's queue")
async def performance(
    context: Context,
    days: Annotated[
        int | None, Query(ge=1, le=366, description="Days covered (default: the configured period).")
    ] = None,
) -> BoardRead:
    """Applications in, completed, rejected and open; median and p90 processing time against the service
    standard; SLA compliance; the satisfaction index; today's queue waits."""
    return await context.board.board(days or context.settings.board_days)
