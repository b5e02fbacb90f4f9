"""Entry point of the mall service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app, trust_proxies
from satupintu.mall import handlers, web
from satupintu.mall.api import (
    appointments,
    board,
    complaints,
    consent,
    install_domain_problems,
    pickups,
    queue,
    surveys,
)
from satupintu.mall.api.limits import PublicLimits, install_rate_limits
from satupintu.mall.config import MallSettings
from satupintu.mall.factory import MallContext
from satupintu.mall.migrations import SCHEMA

TITLE = (
    "Satu Pintu mall: queue tickets, satisfaction survey, complaints, performance board, consent ledger, "
    "documents collected at the counter"
)
DESCRIPTION = (
    "Counter queue tickets, the SKM satisfaction survey (Permen PANRB 14/2017), complaints to the agencies' desks, "
    "the performance board, the citizen's consent ledger, and the pickup of originals collected at the counter. "
    "Events on the `mall` topic."
)


def create_app(settings: MallSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the mall service: queue, survey, complaints, consent ledger, the board and its projection, pickups."""
    settings = settings or MallSettings()
    context = MallContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.projection, context.pickups)
    app = create_service_app(context.runtime, TITLE, description=DESCRIPTION, sign_in=context.sign_in)
    app.state.mall = context
    install_domain_problems(app)
    install_rate_limits(app, PublicLimits.configured(settings), web.rate_limited_page)
    app.add_middleware(
        SessionMiddleware,
        secret_key=context.session_secret,
        session_cookie=web.SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        path="/staff",
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    for module in (queue, appointments, surveys, complaints, consent, board, pickups, web):
        app.include_router(module.router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def main() -> None:
    """Console script ``satupintu-mall``: serves the service; ``satupintu-mall migrate`` upgrades its database."""
    service_main(SCHEMA, MallSettings, create_app)
