"""Entry point of the audit service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.audit import handlers
from satupintu.audit.api import install_problems
from satupintu.audit.api import pages as pages_ui
from satupintu.audit.api import trail as trail_api
from satupintu.audit.config import AuditSettings
from satupintu.audit.factory import SERVICE_NAME, AuditContext
from satupintu.audit.services import Clock, utc_now
from satupintu.audit.storage.tables import LOG_TABLES
from satupintu.common.catalogue import load_catalogue
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve

DESCRIPTION = (
    "Every event on every topic, dead letters and `access` included, in an append-only, hash-chained log with a "
    "Merkle tree and signed checkpoints. Auditors search it, prove entries and verify it; every query is itself "
    "recorded as `access.recorded`."
)


def create_app(settings: AuditSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the audit service: the consumer of every topic, the checkpoints, the auditors' API and pages."""
    settings = settings or AuditSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, tables=LOG_TABLES)
    context = AuditContext.build(runtime, settings, clock)
    handlers.subscribe(runtime, context.trail, load_catalogue())
    app = create_service_app(runtime, "Satu Pintu audit: the tamper-evident trail", DESCRIPTION)
    app.state.audit = context
    # The schema (append-only trigger, writer role) must exist before the consumers start: the context's lifespan
    # prepares it, then runs the runtime's.
    app.router.lifespan_context = context.lifespan
    install_problems(app)
    pages_ui.install(app)
    app.include_router(trail_api.router)
    app.include_router(pages_ui.router)
    return app


def main() -> None:
    """Console script ``satupintu-audit``."""
    settings = AuditSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
