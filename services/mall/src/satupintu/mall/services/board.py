"""The performance board: per service and per agency, applications in, completed, rejected, cancelled and open, and
the share applied for by businesses; median and p90 processing time against the service standard; SLA compliance;
the satisfaction index; the fees billed, paid, expired and received, and within how many days they were paid; and
today's queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.mall.domain import SkmIndex
from satupintu.mall.schemas import BoardRead, PaymentsRead, QueueRead, SatisfactionRead, ServicePerformance
from satupintu.mall.services.queue import QueueService
from satupintu.mall.services.survey import SurveyService
from satupintu.mall.storage.repository import ApplicationRepository, PaymentRow, PerformanceRow


def satisfaction_of(index: SkmIndex | None) -> SatisfactionRead | None:
    """The JSON form of an index."""
    if index is None:
        return None
    return SatisfactionRead(
        respondents=index.respondents,
        index=float(index.index),
        converted=float(index.converted),
        grade=cast(Literal["A", "B", "C", "D"], index.grade.letter),
        grade_label=index.grade.label_id,
    )


def _compliance(row: PerformanceRow | None) -> float | None:
    if row is None or row.on_time + row.late == 0:
        return None
    return row.on_time / (row.on_time + row.late)


def _business_share(row: PerformanceRow | None) -> float | None:
    if row is None or row.received == 0:
        return None
    return round(100 * row.businesses / row.received, 1)


def payments_of(row: PaymentRow | None) -> PaymentsRead:
    """The JSON form of a group's payment figures (zeros when nothing was billed)."""
    if row is None:
        return PaymentsRead(
            billed=0,
            paid=0,
            expired=0,
            cancelled=0,
            outstanding=0,
            received_rupiah=0,
            paid_within_median_days=None,
            paid_within_p90_days=None,
        )
    return PaymentsRead(
        billed=row.billed,
        paid=row.paid,
        expired=row.expired,
        cancelled=row.cancelled,
        outstanding=row.billed - row.paid - row.expired - row.cancelled,
        received_rupiah=row.received,
        paid_within_median_days=_round(row.median_days_to_pay),
        paid_within_p90_days=_round(row.p90_days_to_pay),
    )


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


class BoardService:
    """Reads the projection, the survey answers and today's queue into one board."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        surveys: SurveyService,
        queue: QueueService,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._surveys = surveys
        self._queue = queue
        self._clock = clock

    def _agency_name(self, code: str) -> str:
        agency = self._catalogue.agency(code)
        return agency.name.id if agency else code

    async def board(self, days: int) -> BoardRead:
        """The board over the last ``days`` days."""
        now = self._clock()
        since, until = now - timedelta(days=days), now + timedelta(seconds=1)
        async with self._sessions() as session:
            repository = ApplicationRepository(session)
            by_service = {row.key: row for row in await repository.performance(since, until, now, "service_code")}
            by_agency = {row.key: row for row in await repository.performance(since, until, now, "agency")}
            paid_by_service = {row.key: row for row in await repository.payments(since, until, "service_code")}
            paid_to_agency = {row.key: row for row in await repository.payments(since, until, "agency")}
        indexes = await self._surveys.indexes(since, until)
        services = [
            self._row(
                by_service.get(service.code),
                service_code=service.code,
                name=service.name.id,
                agency=service.agency,
                standard=service.sla_working_days,
                satisfaction=indexes.by_service.get(service.code),
                business_satisfaction=indexes.business_by_service.get(service.code),
                payments=paid_by_service.get(service.code),
            )
            for service in self._catalogue.services
        ]
        owning = sorted({service.agency for service in self._catalogue.services} | paid_to_agency.keys())
        agencies = [
            self._row(
                by_agency.get(code),
                service_code=None,
                name=self._agency_name(code),
                agency=code,
                standard=None,
                satisfaction=indexes.by_agency.get(code),
                business_satisfaction=indexes.business_by_agency.get(code),
                payments=paid_to_agency.get(code),
            )
            for code in owning
        ]
        return BoardRead(
            generated_at=now, since=since, until=now, services=services, agencies=agencies, queue=await self.queue()
        )

    def _row(
        self,
        row: PerformanceRow | None,
        *,
        service_code: str | None,
        name: str,
        agency: str,
        standard: int | None,
        satisfaction: SkmIndex | None,
        business_satisfaction: SkmIndex | None,
        payments: PaymentRow | None,
    ) -> ServicePerformance:
        return ServicePerformance(
            service_code=service_code,
            name=name,
            agency=agency,
            agency_name=self._agency_name(agency),
            standard_working_days=standard,
            received=row.received if row else 0,
            completed=row.completed if row else 0,
            rejected=row.rejected if row else 0,
            open=row.open if row else 0,
            median_working_days=row.median_working_days if row else None,
            p90_working_days=row.p90_working_days if row else None,
            median_hours=_round(row.median_hours) if row else None,
            p90_hours=_round(row.p90_hours) if row else None,
            on_time=row.on_time if row else 0,
            late=row.late if row else 0,
            sla_compliance=_compliance(row),
            satisfaction=satisfaction_of(satisfaction),
            cancelled=row.cancelled if row else 0,
            business_applications=row.businesses if row else 0,
            business_share_percent=_business_share(row),
            business_satisfaction=satisfaction_of(business_satisfaction),
            payments=payments_of(payments),
        )

    async def queue(self) -> list[QueueRead]:
        """Today's queue of every service that had a ticket today."""
        rows = await self._queue.today_queue()
        answer: list[QueueRead] = []
        for row in rows:
            service = self._catalogue.service(row.service_code)
            answer.append(
                QueueRead(
                    service_code=row.service_code,
                    service_name=service.name.id if service else row.service_code,
                    waiting=row.waiting,
                    called=row.called,
                    served=row.served,
                    no_show=row.no_show,
                    average_wait_minutes=_minutes(row.average_wait_seconds),
                    longest_wait_minutes=_minutes(row.longest_wait_seconds),
                    estimated_wait_minutes=await self._queue.estimate_for_new(row.service_code, row.waiting),
                    priority_waiting=row.priority_waiting,
                    priority_median_wait_minutes=_minutes(row.priority_median_wait_seconds),
                    regular_median_wait_minutes=_minutes(row.regular_median_wait_seconds),
                )
            )
        return answer


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
