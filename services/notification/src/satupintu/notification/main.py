"""Entry point of the notification service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app
from satupintu.notification import handlers
from satupintu.notification.api import notifications as notifications_api
from satupintu.notification.config import NotificationSettings
from satupintu.notification.factory import NotificationContext
from satupintu.notification.migrations import SCHEMA

TITLE = "Satu Pintu notification: telling citizens what happened"


def create_app(settings: NotificationSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the notification service: the consumer that stages messages, the dispatcher that sends them on
    every configured channel, the deliveries API, and the outbox relay of ``notification.sent``/``failed``."""
    settings = settings or NotificationSettings()
    context = NotificationContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.notifications)
    app = create_service_app(context.runtime, TITLE, sign_in=context.sign_in)
    app.state.notification = context
    app.include_router(notifications_api.router)
    return app


def main() -> None:
    """Console script ``satupintu-notification``: serves the service; ``satupintu-notification migrate`` upgrades
    its database."""
    service_main(SCHEMA, NotificationSettings, create_app)
