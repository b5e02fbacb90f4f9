"""What notification's routers read of the process: its context, and the collaborators taken from it."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.notification.factory import NotificationContext


def context(request: Request) -> NotificationContext:
    """The process's context (``app.state.notification``)."""
    found: NotificationContext = request.app.state.notification
    return found


def sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The process's database sessions."""
    return context(request).runtime.sessions
