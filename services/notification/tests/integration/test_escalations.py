"""Service-standard breaches reach a person, on the real broker and database, through the real SMTP server and SMS
gateway of the tests: each breach (a task's, an application's, a complaint's) sends the agency's escalation target
one message per channel of its catalogue contact, in Indonesian, however often the event is delivered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from services.notification.tests.integration.parties import Notification, Outside, value_of
from services.notification.tests.integration.test_notification_delivery import (
    consumer,
    international,
    publish,
    submitted,
    then,
    unique_phone,
)

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationSlaBreached, ApplicationTaskSlaBreached
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ComplaintSlaBreached
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from satupintu.notification.domain import message_id
from satupintu.notification.handlers import MALL_CONSUMER
from tests.support import produce, record_of

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()


def contact_of(agency: str) -> tuple[str, str]:
    found = CATALOGUE.agency(agency)
    assert found is not None
    email, phone = found.escalation_contact.email, found.escalation_contact.phone
    assert email is not None
    assert phone is not None
    return email, phone


def mails_about(outside: Outside, address: str, cause: str, domain: str) -> list[Any]:
    return [
        m for m in outside.mail.to(address) if m["Message-ID"].strip() == f"<{message_id(cause, 'email')}@{domain}>"
    ]


async def test_a_late_task_is_escalated_once_by_email_and_sms_to_its_agencys_target_even_when_redelivered(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = contact_of("polres")
    application_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    breach = Event(
        payload=ApplicationTaskSlaBreached(
            application_id=application_id,
            task_id=task_id,
            agency="polres",
            due_at=now - timedelta(hours=1),
            breached_at=now,
            escalation_target="kasat-intelkam",
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )
    duplicates_before = consumer(notification).duplicates

    await publish(kafka, breach, breach)  # the same ce_id twice, as a producer retry would

    await eventually(
        lambda: value_of(consumer(notification).duplicates),
        lambda seen: seen > duplicates_before,
        what="the repeat consumed as a duplicate",
    )
    deliveries = await notification.settled(application_id, count=2)
    await notification.drained()
    cause = breach.id + ":escalation"
    [mail] = mails_about(outside, email, cause, notification.settings.message_id_domain)
    [sms] = [
        text for text in outside.gateway.to(international(phone)) if text.idempotency_key == message_id(cause, "sms")
    ]
    assert sorted((d["channel"], d["template"], d["language"], d["status"]) for d in deliveries) == [
        ("email", "escalation", "id", "sent"),
        ("sms", "escalation", "id", "sent"),
    ]
    assert mail["Subject"] == f"Eskalasi: tugas Kepolisian Resor untuk permohonan {application_id} melewati batas waktu"
    body = mail.get_content()
    assert sms.message == body
    assert f"Permohonan: {application_id}\nInstansi: Kepolisian Resor\nTugas: {task_id}\n" in body
    assert "Batas waktu: " in body
    assert "Terlambat sejak: " in body
    assert f"http://127.0.0.1:8003/desk/tasks/{task_id}" in body


async def test_a_late_application_tells_the_applicant_and_escalates_to_the_target_it_names(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    target_email, target_phone = contact_of("dpmptsp")
    citizen_email = f"siti.{uuid.uuid4().hex[:8]}@example.id"
    first = submitted(email=citizen_email, phone=unique_phone())
    now = datetime.now(UTC)
    late = then(
        first,
        ApplicationSlaBreached(
            application_id=first.subject,
            due_at=now - timedelta(hours=1),
            breached_at=now,
            escalation_target="kepala-dpmptsp",
        ),
    )

    await publish(kafka, first, late)

    deliveries = await notification.settled(first.subject, count=2 * 3 + 2)
    domain = notification.settings.message_id_domain
    [escalation] = mails_about(outside, target_email, late.id + ":escalation", domain)
    [apology] = mails_about(outside, citizen_email, late.id, domain)
    assert [d["template"] for d in deliveries].count("escalation") == 2
    assert escalation["Subject"] == f"Eskalasi: permohonan {first.subject} melewati batas waktu standar pelayanan"
    assert "Kami mohon maaf" in apology.get_content()
    assert first.payload.applicant.nik not in escalation.get_content()
    assert any(
        text.idempotency_key == message_id(late.id + ":escalation", "sms")
        for text in outside.gateway.to(international(target_phone))
    )


async def test_a_complaint_left_unanswered_is_escalated_once_from_the_mall_topic(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, _ = contact_of("polres")
    complaint_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    breach = Event(
        payload=ComplaintSlaBreached(
            complaint_id=complaint_id,
            reference="ADU-20261127-0007",
            agency="polres",
            due_at=now - timedelta(days=1),
            breached_at=now,
            escalation_target="kasat-intelkam",
        ),
        source="/satupintu/mall",
        subject=complaint_id,
        actor="service:mall",
    )
    mall = consumer(notification, MALL_CONSUMER)
    duplicates_before = mall.duplicates

    await produce(kafka, Topic.MALL.name_for(), [record_of(breach), record_of(breach)])

    await eventually(
        lambda: value_of(mall.duplicates), lambda seen: seen > duplicates_before, what="the repeat seen as such"
    )
    deliveries = await notification.settled(complaint_id, count=2)
    [mail] = mails_about(outside, email, breach.id + ":escalation", notification.settings.message_id_domain)
    assert {d["template"] for d in deliveries} == {"escalation"}
    assert len(deliveries) == 2
    assert "Pengaduan: ADU-20261127-0007" in mail.get_content()
