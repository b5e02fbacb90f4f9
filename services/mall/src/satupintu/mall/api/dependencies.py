"""What the mall's routers read of the process: its context (``app.state.mall``)."""

from __future__ import annotations

from fastapi import Request

from satupintu.mall.factory import MallContext


def context(request: Request) -> MallContext:
    """The process's context, for code that holds the request."""
    found: MallContext = request.app.state.mall
    return found


async def mall(request: Request) -> MallContext:
    """The process's context, as a route dependency (async: FastAPI runs it without a worker thread)."""
    return context(request)
