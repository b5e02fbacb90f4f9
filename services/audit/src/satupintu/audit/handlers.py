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
from satupintu.common.tracing import sibling_spans


def subscribe(runtime: ServiceRuntime, audit: AuditService, catalogue: Catalogue) -> None:
    """Append every record of every topic to the audit log, committing the offset after the append."""
    kafka = runtime.settings.kafka
    topics = [kafka.topic_name(name) for name in all_topic_names(catalogue.agency_codes())]
    appended = runtime.metrics.counter(
        "satupintu_audit_entries_total", "Entries appended to the audit log, by event type.", ["type"]
    )

    async def audit_every_event(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        types, spans = [], []
        for record in records:
            headers = dict(record.headers or ())
            traceparent = headers.get("ce_traceparent", b"").decode("ascii", errors="replace") or None
            types.append(headers.get("ce_type", b"unknown").decode("utf-8", errors="replace"))
            spans.append((f"audit {types[-1]}", traceparent, {"topic": record.topic}))
        with sibling_spans(spans, SpanKind.CONSUMER):
            outcomes = await audit.record_many(records)
        for event_type, appended_now in zip(types, outcomes, strict=True):
            if appended_now:
                appended.labels(event_type).inc()

    runtime.broker.subscriber(
        *topics,
        group_id=kafka.topic_name("satupintu.audit"),
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        decoder=raw_body,
        batch=True,
        max_records=kafka.max_batch_records,
        batch_timeout_ms=kafka.batch_wait_ms,
        fetch_max_bytes=kafka.fetch_max_bytes,
        max_partition_fetch_bytes=kafka.fetch_max_bytes,
    )(audit_every_event)
