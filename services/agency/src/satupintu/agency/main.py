"""Entry point of the agency service (the officers' desk): ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from satupintu.agency import handlers
from satupintu.agency.api import documents as documents_api
from satupintu.agency.api import pages
from satupintu.agency.api import tasks as tasks_api
from satupintu.agency.config import AgencySettings
from satupintu.agency.migrations import SCHEMA
from satupintu.agency.services import DeskService, OfficerService
from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.crypto import FieldCipher, load_or_create_secret
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.events.topics import agency_reader
from satupintu.common.http import create_service_app, trust_proxies
from satupintu.common.ratelimit import TokenBuckets
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.working_days import parse_dates

SERVICE_NAME = "agency"
SESSION_COOKIE = "satupintu_desk"

DESCRIPTION = """The officers' task desk: each agency's open tasks (kept from its `agency.<code>.tasks` topic), claims
that expire, and decisions published on `agency.<code>.decisions`. Officers use the pages (`/login`, `/desk`) or this
JSON API with an officer's bearer token. Another agency's task or document is answered 404 and the attempt is
published as `access.recorded` (denied)."""


def _cipher(settings: AgencySettings) -> FieldCipher:
    if settings.encryption_keys:
        return FieldCipher.from_spec(settings.encryption_keys)
    return FieldCipher({"local1": load_or_create_secret(settings.auth.keys_dir / "agency-data-key-local1")}, "local1")


def _session_secret(settings: AgencySettings) -> str:
    if settings.session_secret:
        return settings.session_secret
    return load_or_create_secret(settings.auth.keys_dir / "agency-session-key").hex()


def create_app(settings: AgencySettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the desk: the task inbox and decisions watch consumers, the JSON API, the pages and the outbox relay."""
    settings = settings or AgencySettings()
    catalogue = load_catalogue()
    runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
    readers = [agency_reader(code) for code in sorted(catalogue.agency_codes())]
    keys = runtime.keep_citizen_keys(readers, private_keys_dir=settings.reader_private_keys_dir)
    desk = DeskService(
        runtime.sessions,
        runtime.outbox,
        catalogue,
        _cipher(settings),
        LocalDocumentStore(
            settings.documents_dir, DocumentCipher.configured(settings.document_keys, settings.auth.keys_dir)
        ),
        claim_ttl=timedelta(seconds=settings.claim_ttl_seconds),
        due_soon_working_days=settings.due_soon_working_days,
        collective_leave=parse_dates(settings.collective_leave),
        keys=keys,
        clock=clock,
    )
    handlers.subscribe(runtime, desk, catalogue)
    app = create_service_app(runtime, "Satu Pintu agency desk: officers' tasks and the worker SDK", DESCRIPTION)
    app.add_middleware(
        SessionMiddleware,
        secret_key=_session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    pages.install_page_security(app)
    app.state.settings = settings
    app.state.catalogue = catalogue
    app.state.desk = desk
    app.state.officers = OfficerService(runtime.sessions, catalogue, clock=clock)
    app.state.login_throttle = TokenBuckets(settings.login_attempts_per_minute, settings.login_attempts_per_minute)
    app.include_router(tasks_api.router)
    app.include_router(documents_api.router)
    app.include_router(pages.router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def main() -> None:
    """Console script ``satupintu-agency``: serves the service; ``satupintu-agency migrate`` upgrades its database."""
    service_main(SCHEMA, AgencySettings, create_app)
