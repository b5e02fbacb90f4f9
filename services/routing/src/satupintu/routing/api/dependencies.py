"""What routing's routers read of the process: its context, and the collaborators taken from it."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.routing.factory import RoutingContext


def context(request: Request) -> RoutingContext:
    """The process's context (``app.state.routing``)."""
    found: RoutingContext = request.app.state.routing
    return found


def sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The process's database sessions."""
    return context(request).runtime.sessions


def catalogue(request: Request) -> Catalogue:
    """The catalogue the process loaded."""
    return context(request).catalogue
