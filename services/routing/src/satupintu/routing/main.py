"""Entry point of the routing service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app
from satupintu.routing import handlers
from satupintu.routing.api import workflows as workflows_api
from satupintu.routing.config import RoutingSettings
from satupintu.routing.factory import RoutingContext
from satupintu.routing.migrations import SCHEMA

TITLE = "Satu Pintu routing: stage-by-stage agency workflow"


def create_app(settings: RoutingSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the routing service: consumers of applications and decisions, the SLA watch, the outbox relay."""
    settings = settings or RoutingSettings()
    context = RoutingContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.workflows, context.catalogue)
    app = create_service_app(context.runtime, TITLE, sign_in=context.sign_in)
    app.state.routing = context
    app.include_router(workflows_api.router)
    return app


def main() -> None:
    """Console script ``satupintu-routing``: serves the service; ``satupintu-routing migrate`` upgrades its database."""
    service_main(SCHEMA, RoutingSettings, create_app)
