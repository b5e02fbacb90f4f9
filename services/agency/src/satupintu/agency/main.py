"""Entry point of the agency service (the officers' desk): ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from satupintu.agency import handlers, web
from satupintu.agency.api import documents as documents_api
from satupintu.agency.api import issued as issued_api
from satupintu.agency.api import supervision as supervision_api
from satupintu.agency.api import tasks as tasks_api
from satupintu.agency.config import AgencySettings
from satupintu.agency.factory import AgencyContext
from satupintu.agency.migrations import SCHEMA
from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app, trust_proxies

SESSION_COOKIE = "satupintu_desk"
TITLE = "Satu Pintu agency desk: officers' tasks and the worker SDK"
DESCRIPTION = """The officers' task desk: each agency's open tasks (kept from its `agency.<code>.tasks` topic), claims
that expire, and decisions published on `agency.<code>.decisions`. Officers use the pages (`/login`, `/desk`) or this
JSON API with an officer's bearer token. Another agency's task or document is answered 404, a token that is not an
officer's 403, and the attempt is published as `access.recorded` (denied) against the application the task or
document belongs to."""


def create_app(settings: AgencySettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the desk: the task inbox and decisions watch consumers, the JSON API, the pages and the outbox relay."""
    settings = settings or AgencySettings()
    context = AgencyContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.desk, context.catalogue)
    app = create_service_app(context.runtime, TITLE, DESCRIPTION, sign_in=context.sign_in)
    app.state.agency = context
    app.add_middleware(  # the pages' one-time messages; who is signed in is kept server-side (context.sign_in)
        SessionMiddleware,
        secret_key=context.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.oidc.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    web.install_page_security(app, context.sign_in)
    app.include_router(tasks_api.router)
    app.include_router(supervision_api.router)
    app.include_router(documents_api.router)
    app.include_router(issued_api.router)
    app.include_router(web.router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def main() -> None:
    """Console script ``satupintu-agency``: serves the service; ``satupintu-agency migrate`` upgrades its database."""
    service_main(SCHEMA, AgencySettings, create_app)
