"""Entry point of the audit service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.audit.config import AuditSettings
from satupintu.common.health import health_router
from satupintu.common.runtime import ServiceRuntime, serve

SERVICE_NAME = "audit"


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    """Build the audit service's HTTP app around one runtime (engine and broker)."""
    settings = settings or AuditSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=True)
    app = FastAPI(title="Satu Pintu audit: the tamper-evident trail", lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.include_router(health_router(runtime.readiness_checks))
    return app


def main() -> None:
    """Console script ``satupintu-audit``."""
    settings = AuditSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
