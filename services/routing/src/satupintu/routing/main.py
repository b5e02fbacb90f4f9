"""Entry point of the routing service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.health import health_router
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.routing.config import RoutingSettings

SERVICE_NAME = "routing"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    """Build the routing service's HTTP app around one runtime (engine and broker)."""
    settings = settings or RoutingSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=True)
    app = FastAPI(title="Satu Pintu routing: stage-by-stage agency workflow", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(health_router(runtime.readiness_checks))
    return app


def main() -> None:
    """Console script ``satupintu-routing``."""
    settings = RoutingSettings()
    serve(create_app(settings), settings)
