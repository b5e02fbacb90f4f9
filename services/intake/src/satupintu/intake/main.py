"""Entry point of the intake service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app, trust_proxies
from satupintu.common.openapi import GuardedAnswer, answered_by_middleware, writes_outside
from satupintu.common.ratelimit import RateLimitMiddleware
from satupintu.common.uploads import UploadGuard, UploadVolume
from satupintu.intake import accounts, bills, consents, issued, status, uploads, web
from satupintu.intake.api import applications, catalogue, counter, documents, erasures, profile, tracking
from satupintu.intake.config import IntakeSettings
from satupintu.intake.factory import IntakeContext
from satupintu.intake.migrations import SCHEMA

TITLE = "Satu Pintu intake: the front door for applications"
RATE_LIMITED = "Too many writes from this client address; retry after `Retry-After` seconds."


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake service: catalogue, documents and applications APIs, and the outbox relay.

    Intake stays ready while Kafka is down: its outbox keeps what it accepts.
    """
    settings = settings or IntakeSettings()
    context = IntakeContext.build(settings)
    issued_documents = issued.IssuedDocuments()
    status.subscribe(context.runtime, status.StatusProjection(), issued_documents, bills.Bills())
    consents.subscribe(context.runtime, consents.ConsentProjection(), issued_documents)
    app = create_service_app(context.runtime, TITLE, sign_in=context.sign_in)
    app.state.intake = context
    _bound_uploads(app, context)
    app.add_middleware(  # added after the upload guard, so it runs before it: a cheap refusal first
        RateLimitMiddleware,
        rate_per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        exempt_prefixes=(counter.PREFIX,),  # limited per clerk instead (decision 0036)
    )
    answered_by_middleware(app, GuardedAnswer(429, RATE_LIMITED, writes_outside(counter.PREFIX)))
    for module in (catalogue, documents, applications, counter, tracking, profile, erasures, web):
        app.include_router(module.router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def _bound_uploads(app: FastAPI, context: IntakeContext) -> None:
    """Put the upload guard in front of the upload routes: bodies bounded as they stream, bytes in flight within
    budget, each client's hourly volume counted in the database."""
    settings = context.settings
    limits = uploads.UploadLimits(settings, context.catalogue)
    limits.check(settings)
    quota = uploads.upload_volume_quota(settings)
    app.add_middleware(
        UploadGuard,
        body_limit=limits,
        bytes_in_flight=settings.max_upload_bytes_in_flight,
        volume=UploadVolume(context.limiter, quota) if quota else None,
        respond=uploads.respond,
        refused=context.runtime.metrics.counter(
            "satupintu_uploads_refused_total",
            "Uploads refused before their body was stored, by reason (too-large, longer-than-declared, volume, "
            "busy, unavailable).",
            ["reason"],
        ),
    )


def main() -> None:
    """Console script ``satupintu-intake``: serves the service; ``satupintu-intake migrate`` upgrades its database;
    ``satupintu-intake citizen-account --nik … --email … --name …`` creates a local citizen account."""
    if sys.argv[1:2] == [accounts.COMMAND]:
        sys.exit(accounts.citizen_account_main(sys.argv[2:]))
    service_main(SCHEMA, IntakeSettings, create_app)
