"""Audit's Kafka subscription: every topic, dead-letter topics included."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import SpanKind

from satupintu.audit.services import AuditService
from satupintu.common.broker import raw_body
from satupintu.common.catalogue import Catalogue
from satupintu.common.events.topics import all_topic_names
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.tracing import span


def subscribe(runtime: ServiceRuntime, audit: AuditService, catalogue: Catalogue) -> None:
    """Append every record of every topic to the audit log, committing the offset after the append."""
    kafka = runtime.settings.kafka
    topics = [kafka.topic_name(name) for name in all_topic_names(catalogue.agency_codes())]
    appended = runtime.metrics.counter(
        "satupintu_audit_entries_total", "Entries appended to the audit log, by event type.", ["type"]
    )

    async def audit_every_event(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)  # one record at a time (not a batch subscriber)
        headers = dict(record.headers or ())
        traceparent = headers.get("ce_traceparent", b"").decode("ascii", errors="replace") or None
        event_type = headers.get("ce_type", b"unknown").decode("utf-8", errors="replace")
        with span(f"audit {event_type}", SpanKind.CONSUMER, traceparent, topic=record.topic):
            if await audit.record(record):
                appended.labels(event_type).inc()

    runtime.broker.subscriber(
        *topics,
        group_id=kafka.topic_name("satupintu.audit"),
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        decoder=raw_body,
    )(audit_every_event)
