"""Helpers for end-to-end tests: producing records by hand and reading what services wrote."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from satupintu.common.events.applications import Applicant, ApplicationSubmitted
from satupintu.common.events.envelope import Event, KafkaRecord, to_record
from satupintu.common.settings import KafkaSettings


def submitted_event(service_code: str = "skck", data: dict[str, Any] | None = None) -> Event[ApplicationSubmitted]:
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
            submitted_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        subject=application_id,
        actor="citizen",
    )


async def produce(
    kafka: KafkaSettings, logical_topic: str, records: list[KafkaRecord | tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    """Produce records (or raw key, value, headers triples) to a topic of this session, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all")
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
