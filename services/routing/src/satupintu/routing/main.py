"""Entry point of the routing service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.catalogue import load_catalogue
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.common.working_days import parse_dates
from satupintu.routing import handlers
from satupintu.routing.api import workflows as workflows_api
from satupintu.routing.config import RoutingSettings
from satupintu.routing.services import WorkflowService
from satupintu.routing.storage.tables import TaskRecord, WorkflowRecord

SERVICE_NAME = "routing"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    """Build the routing service: consumers of applications and decisions, the outbox relay, health."""
    settings = settings or RoutingSettings()
    catalogue = load_catalogue()
    runtime = ServiceRuntime(SERVICE_NAME, settings, tables=[WorkflowRecord, TaskRecord])
    workflows = WorkflowService(catalogue, parse_dates(settings.collective_leave))
    handlers.subscribe(runtime, workflows, catalogue)
    app = create_service_app(runtime, "Satu Pintu routing: stage-by-stage agency workflow")
    app.include_router(workflows_api.router)
    return app


def main() -> None:
    """Console script ``satupintu-routing``."""
    settings = RoutingSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
