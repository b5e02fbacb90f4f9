"""What notification tells a citizen who books a visit at the mall, on the real broker and database, through a real
SMTP server and SMS gateway: the one-time code that confirms the booking, on the contact they gave, and the reminder
the day before, in their language, each once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from services.notification.tests.integration.parties import Notification, Outside
from services.notification.tests.integration.test_notification_delivery import international, unique_phone

from satupintu.common.settings import KafkaSettings
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.mall import AppointmentCodeIssued, AppointmentReminderDue
from satupintu.contract.topics import Topic
from satupintu.notification.domain import message_id
from tests.support import produce, record_of

pytestmark = pytest.mark.integration
MALL = Topic.MALL.name_for()
STARTS_AT = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 09.00 WIB


def from_mall(payload: Any, subject: str) -> Event[Any]:
    return Event(payload=payload, source=event_source("mall"), subject=subject, actor="service:mall")


async def test_a_bookings_code_goes_to_the_email_given_and_its_reminder_comes_the_day_before_in_english(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, appointment_id = f"ana.{uuid.uuid4().hex[:8]}@example.id", str(uuid.uuid4())
    common = {"appointment_id": appointment_id, "service_code": "paspor", "agency": "imigrasi"}
    code = from_mall(
        AppointmentCodeIssued(
            **common,
            channel="email",
            recipient=email,
            code="482913",
            language="en",
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
        ),
        appointment_id,
    )
    reminder = from_mall(
        AppointmentReminderDue(
            **common, booking_code="BK-7KQ2M9XD", starts_at=STARTS_AT, channel="email", recipient=email, language="en"
        ),
        appointment_id,
    )
    await produce(kafka, MALL, [record_of(event) for event in (code, reminder, reminder)])  # redelivered: told once

    deliveries = await notification.settled(appointment_id, count=2)

    assert sorted(d["template"] for d in deliveries) == ["appointment.reminder_due", "one_time_code"]
    assert {d["status"] for d in deliveries} == {"sent"}
    domain = notification.settings.message_id_domain
    mails = {mail["Message-ID"].strip(): mail for mail in outside.mail.to(email)}
    assert len(mails) == 2
    code_mail = mails[f"<{message_id(code.id, 'email')}@{domain}>"]
    reminder_mail = mails[f"<{message_id(reminder.id, 'email')}@{domain}>"]
    assert "482913" in code_mail.get_content()
    assert " ".join(reminder_mail["Subject"].split()) == (
        "Reminder: your New Passport appointment tomorrow, 17 November 2026 09:00 WIB"
    )
    assert "BK-7KQ2M9XD" in reminder_mail.get_content()
    assert reminder_mail["Content-Language"] == "en"


async def test_a_reminder_to_a_phone_goes_by_sms_in_indonesian(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    phone, appointment_id = unique_phone(), str(uuid.uuid4())
    reminder = from_mall(
        AppointmentReminderDue(
            appointment_id=appointment_id,
            service_code="sim-perpanjangan",
            agency="satlantas",
            booking_code="BK-ABCD2345",
            starts_at=STARTS_AT,
            channel="sms",
            recipient=phone,
            language="id",
        ),
        appointment_id,
    )
    await produce(kafka, MALL, [record_of(reminder)])

    await notification.settled(appointment_id, count=1)

    [text] = outside.gateway.to(international(phone))
    assert "BK-ABCD2345" in text.message
    assert "17 November 2026 09.00 WIB" in text.message
    assert text.message.startswith("Anda memiliki janji temu untuk")
