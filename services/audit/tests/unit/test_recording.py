"""What a Kafka record becomes in the log, before it is appended: events with personal data hashed, dead letters and
unparseable records as what they are, and a value the log cannot hold exactly recorded as ``unrecordable``, never
dropped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy.exc import DataError

from satupintu.audit.domain import EntryDraft, keyed_hash
from satupintu.audit.handlers import AuditConsumer
from satupintu.audit.recording import EntryReader
from satupintu.audit.services import AuditService
from satupintu.common.settings import KafkaSettings
from satupintu.devtools.testing.kafka import consumer_record as received_record
from tests.support import record_of, submitted_event

pytestmark = pytest.mark.unit

KEY = b"unit-test-key"
NOW = datetime(2026, 11, 3, 2, 15, tzinfo=UTC)


def consumer_record(
    topic: str, value: bytes, headers: list[tuple[str, bytes]], key: bytes = b"k"
) -> ConsumerRecord[bytes, bytes]:
    return received_record(topic, value, headers, key=key, partition=1, offset=42, timestamp=1_790_000_000_000)


def reader() -> EntryReader:
    return EntryReader(hash_key=KEY, clock=lambda: NOW)


def test_an_event_keeps_its_envelope_and_loses_its_personal_data() -> None:
    event = submitted_event()
    record = record_of(event)

    draft = reader().draft(consumer_record("t1.applications", record.value, record.header_list(), record.key))

    assert draft.ce_id == event.id
    assert draft.type == "application.submitted"
    assert draft.application_id == draft.subject == event.subject
    assert draft.correlation_id == event.id
    assert draft.recorded_at == NOW
    assert draft.payload["applicant"]["nik"] == keyed_hash(KEY, event.payload.applicant.nik)
    assert event.payload.applicant.nik not in json.dumps(draft.payload)
    assert keyed_hash(KEY, event.payload.applicant.nik) in draft.personal_hashes


def test_a_dead_letter_is_logged_with_its_reason_and_origin() -> None:
    headers = [
        ("dlq_reason", b"unknown event type 'x'"),
        ("dlq_consumer", b"routing"),
        ("dlq_topic", b"t1.applications"),
        ("ce_subject", b"app-9"),
    ]

    draft = reader().draft(consumer_record("t1.applications.dlq", b"{}", headers))

    assert draft.ce_id == "dlq:t1.applications.dlq:1:42"
    assert draft.type == "dead_letter"
    assert draft.actor == "service:routing"
    assert draft.payload["reason"] == "unknown event type 'x'"
    assert draft.payload["original"]["dlq_topic"] == "t1.applications"
    assert draft.time == datetime.fromtimestamp(1_790_000_000, UTC)


def test_an_unparseable_record_is_logged_as_invalid_with_the_reason() -> None:
    draft = reader().draft(consumer_record("t1.applications", b"{not json", [("ce_type", b"application.submitted")]))

    assert draft.ce_id == "invalid:t1.applications:1:42"
    assert draft.type == "invalid"
    assert draft.payload["reason"].startswith("missing header ce_id")


@pytest.mark.parametrize("field", [b'"skck"', b'"Siti Rahayu"'], ids=["plain field", "personal field"])
def test_a_value_json_cannot_carry_exactly_becomes_an_unrecordable_entry(field: bytes) -> None:
    record = record_of(submitted_event())
    unpaired_surrogate = record.value.replace(field, b'"x\\ud800"')  # valid JSON, not valid UTF-8 text

    draft = reader().draft(consumer_record("t1.applications", unpaired_surrogate, record.header_list()))

    assert draft.type == "unrecordable"
    assert draft.ce_id == "unrecordable:t1.applications:1:42"
    assert "UnicodeEncodeError" in draft.payload["reason"]


async def test_a_record_the_database_refuses_is_appended_as_unrecordable_not_dropped() -> None:
    audit = AuditService(sessions=None)  # type: ignore[arg-type]
    appended: list[EntryDraft] = []

    async def append_many(drafts: Sequence[EntryDraft]) -> list[bool]:
        if any(draft.type != "unrecordable" for draft in drafts):
            raise DataError("INSERT ...", {}, Exception("invalid byte sequence for encoding UTF8: 0x00"))
        appended.extend(drafts)
        return [True] * len(drafts)

    audit.append_many = append_many  # type: ignore[method-assign]
    consumer = AuditConsumer(audit, EntryReader(KEY, lambda: NOW), broker=KafkaBroker(), kafka=KafkaSettings())
    record = record_of(submitted_event())

    await consumer.process(consumer_record("t1.applications", record.value, record.header_list()))
    [entry] = appended
    assert entry.ce_id == "unrecordable:t1.applications:1:42"
    assert "invalid byte sequence" in entry.payload["reason"]
