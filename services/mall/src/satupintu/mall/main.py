"""Entry point of the mall service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

import base64
from datetime import timedelta

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.crypto import FieldCipher, KeyedHasher, load_or_create_secret
from satupintu.common.http import create_service_app, trust_proxies
from satupintu.common.limits import Limiter, Quota
from satupintu.common.lockout import Lockout
from satupintu.common.ratelimit import TokenBuckets
from satupintu.common.runtime import ServiceRuntime, run_periodically
from satupintu.common.working_days import parse_dates
from satupintu.mall import handlers
from satupintu.mall.api import MallContext, install_domain_problems, pages
from satupintu.mall.api import board as board_api
from satupintu.mall.api import complaints as complaints_api
from satupintu.mall.api import consent as consent_api
from satupintu.mall.api import queue as queue_api
from satupintu.mall.api import staff as staff_api
from satupintu.mall.api import surveys as surveys_api
from satupintu.mall.api.limits import PublicLimits, WriteGroup, install_rate_limits
from satupintu.mall.config import MallSettings
from satupintu.mall.domain import ticket_prefixes
from satupintu.mall.migrations import SCHEMA
from satupintu.mall.services.board import BoardService
from satupintu.mall.services.complaints import ComplaintService, ComplaintWatch
from satupintu.mall.services.consent import ConsentService
from satupintu.mall.services.projection import ApplicationProjection
from satupintu.mall.services.queue import QueueService, QueueSettings
from satupintu.mall.services.survey import SurveyService
from satupintu.mall.storage.repository import ComplaintRepository, TicketRepository

SERVICE_NAME = "mall"
LIMIT_COUNTERS_CLEANUP_SECONDS = 300.0
LIMIT_COUNTERS_CLEANUP_BATCH = 1000


def _cipher(settings: MallSettings) -> FieldCipher:
    if settings.encryption_keys:
        return FieldCipher.from_spec(settings.encryption_keys)
    return FieldCipher({"local1": load_or_create_secret(settings.auth.keys_dir / "mall-data-key-local1")}, "local1")


def _hasher(settings: MallSettings) -> KeyedHasher:
    if settings.lookup_hash_key:
        return KeyedHasher(base64.b64decode(settings.lookup_hash_key))
    # the same development key as intake's: the pseudonyms intake sends must be what the mall finds a NIK by
    return KeyedHasher(load_or_create_secret(settings.auth.keys_dir / "intake-lookup-key"))


def _session_secret(settings: MallSettings) -> str:
    if settings.session_secret:
        return settings.session_secret
    return load_or_create_secret(settings.auth.keys_dir / "mall-session-key").hex()


def create_app(settings: MallSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the mall service: queue, survey, complaints, consent ledger, the board and its projection."""
    settings = settings or MallSettings()
    catalogue = load_catalogue()
    collective_leave = parse_dates(settings.collective_leave)
    runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
    metrics = runtime.metrics
    cipher = _cipher(settings)
    queue = QueueService(
        runtime.sessions,
        runtime.outbox,
        catalogue,
        prefixes=ticket_prefixes(catalogue),
        settings=QueueSettings(
            timezone=settings.timezone,
            default_minutes_per_ticket=settings.default_minutes_per_ticket,
            serving_rate_window=timedelta(minutes=settings.serving_rate_window_minutes),
        ),
        clock=clock,
        issued=metrics.counter("satupintu_tickets_issued_total", "Queue tickets issued, by service.", ["service_code"]),
    )
    surveys = SurveyService(
        runtime.sessions,
        runtime.outbox,
        cipher=cipher,
        public_url=settings.public_url,
        valid_for=timedelta(days=settings.survey_valid_days),
        clock=clock,
        answered=metrics.counter(
            "satupintu_surveys_answered_total", "Satisfaction surveys answered, by service.", ["service_code"]
        ),
    )
    complaints = ComplaintService(
        runtime.sessions,
        runtime.outbox,
        catalogue,
        cipher=cipher,
        sla_working_days=settings.complaint_sla_working_days,
        collective_leave=collective_leave,
        mall_timezone=settings.timezone,
        clock=clock,
        filed=metrics.counter("satupintu_complaints_filed_total", "Complaints filed, by agency.", ["agency"]),
    )
    hasher = _hasher(settings)
    limiter = Limiter(runtime.engine, clock)
    wrong_niks = Quota("mall.wrong-niks", settings.wrong_niks_per_tracking_code, timedelta(hours=settings.lock_hours))
    consent = ConsentService(
        runtime.sessions, runtime.outbox, catalogue, hasher, clock, wrong_niks=Lockout(limiter, wrong_niks)
    )
    runtime.on_start(
        lambda: runtime.spawn(
            run_periodically(
                "removing expired limit counters",
                lambda: limiter.remove_expired(LIMIT_COUNTERS_CLEANUP_BATCH),
                LIMIT_COUNTERS_CLEANUP_SECONDS,
                LIMIT_COUNTERS_CLEANUP_BATCH,
            )
        )
    )
    board = BoardService(runtime.sessions, catalogue, surveys, queue, clock)
    handlers.subscribe(runtime, ApplicationProjection(catalogue, hasher, surveys, consent, collective_leave))

    watch = ComplaintWatch(
        runtime.sessions, runtime.outbox, catalogue, clock, interval=settings.complaint_check_interval_seconds
    )
    runtime.on_start(lambda: runtime.spawn(watch.run()))

    waiting = metrics.gauge("satupintu_queue_waiting", "Queue tickets waiting now, by service.", ["service_code"])
    open_complaints = metrics.gauge("satupintu_complaints_open", "Complaints not yet answered, by agency.", ["agency"])

    async def refresh_gauges() -> None:
        async with runtime.sessions() as session:
            rows = {
                row.service_code: row.waiting
                for row in await TicketRepository(session).queue_today(queue.today(), clock())
            }
            open_per_agency = await ComplaintRepository(session).open_per_agency()
        for service in catalogue.services:
            waiting.labels(service.code).set(rows.get(service.code, 0))
        for code in catalogue.agency_codes():
            open_complaints.labels(code).set(open_per_agency.get(code, 0))

    runtime.on_metrics(refresh_gauges)

    app = create_service_app(
        runtime,
        "Satu Pintu mall: queue tickets, satisfaction survey, complaints, performance board, consent ledger",
        description="Counter queue tickets, the SKM satisfaction survey (Permen PANRB 14/2017), complaints to the "
        "agencies' desks, the performance board and the citizen's consent ledger. Events on the `mall` topic.",
    )
    app.state.mall = MallContext(
        settings=settings,
        catalogue=catalogue,
        queue=queue,
        surveys=surveys,
        complaints=complaints,
        consent=consent,
        board=board,
    )
    app.state.complaint_watch = watch
    install_domain_problems(app)
    install_rate_limits(
        app,
        PublicLimits.of(
            {
                WriteGroup.KIOSK: (settings.kiosk_rate_limit_per_minute, settings.kiosk_rate_limit_burst),
                WriteGroup.CITIZEN: (settings.rate_limit_per_minute, settings.rate_limit_burst),
            }
        ),
        pages.rate_limited_page,
    )
    attempts = settings.login_attempts_per_minute
    app.state.staff_login_throttle = TokenBuckets(attempts, attempts)
    app.add_middleware(
        SessionMiddleware,
        secret_key=_session_secret(settings),
        session_cookie=staff_api.SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        path="/staff",
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    for router in (
        queue_api.router,
        surveys_api.router,
        complaints_api.router,
        consent_api.router,
        board_api.router,
        pages.router,
        staff_api.router,
    ):
        app.include_router(router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def main() -> None:
    """Console script ``satupintu-mall``: serves the service; ``satupintu-mall migrate`` upgrades its database."""
    service_main(SCHEMA, MallSettings, create_app)
