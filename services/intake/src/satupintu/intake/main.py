"""Entry point of the intake service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.health import health_router
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.intake.config import IntakeSettings

SERVICE_NAME = "intake"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake service's HTTP app around one runtime (engine and broker)."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=False)
    app = FastAPI(title="Satu Pintu intake: the front door for applications", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(health_router(runtime.readiness_checks))
    return app


def main() -> None:
    """Console script ``satupintu-intake``."""
    settings = IntakeSettings()
    serve(create_app(settings), settings)
