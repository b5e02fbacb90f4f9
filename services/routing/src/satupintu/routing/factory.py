"""The routing process's context: the runtime, the catalogue, the field cipher, the workflow use cases, the
background watches (SLA deadlines, sealing personal data) and operators' sign-in to the dead-letter page, built once
from settings."""

from __future__ import annotations

from dataclasses import dataclass

from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import FieldCipher
from satupintu.common.dead_letters import page as dead_letters_page
from satupintu.common.keys import field_cipher
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.working_days import parse_dates
from satupintu.routing.config import RoutingSettings
from satupintu.routing.migrations import SCHEMA
from satupintu.routing.sealing import PersonalDataSealing
from satupintu.routing.services import WorkflowService
from satupintu.routing.sla import SlaWatch
from satupintu.routing.storage.repository import WorkflowRepository

SERVICE_NAME = "routing"
SESSION_COOKIE = "routing_session"


@dataclass
class RoutingContext:
    """What the routing process works with; the watches run in the runtime's background once it starts."""

    runtime: ServiceRuntime
    settings: RoutingSettings
    catalogue: Catalogue
    cipher: FieldCipher
    workflows: WorkflowService
    sla_watch: SlaWatch
    sealing: PersonalDataSealing
    sign_in: SignIn

    @classmethod
    def build(cls, settings: RoutingSettings, clock: Clock) -> RoutingContext:
        """Wire the use cases and watches to the runtime's sessions and outbox, and count open tasks as a metric."""
        catalogue = load_catalogue()
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        cipher = field_cipher(settings.encryption_keys, settings.auth.keys_dir, SERVICE_NAME)
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
        sealing = PersonalDataSealing(
            runtime.sessions, catalogue, cipher, interval=settings.personal_data_sealing_interval_seconds
        )
        runtime.on_start(lambda: runtime.spawn(sla_watch.run()))
        runtime.on_start(lambda: runtime.spawn(sealing.run()))
        context = cls(
            runtime=runtime,
            settings=settings,
            catalogue=catalogue,
            cipher=cipher,
            workflows=WorkflowService(catalogue, cipher, parse_dates(settings.collective_leave), clock=clock),
            sla_watch=sla_watch,
            sealing=sealing,
            sign_in=operator_sign_in(settings, runtime, cipher),
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
        return context


def operator_sign_in(settings: RoutingSettings, runtime: ServiceRuntime, cipher: FieldCipher) -> SignIn:
    """Operators' sign-in to the dead-letter page through the provider (client ``satupintu-routing``)."""
    return SignIn(
        settings.oidc,
        SessionStore(runtime.sessions, cipher, utc_now),
        client=SERVICE_NAME,
        port=settings.port,
        roles={Role.OPERATOR},
        cookie=SESSION_COOKIE,
        landing=dead_letters_page.SIGN_IN_PAGE,
        home=dead_letters_page.PAGE,
    )
