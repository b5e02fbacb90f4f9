"""Entry point of the routing service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.crypto import FieldCipher, load_or_create_secret
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.working_days import parse_dates
from satupintu.routing import handlers
from satupintu.routing.api import workflows as workflows_api
from satupintu.routing.config import RoutingSettings
from satupintu.routing.migrations import SCHEMA
from satupintu.routing.sealing import PersonalDataSealing
from satupintu.routing.services import WorkflowService
from satupintu.routing.sla import SlaWatch
from satupintu.routing.storage.repository import WorkflowRepository

SERVICE_NAME = "routing"


def _cipher(settings: RoutingSettings) -> FieldCipher:
    if settings.encryption_keys:
        return FieldCipher.from_spec(settings.encryption_keys)
    return FieldCipher({"local1": load_or_create_secret(settings.auth.keys_dir / "routing-data-key-local1")}, "local1")


def create_app(settings: RoutingSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the routing service: consumers of applications and decisions, the SLA watch, the outbox relay."""
    settings = settings or RoutingSettings()
    catalogue = load_catalogue()
    runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
    cipher = _cipher(settings)
    workflows = WorkflowService(catalogue, cipher, parse_dates(settings.collective_leave), clock=clock)
    handlers.subscribe(runtime, workflows, catalogue)
    sla_watch = SlaWatch(
        runtime.sessions,
        runtime.outbox,
        catalogue,
        clock,
        interval=settings.sla_check_interval_seconds,
        breaches=runtime.metrics.counter(
            "satupintu_sla_breaches_total", "Service-standard breaches published.", ["kind", "agency"]
        ),
    )
    tasks_open = runtime.metrics.gauge(
        "satupintu_tasks_open", "Open agency tasks (not decided or withdrawn).", ["agency"]
    )

    async def count_open_tasks() -> None:
        async with runtime.sessions() as session:
            counts = await WorkflowRepository(session).open_tasks_per_agency()
        for agency in catalogue.agency_codes():
            tasks_open.labels(agency).set(counts.get(agency, 0))

    runtime.on_metrics(count_open_tasks)
    sealing = PersonalDataSealing(
        runtime.sessions, catalogue, cipher, interval=settings.personal_data_sealing_interval_seconds
    )
    runtime.on_start(lambda: runtime.spawn(sla_watch.run()))
    runtime.on_start(lambda: runtime.spawn(sealing.run()))
    app = create_service_app(runtime, "Satu Pintu routing: stage-by-stage agency workflow")
    app.state.sla_watch = sla_watch
    app.state.personal_data_sealing = sealing
    app.state.field_cipher = cipher
    app.include_router(workflows_api.router)
    return app


def main() -> None:
    """Console script ``satupintu-routing``: serves the service; ``satupintu-routing migrate`` upgrades its database."""
    service_main(SCHEMA, RoutingSettings, create_app)
