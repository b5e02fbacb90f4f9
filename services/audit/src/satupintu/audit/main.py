"""Entry point of the audit service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.audit import handlers, web
from satupintu.audit.api import install_problems
from satupintu.audit.api import trail as trail_api
from satupintu.audit.config import AuditSettings
from satupintu.audit.factory import AuditContext
from satupintu.audit.migrations import SCHEMA
from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app

TITLE = "Satu Pintu audit: the tamper-evident trail"
DESCRIPTION = (
    "Every event on every topic, dead letters and `access` included, in an append-only, hash-chained log with a "
    "Merkle tree and signed checkpoints. Auditors search it, prove entries and verify it; every query is itself "
    "recorded as `access.recorded`."
)


def create_app(settings: AuditSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the audit service: the consumer of every topic, the checkpoints, the auditors' API and pages."""
    settings = settings or AuditSettings()
    context = AuditContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.trail, context.reader, context.catalogue)
    app = create_service_app(context.runtime, TITLE, DESCRIPTION, sign_in=context.sign_in)
    app.state.audit = context
    # The context's lifespan runs the runtime's and takes checkpoints too.
    app.router.lifespan_context = context.lifespan
    install_problems(app)
    web.install(app)
    app.include_router(trail_api.router)
    app.include_router(web.router)
    return app


def main() -> None:
    """Console script ``satupintu-audit``: serves the service; ``satupintu-audit migrate`` upgrades its database."""
    service_main(SCHEMA, AuditSettings, create_app)
