"""Entry point of the notification service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.health import health_router
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.notification.config import NotificationSettings

SERVICE_NAME = "notification"


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """Build the notification service's HTTP app around one runtime (engine and broker)."""
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=True)
    app = FastAPI(title="Satu Pintu notification: telling citizens what happened", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(health_router(runtime.readiness_checks))
    return app


def main() -> None:
    """Console script ``satupintu-notification``."""
    settings = NotificationSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
