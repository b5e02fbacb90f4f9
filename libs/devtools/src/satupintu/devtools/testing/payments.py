"""Paying an application's fee in tests, as the payment service would say it was paid: one ``payment.confirmed`` on
``applications`` keyed by the application id. Routing starts a fee service's stage only once it is paid (issue 21),
so every test that carries ``skck``, ``paspor``, ``pbg``, ``sim-perpanjangan`` or ``cek-sertifikat-tanah`` past its
payment stage pays with :func:`pay` (before or after the submission: routing keeps an early payment)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from satupintu.common.settings import KafkaSettings
from satupintu.contract.envelope import Event, to_record
from satupintu.contract.payments import PaymentConfirmed
from satupintu.contract.topics import Topic

BILLING_CODE = "820261100000001"
"""A billing code of the right shape (15 digits); routing does not look at it."""


def payment_confirmed(
    application_id: str, *, amount: int = 30_000, paid_at: datetime | None = None
) -> Event[PaymentConfirmed]:
    """The ``payment.confirmed`` event the payment service publishes when ``application_id``'s bill is paid."""
    now = paid_at or datetime.now(UTC)
    return Event(
        payload=PaymentConfirmed(
            application_id=application_id,
            bill_id=str(uuid.uuid4()),
            billing_code=BILLING_CODE,
            amount=amount,
            channel="gateway",
            reference=f"TEST-{uuid.uuid4()}",
            paid_at=now,
            confirmed_at=now,
        ),
        source="/satupintu/payment",
        subject=application_id,
        actor="service:payment",
    )


async def pay(
    kafka: KafkaSettings,
    application_id: str,
    *,
    amount: int = 30_000,
    paid_at: datetime | None = None,
    traceparent: str | None = None,
) -> Event[PaymentConfirmed]:
    """Publish that ``application_id``'s fee was paid (as the settings' Kafka user), in the trace ``traceparent``
    names (none: a trace of its own, as a gateway's callback starts); the event published."""
    event: Event[PaymentConfirmed] = payment_confirmed(application_id, amount=amount, paid_at=paid_at)
    if traceparent is not None:
        event = replace(event, traceparent=traceparent)
    record = to_record(event)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all", **kafka.client_options()
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            kafka.topic_name(Topic.APPLICATIONS.name_for()), record.value, key=record.key, headers=record.header_list()
        )
    finally:
        await producer.stop()
    return event
