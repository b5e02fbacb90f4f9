"""Entry point of the intake service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.catalogue import load_catalogue
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.intake.api import applications
from satupintu.intake.config import IntakeSettings
from satupintu.intake.services import ApplicationService
from satupintu.intake.storage.tables import ApplicationRecord

SERVICE_NAME = "intake"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake service: HTTP API, outbox relay; ready without the broker (the outbox keeps events)."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=False, tables=[ApplicationRecord])
    app = create_service_app(runtime, "Satu Pintu intake: the front door for applications")
    app.state.application_service = ApplicationService(runtime.sessions, runtime.outbox, load_catalogue())
    app.include_router(applications.router)
    return app


def main() -> None:
    """Console script ``satupintu-intake``."""
    settings = IntakeSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
