"""Payment's Kafka subscription: the lifecycle events that bill an application (``application.submitted``) and
that withdraw its open bill (``application.rejected``, ``application.cancelled``), on ``applications``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from satupintu.common.consumer import EventConsumer, EventWork, Handler
from satupintu.common.consuming import Outcome, Record
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import ApplicationCancelled, ApplicationRejected, ApplicationSubmitted
from satupintu.contract.base import EventPayload
from satupintu.contract.topics import Topic
from satupintu.payment.services import BillingService

CONSUMER = "payment"
"""The consumer of ``applications`` (group ``satupintu.payment``, as its Kafka ACLs allow)."""


class PreparingConsumer(EventConsumer):
    """The common consumer, which first asks the billing system for the codes of a batch's bills, outside the
    transaction that then keeps them: a slow billing system never holds a database transaction open."""

    def __init__(
        self, runtime: ServiceRuntime, billing: BillingService, handlers: Mapping[type[EventPayload], Handler]
    ) -> None:
        super().__init__(
            name=CONSUMER,
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            broker=runtime.broker,
            kafka=runtime.settings.kafka,
            handlers=handlers,
            metrics=runtime.metrics,
            dead_letters=runtime.dead_letters,
        )
        self._billing = billing

    async def apply_together(self, work: Sequence[tuple[Record, EventWork]]) -> list[Outcome]:
        """Prepare each event's bill, then apply the batch in one transaction."""
        try:
            for _, (_, event) in work:
                await self._billing.prepare(event)
            return await super().apply_together(work)
        finally:
            for _, (_, event) in work:
                self._billing.forget(event)

    async def apply_alone(self, record: Record, item: EventWork) -> Outcome:
        """Prepare the event's bill, then apply it in its own transaction."""
        try:
            await self._billing.prepare(item[1])
            return await super().apply_alone(record, item)
        finally:
            self._billing.forget(item[1])


def subscribe(runtime: ServiceRuntime, billing: BillingService) -> None:
    """Consume submissions (billed when the service has a fee) and rejections and cancellations (an open bill is
    withdrawn) on ``applications``."""
    consumer = PreparingConsumer(
        runtime,
        billing,
        {
            ApplicationSubmitted: billing.on_submitted,
            ApplicationRejected: billing.on_application_ended,
            ApplicationCancelled: billing.on_application_ended,
        },
    )
    consumer.subscribe(Topic.APPLICATIONS.name_for(), gather=True)
    runtime.consumers.append(consumer)
