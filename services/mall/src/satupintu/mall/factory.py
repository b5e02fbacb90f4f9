"""The mall process's context: the runtime, the catalogue, the use cases (queue, survey, complaints, consent, board,
pickups at the counter, printed slips), the complaint watch, the staff pages' sign-in through the OpenID Connect
provider and their preferences cookie's secret, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, CatalogueError, load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.keys import field_cipher, lookup_hasher, session_secret
from satupintu.common.limits import Limiter, Quota
from satupintu.common.lockout import Lockout
from satupintu.common.oidc.sessions import SessionStore, TokenStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime, run_periodically
from satupintu.common.working_days import WorkingCalendar, parse_dates
from satupintu.mall.config import MallSettings
from satupintu.mall.domain import ticket_prefixes
from satupintu.mall.migrations import SCHEMA
from satupintu.mall.services.announcer import Announcer, AnnouncerSettings
from satupintu.mall.services.appointments import AppointmentService, AppointmentSettings, AppointmentWatch
from satupintu.mall.services.board import BoardService
from satupintu.mall.services.complaints import ComplaintService, ComplaintWatch
from satupintu.mall.services.consent import ConsentService
from satupintu.mall.services.counter_intake import CounterIntake
from satupintu.mall.services.pickups import PickupService
from satupintu.mall.services.printing import PrintingLinks, PrintingService
from satupintu.mall.services.projection import ApplicationProjection
from satupintu.mall.services.queue import QueueService, QueueSettings
from satupintu.mall.services.survey import SurveyService
from satupintu.mall.storage.repository import ComplaintRepository, TicketRepository

SERVICE_NAME = "mall"
LIMIT_COUNTERS_CLEANUP_SECONDS = 300.0
LIMIT_COUNTERS_CLEANUP_BATCH = 1000
STAFF_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.OPERATOR})
"""Who may sign in to the staff pages: agencies' officers (the counter, their agency's complaint desk, handing over
documents), auditors (every complaint desk and the documents waiting, read only) and operators."""
STAFF_COOKIE, STAFF_SIGN_IN_PAGE, STAFF_HOME = "mall_staff_session", "/staff/login", "/staff"


@dataclass(frozen=True)
class MallContext:
    """What the mall process works with; a request reaches the use cases through it. The complaint watch and the
    clean-up of old limit counters run in the runtime's background once it starts."""

    settings: MallSettings
    catalogue: Catalogue
    queue: QueueService
    surveys: SurveyService
    complaints: ComplaintService
    consent: ConsentService
    board: BoardService
    pickups: PickupService
    printing: PrintingService
    announcer: Announcer
    appointments: AppointmentService
    runtime: ServiceRuntime
    projection: ApplicationProjection
    complaint_watch: ComplaintWatch
    appointment_watch: AppointmentWatch
    sign_in: SignIn
    session_secret: str
    counter_intake: CounterIntake

    @classmethod
    def build(cls, settings: MallSettings, clock: Clock) -> MallContext:
        """Wire the use cases to the runtime's sessions and outbox, and the queue and complaints gauges."""
        catalogue = load_catalogue()
        if not catalogue.complaint_categories:
            raise CatalogueError(
                f"the catalogue {catalogue.version} has no complaint_categories: the mall files complaints under them"
            )
        collective_leave = parse_dates(settings.collective_leave)
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        metrics, keys_dir = runtime.metrics, settings.auth.keys_dir
        cipher = field_cipher(settings.encryption_keys, keys_dir, SERVICE_NAME)
        hasher = lookup_hasher(settings.lookup_hash_key, keys_dir)
        queue = QueueService(
            runtime.sessions,
            runtime.outbox,
            catalogue,
            prefixes=ticket_prefixes(catalogue),
            settings=QueueSettings(
                timezone=settings.timezone,
                default_minutes_per_ticket=settings.default_minutes_per_ticket,
                serving_rate_window=timedelta(minutes=settings.serving_rate_window_minutes),
                priority_ratio=settings.priority_ratio,
            ),
            clock=clock,
            issued=metrics.counter(
                "satupintu_tickets_issued_total", "Queue tickets issued, by service.", ["service_code"]
            ),
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
            collective_leave=collective_leave,
            mall_timezone=settings.timezone,
            clock=clock,
            filed=metrics.counter("satupintu_complaints_filed_total", "Complaints filed, by agency.", ["agency"]),
        )
        limiter = Limiter(runtime.engine, clock)
        wrong_niks = Quota(
            "mall.wrong-niks", settings.wrong_niks_per_tracking_code, timedelta(hours=settings.lock_hours)
        )
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
        watch = ComplaintWatch(
            runtime.sessions, runtime.outbox, catalogue, clock, interval=settings.complaint_check_interval_seconds
        )
        runtime.on_start(lambda: runtime.spawn(watch.run()))
        booking = AppointmentSettings(
            days_ahead=settings.booking_days_ahead,
            code_valid=timedelta(minutes=settings.booking_code_minutes),
            code_attempts=settings.booking_code_attempts,
            no_show_grace=timedelta(minutes=settings.no_show_grace_minutes),
            reminder_before=timedelta(hours=settings.reminder_hours_before),
        )
        appointments = AppointmentService(
            runtime.sessions,
            runtime.outbox,
            catalogue,
            rules={code: bookable.rule() for code, bookable in settings.appointments.items()},
            calendar=WorkingCalendar(settings.timezone, collective_leave),
            cipher=cipher,
            hasher=hasher,
            queue=queue,
            settings=booking,
            clock=clock,
        )
        appointment_watch = AppointmentWatch(
            runtime.sessions,
            runtime.outbox,
            catalogue,
            clock,
            interval=settings.appointment_check_interval_seconds,
            cipher=cipher,
            settings=booking,
        )
        runtime.on_start(lambda: runtime.spawn(appointment_watch.run()))
        context = cls(
            settings=settings,
            catalogue=catalogue,
            queue=queue,
            surveys=surveys,
            complaints=complaints,
            consent=consent,
            board=BoardService(runtime.sessions, catalogue, surveys, queue, clock),
            pickups=PickupService(runtime.sessions, runtime.outbox, cipher=cipher, clock=clock),
            printing=PrintingService(
                runtime.sessions,
                catalogue,
                queue,
                links=PrintingLinks(mall_url=settings.public_url, intake_url=settings.intake_url),
                timezone=settings.timezone,
            ),
            announcer=Announcer(
                AnnouncerSettings(
                    cache_dir=settings.announcement_cache_dir,
                    cache_entries=settings.announcement_cache_entries,
                    timeout_seconds=settings.announcement_timeout_seconds,
                )
            ),
            appointments=appointments,
            runtime=runtime,
            projection=ApplicationProjection(catalogue, hasher, surveys, consent, collective_leave, queue=queue),
            complaint_watch=watch,
            appointment_watch=appointment_watch,
            sign_in=SignIn(
                settings.oidc,
                SessionStore(runtime.sessions, cipher, utc_now),
                client=SERVICE_NAME,
                port=settings.port,
                roles=STAFF_ROLES,
                cookie=STAFF_COOKIE,
                landing=STAFF_SIGN_IN_PAGE,
                home=STAFF_HOME,
                tokens=TokenStore(runtime.sessions, cipher),  # the clerk's, to submit to intake as them
            ),
            session_secret=session_secret(settings.session_secret, keys_dir, SERVICE_NAME),
            counter_intake=CounterIntake(settings.intake_api_url or settings.intake_url),
        )
        context._measure_queue_and_complaints(clock)
        return context

    def _measure_queue_and_complaints(self, clock: Clock) -> None:
        """Refresh the gauges of waiting tickets (by service) and open complaints (by agency) on every scrape."""
        runtime, catalogue = self.runtime, self.catalogue
        waiting = runtime.metrics.gauge(
            "satupintu_queue_waiting", "Queue tickets waiting now, by service.", ["service_code"]
        )
        open_complaints = runtime.metrics.gauge(
            "satupintu_complaints_open", "Complaints not yet answered, by agency.", ["agency"]
        )

        async def refresh_gauges() -> None:
            async with runtime.sessions() as session:
                rows = {
                    row.service_code: row.waiting
                    for row in await TicketRepository(session).queue_today(self.queue.today(), clock())
                }
                open_per_agency = await ComplaintRepository(session).open_per_agency()
            for service in catalogue.services:
                waiting.labels(service.code).set(rows.get(service.code, 0))
            for code in catalogue.agency_codes():
                open_complaints.labels(code).set(open_per_agency.get(code, 0))

        runtime.on_metrics(refresh_gauges)
