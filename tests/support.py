"""Helpers for end-to-end tests: producing records by hand and reading what services wrote."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer, ConsumerRecord

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import Applicant, ApplicationSubmitted
from satupintu.contract.base import Decision, DocumentRef
from satupintu.contract.envelope import Event, KafkaRecord, from_record, to_record
from satupintu.contract.tasks import TaskAssigned, TaskDecided
from satupintu.contract.topics import Topic, all_topic_names, dead_letter_topic, key_topic_names
from satupintu.devtools.testing.kafka import Record, consumer_record, read_to_end
from satupintu.devtools.testing.waiting import eventually


def submitted_event(
    service_code: str = "skck",
    data: dict[str, Any] | None = None,
    documents: tuple[DocumentRef, ...] = (),
    submitted_at: datetime | None = None,
) -> Event[ApplicationSubmitted]:
    """A valid ``application.submitted`` event as intake would publish it."""
    application_id = str(uuid.uuid4())
    return Event(
        payload=ApplicationSubmitted(
            application_id=application_id,
            tracking_code=f"SP-TEST-{application_id[:6]}",
            service_code=service_code,
            catalogue_version="2026.11.1",
            applicant=Applicant(nik="3171015506900002", name="Siti Rahayu", email="siti@example.id", language="id"),
            data=data if data is not None else {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"},
            documents=documents,
            submitted_at=submitted_at or datetime.now(UTC),
        ),
        source="/satupintu/intake",
        subject=application_id,
        actor="citizen",
    )


async def produce(
    kafka: KafkaSettings, logical_topic: str, records: list[KafkaRecord | tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    """Produce records (or raw key, value, headers triples) to a topic of this session, in order (as the settings'
    user, on a broker that authenticates its clients)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all", **kafka.client_options()
    )
    await producer.start()
    try:
        for record in records:
            if isinstance(record, KafkaRecord):
                key, value, headers = record.key, record.value, record.header_list()
            else:
                key, value, headers = record
            await producer.send_and_wait(kafka.topic_name(logical_topic), value, key=key, headers=headers)
    finally:
        await producer.stop()


def record_of(event: Event[Any]) -> KafkaRecord:
    """The Kafka record of an event."""
    return to_record(event)


def fetched(topic: str, events: list[Event[Any]], first_offset: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of ``events`` as one poll hands them to a consumer (one partition, consecutive offsets)."""
    records = [record_of(event) for event in events]
    return [
        consumer_record(topic, record.value, record.header_list(), key=record.key, offset=first_offset + index)
        for index, record in enumerate(records)
    ]


async def upload_document(client: httpx.AsyncClient, label: str = "ktp") -> str:
    """Upload a small, unique PDF to intake and return its hash."""
    content = f"%PDF-1.4 {label} {uuid.uuid4()}".encode()
    answer = await client.post("/documents", files={"file": (f"{label}.pdf", content, "application/pdf")})
    assert answer.status_code == 201, answer.text
    sha256: str = answer.json()["sha256"]
    return sha256


async def skck_application(client: httpx.AsyncClient) -> dict[str, Any]:
    """A valid SKCK (police clearance) application body, with its KTP uploaded."""
    return {
        "service_code": "skck",
        "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "email": "siti@example.id", "language": "id"},
        "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
        "documents": [{"name": "ktp", "sha256": await upload_document(client)}],
        "consent_reuse": False,
    }


def decision_event(
    assignment: Event[TaskAssigned],
    decision: Decision,
    *,
    outputs: dict[str, Any] | None = None,
    reason: str | None = None,
    questions: tuple[str, ...] = (),
    agency: str | None = None,
) -> Event[TaskDecided]:
    """An agency's decision on an assignment (``agency`` overrides who claims to decide)."""
    assigned = assignment.payload
    return assignment.caused(
        TaskDecided(
            application_id=assigned.application_id,
            task_id=assigned.task_id,
            agency=agency or assigned.agency,
            decision=decision,
            outputs=outputs or {},
            reason=reason,
            questions=questions,
            decided_at=datetime.now(UTC),
        ),
        source=f"/test/agency/{agency or assigned.agency}",
        actor=f"officer:{agency or assigned.agency}:tester",
    )


async def decide(kafka: KafkaSettings, event: Event[TaskDecided], on_agency_topic: str | None = None) -> None:
    """Publish a decision on an agency's decisions topic (its own unless ``on_agency_topic`` says otherwise)."""
    agency = on_agency_topic or event.payload.agency
    await produce(kafka, Topic.AGENCY_DECISIONS.name_for(agency), [to_record(event)])


async def events_on(kafka: KafkaSettings, logical_topic: str, application_id: str) -> list[Event[Any]]:
    """The parsed events of one application on a topic of this session, in topic order."""
    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(logical_topic))
    return [
        from_record(record.headers, record.value, record.key)
        for record in records
        if record.key == application_id.encode() and record.header("ce_type")
    ]


async def wait_for_events(
    kafka: KafkaSettings,
    logical_topic: str,
    application_id: str,
    event_type: str,
    count: int = 1,
    *,
    timeout: float = 30.0,
) -> list[Event[Any]]:
    """Poll until ``count`` events of ``event_type`` for the application are on the topic; return them all."""

    async def matching() -> list[Event[Any]]:
        return [e for e in await events_on(kafka, logical_topic, application_id) if e.type == event_type]

    return await eventually(
        matching, lambda found: len(found) >= count, timeout=timeout, what=f"{count} x {event_type}"
    )


async def dead_letters(kafka: KafkaSettings, logical_topic: str, key: str) -> list[dict[str, str | None]]:
    """Dead letters of a topic for one key: reason, consumer and origin."""
    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(dead_letter_topic(logical_topic)))
    return [
        {name: record.header(name) for name in ("dlq_reason", "dlq_consumer", "dlq_topic", "ce_id")}
        for record in records
        if record.key == key.encode()
    ]


async def every_record(kafka: KafkaSettings) -> list[tuple[str, Record, str]]:
    """Every record now on every topic of the contract and every key topic (dead-letter twins included), for the
    catalogue's agencies: its logical topic, the record, and its key, value and headers as text (what a search for a
    personal value in clear reads)."""
    codes = load_catalogue().agency_codes()
    found: list[tuple[str, Record, str]] = []
    for topic in [*all_topic_names(codes), *key_topic_names(codes)]:
        for record in await read_to_end(kafka.bootstrap_servers, kafka.topic_name(topic)):
            parts = [record.key or b"", record.value or b"", *record.headers.values()]
            found.append((topic, record, b"\n".join(parts).decode("utf-8", errors="replace")))
    return found
