"""Entry point of the notification service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.notification import handlers
from satupintu.notification.config import NotificationSettings
from satupintu.notification.services import NotificationService
from satupintu.notification.storage.tables import DeliveryRecord

SERVICE_NAME = "notification"


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """Build the notification service's HTTP app around one runtime (engine and broker)."""
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, tables=[DeliveryRecord])
    handlers.subscribe(runtime, NotificationService())
    return create_service_app(runtime, "Satu Pintu notification: telling citizens what happened")


def main() -> None:
    """Console script ``satupintu-notification``."""
    settings = NotificationSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
