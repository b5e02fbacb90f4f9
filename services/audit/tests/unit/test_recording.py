"""What a Kafka record becomes in the log, before it is appended: events with personal data hashed, dead letters and
unparseable records as what they are, and a value the log cannot hold exactly recorded as ``unrecordable``, never
dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy.exc import DataError

from satupintu.audit.domain import keyed_hash
from satupintu.audit.handlers import AuditConsumer
from satupintu.audit.services import AuditService
from satupintu.common.settings import KafkaSettings
from satupintu.common.testing.kafka import consumer_record as received_record
from tests.support import record_of, submitted_event

pytestmark = pytest.mark.unit

KEY = b"unit-test-key"
NOW = datetime(2026, 11, 3, 2, 15, tzinfo=UTC)


def consumer_record(
    topic: str, value: bytes, headers: list[tuple[str, bytes]], key: bytes = b"k"
) -> ConsumerRecord[bytes, bytes]:
    return received_record(topic, value, headers, key=key, partition=1, offset=42, timestamp=1_790_000_000_000)


def service() -> AuditService:
    return AuditService(sessions=None, hash_key=KEY, clock=lambda: NOW)  # type: ignore[arg-type]


def test_an_event_keeps_its_envelope_and_loses_its_personal_data() -> None:
    event = submitted_event()
    record = record_of(event)

    values = service().entry_for(consumer_record("t1.applications", record.value, record.header_list(), record.key))

    assert values["ce_id"] == event.id
    assert values["type"] == "application.submitted"
    assert values["application_id"] == values["subject"] == event.subject
    assert values["correlation_id"] == event.id
    assert values["recorded_at"] == NOW
    assert values["payload"]["applicant"]["nik"] == keyed_hash(KEY, event.payload.applicant.nik)
    assert event.payload.applicant.nik not in json.dumps(values["payload"])
    assert keyed_hash(KEY, event.payload.applicant.nik) in values["personal_hashes"]


def test_a_dead_letter_is_logged_with_its_reason_and_origin() -> None:
    headers = [
        ("dlq_reason", b"unknown event type 'x'"),
        ("dlq_consumer", b"routing"),
        ("dlq_topic", b"t1.applications"),
        ("ce_subject", b"app-9"),
    ]

    values = service().entry_for(consumer_record("t1.applications.dlq", b"{}", headers))

    assert values["ce_id"] == "dlq:t1.applications.dlq:1:42"
    assert values["type"] == "dead_letter"
    assert values["actor"] == "service:routing"
    assert values["payload"]["reason"] == "unknown event type 'x'"
    assert values["payload"]["original"]["dlq_topic"] == "t1.applications"
    assert values["time"] == datetime.fromtimestamp(1_790_000_000, UTC)


def test_an_unparseable_record_is_logged_as_invalid_with_the_reason() -> None:
    values = service().entry_for(
        consumer_record("t1.applications", b"{not json", [("ce_type", b"application.submitted")])
    )

    assert values["ce_id"] == "invalid:t1.applications:1:42"
    assert values["type"] == "invalid"
    assert values["payload"]["reason"].startswith("missing header ce_id")


@pytest.mark.parametrize("field", [b'"skck"', b'"Siti Rahayu"'], ids=["plain field", "personal field"])
def test_a_value_json_cannot_carry_exactly_becomes_an_unrecordable_entry(field: bytes) -> None:
    record = record_of(submitted_event())
    unpaired_surrogate = record.value.replace(field, b'"x\\ud800"')  # valid JSON, not valid UTF-8 text

    values = service().entry_for(consumer_record("t1.applications", unpaired_surrogate, record.header_list()))

    assert values["type"] == "unrecordable"
    assert values["ce_id"] == "unrecordable:t1.applications:1:42"
    assert "UnicodeEncodeError" in values["payload"]["reason"]


async def test_a_record_the_database_refuses_is_appended_as_unrecordable_not_dropped() -> None:
    audit = service()
    appended: list[dict[str, Any]] = []

    async def append_many(entries: list[dict[str, Any]]) -> list[bool]:
        if any(values["type"] != "unrecordable" for values in entries):
            raise DataError("INSERT ...", {}, Exception("invalid byte sequence for encoding UTF8: 0x00"))
        appended.extend(entries)
        return [True] * len(entries)

    audit.append_many = append_many  # type: ignore[method-assign]
    consumer = AuditConsumer(audit, broker=KafkaBroker(), kafka=KafkaSettings())
    record = record_of(submitted_event())

    await consumer.process(consumer_record("t1.applications", record.value, record.header_list()))
    [entry] = appended
    assert entry["ce_id"] == "unrecordable:t1.applications:1:42"
    assert "invalid byte sequence" in entry["payload"]["reason"]
