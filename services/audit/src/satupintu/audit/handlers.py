"""Audit's Kafka consumer: every record of every topic, dead-letter topics included, appended to the log through the
consumers' shared path (:mod:`satupintu.common.consuming`): a batch at a time under one append lock, one at a time
when that fails; what cannot be read is logged as what it is (``invalid:``, ``unrecordable:``), never dropped."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind
from prometheus_client import Counter
from sqlalchemy.exc import DataError

from satupintu.audit.domain import EntryDraft
from satupintu.audit.recording import UNRECORDABLE, EntryReader
from satupintu.audit.services import AuditService
from satupintu.common.broker import DeadLetterProducer
from satupintu.common.catalogue import Catalogue
from satupintu.common.consuming import Record, RecordConsumer, RetryPolicy, record_headers
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.settings import KafkaSettings
from satupintu.common.tracing import sibling_spans, span
from satupintu.contract.topics import all_topic_names

AUDIT_CONSUMER = "audit"
_logger = logging.getLogger(__name__)


class AuditConsumer(RecordConsumer[EntryDraft]):
    """Reads each record as the draft entry it becomes and appends it; a record is never dead-lettered for what it
    holds (the log says what it was), only if the log refuses even its ``unrecordable`` entry after the retries."""

    def __init__(
        self,
        trail: AuditService,
        reader: EntryReader,
        *,
        broker: KafkaBroker,
        kafka: KafkaSettings,
        metrics: ServiceMetrics | None = None,
        retry: RetryPolicy | None = None,
        dead_letters: DeadLetterProducer | None = None,
    ) -> None:
        super().__init__(
            name=AUDIT_CONSUMER, broker=broker, kafka=kafka, retry=retry, metrics=metrics, dead_letters=dead_letters
        )
        self._trail = trail
        self._reader = reader
        self._appended: Counter = self._metrics.counter(
            "satupintu_audit_entries_total", "Entries appended to the audit log, by event type.", ["type"]
        )

    def read(self, record: Record) -> EntryDraft:
        """The draft ``record`` becomes; one that cannot even be read is an ``unrecordable`` draft saying why."""
        try:
            return self._reader.draft(record)
        except Exception as unreadable:  # whatever a hostile record makes a parser raise
            _logger.warning(
                "audit: %s cannot be read (%r); logging it as unrecordable", self._where(record), unreadable
            )
            return self._reader.unrecordable(record, f"{type(unreadable).__name__}: {unreadable}"[:500])

    def type_of(self, record: Record, item: EntryDraft | None = None) -> str:
        """The entry's type (an event type, ``invalid``, ``dead_letter`` or ``unrecordable``)."""
        return item.type if item is not None else record_headers(record).get("ce_type", "unknown")

    async def apply_together(self, work: Sequence[tuple[Record, EntryDraft]]) -> Sequence[bool]:
        """Append the batch's entries in order under one append lock; a value the chain cannot hash exactly fails
        the batch, and the one-at-a-time path logs it as ``unrecordable``."""
        with sibling_spans([_span_of(record, entry) for record, entry in work], SpanKind.CONSUMER):
            outcomes = await self._trail.append_many([entry for _, entry in work])
        for (_, entry), appended in zip(work, outcomes, strict=True):
            if appended:
                self._appended.labels(entry.type).inc()
        return outcomes

    async def apply_alone(self, record: Record, item: EntryDraft) -> bool:
        """Append one entry; one the database refuses as it is (bytes it cannot store, a value it cannot hash
        exactly) is appended as an ``unrecordable`` entry that says why."""
        entry = item
        name, traceparent, attributes = _span_of(record, entry)
        with span(name, SpanKind.CONSUMER, traceparent, **attributes):
            try:
                appended = await self._trail.append(entry)
            except (DataError, ValueError) as refused:
                if entry.type == UNRECORDABLE:
                    raise
                _logger.exception("audit: %s cannot be stored as it is; logging it as unrecordable", entry.ce_id)
                entry = self._reader.unrecordable(record, f"{type(refused).__name__}: {refused}"[:500])
                appended = await self._trail.append(entry)
        if appended:
            self._appended.labels(entry.type).inc()
        return appended


def _span_of(record: Record, entry: EntryDraft) -> tuple[str, str | None, dict[str, str]]:
    """The span of appending ``record``'s entry: named for its type, in the trace its ``ce_traceparent`` names."""
    return f"audit {entry.type}", record_headers(record).get("ce_traceparent") or None, {"topic": record.topic}


def subscribe(runtime: ServiceRuntime, audit: AuditService, reader: EntryReader, catalogue: Catalogue) -> AuditConsumer:
    """Append every record of every topic to the audit log, committing the offset after the append."""
    consumer = AuditConsumer(
        audit,
        reader,
        broker=runtime.broker,
        kafka=runtime.settings.kafka,
        metrics=runtime.metrics,
        dead_letters=runtime.dead_letters,
    )
    consumer.subscribe(
        *all_topic_names(catalogue.agency_codes()),
        description="Every record of every topic, dead letters included, appended to the hash-chained log.",
        gather=True,
    )
    runtime.consumers.append(consumer)
    return consumer
