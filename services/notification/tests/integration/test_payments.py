"""What notification tells a citizen about their fee, on the real broker and database, through a real SMTP server
and SMS gateway: the bill (amount written as people write it, billing code, deadline in WIB, the tracking link where
the QR code is), the reminder, the receipt, and that the application was cancelled because the fee was not paid in
time; each once, though every event arrives twice; and nothing of its own for ``payment.expired`` (the citizen hears
of it once, from routing's ``application.cancelled``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from services.notification.tests.integration.parties import PUBLIC_BASE_URL, Notification, Outside
from services.notification.tests.integration.test_notification_delivery import (
    international,
    publish,
    submitted,
    then,
    unique_phone,
)

from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationCancelled, ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentConfirmed, PaymentExpired, PaymentExpiring
from satupintu.notification.domain import message_id

pytestmark = pytest.mark.integration

BILLED_AT = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # 10.00 WIB
EXPIRES_AT = BILLED_AT + timedelta(days=7)


def payment(first: Event[ApplicationSubmitted], payload: Any) -> Event[Any]:
    """A payment event of the application, as the payment service would publish it."""
    return first.caused(payload, source="/satupintu/payment", actor="service:payment")


def bill_of(first: Event[ApplicationSubmitted]) -> dict[str, str]:
    return {
        "application_id": first.subject,
        "bill_id": str(uuid.uuid4()),
        "billing_code": "899" + str(uuid.uuid4().int)[:12],
    }


def billed(first: Event[ApplicationSubmitted], bill: dict[str, str]) -> Event[Any]:
    return payment(
        first,
        PaymentBilled(
            **bill,
            service_code="skck",
            agency="polres",
            kind="pnbp",
            amount=30_000,
            qris="000201010212" + "6304ABCD",
            pay_before_stage=0,
            expires_at=EXPIRES_AT,
            billed_at=BILLED_AT,
        ),
    )


def expiring(first: Event[ApplicationSubmitted], bill: dict[str, str]) -> Event[Any]:
    return payment(first, PaymentExpiring(**bill, amount=30_000, expires_at=EXPIRES_AT))


def texts_by_event(outside: Outside, phone: str, events: list[Event[Any]]) -> list[str]:
    """The SMS about each of ``events`` (exactly one each)."""
    texts = outside.gateway.to(international(phone))
    found = []
    for event in events:
        [text] = [text for text in texts if text.idempotency_key == message_id(event.id, "sms")]
        found.append(text.message)
    return found


async def test_a_bill_its_reminder_and_its_receipt_reach_the_applicant_once_each_in_indonesian(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted("id", email=email, phone=phone)
    bill = bill_of(first)
    paid = payment(
        first,
        PaymentConfirmed(
            **bill,
            amount=30_000,
            channel="counter",
            reference="KWT-2026-000123",
            paid_at=BILLED_AT + timedelta(days=2),
            confirmed_at=BILLED_AT + timedelta(days=2),
        ),
    )
    told = [billed(first, bill), expiring(first, bill), paid]
    await publish(kafka, first, *told, *told)  # every payment event redelivered: each told once

    deliveries = await notification.settled(first.subject, count=4 * 3)

    assert len(deliveries) == 4 * 3
    assert sorted(d["template"] for d in deliveries if d["channel"] == "email") == [
        "application.submitted",
        "payment.billed",
        "payment.confirmed",
        "payment.expiring",
    ]
    assert len(outside.mail.to(email)) == 4
    bill_text, reminder, receipt = texts_by_event(outside, phone, told)
    code = bill["billing_code"]
    assert (
        f"Tagihan biaya Surat Keterangan Catatan Kepolisian (SKCK) Rp30.000 (PNBP), kode billing {code}, "
        "bayar sebelum 23 November 2026 10.00 WIB." in bill_text
    )
    assert f"{PUBLIC_BASE_URL}/track/{first.payload.tracking_code}" in bill_text
    assert "QRIS" in bill_text
    assert f"Rp30.000, kode billing {code}, belum kami terima" in reminder
    assert "Jumlah: Rp30.000" in receipt
    assert "Dibayar melalui: loket Mal Pelayanan Publik" in receipt
    assert "Nomor referensi: KWT-2026-000123" in receipt
    domain = notification.settings.message_id_domain
    [bill_mail] = [
        m for m in outside.mail.to(email) if m["Message-ID"].strip() == f"<{message_id(told[0].id, 'email')}@{domain}>"
    ]
    assert bill_mail["Subject"] == f"Tagihan biaya Rp30.000 (PNBP): {first.payload.tracking_code}"
    hooks = outside.portal.about(first.subject)
    assert sorted(hook.body["type"] for hook in hooks) == [
        "application.submitted",
        "payment.billed",
        "payment.confirmed",
        "payment.expiring",
    ]


async def test_an_expired_bill_tells_the_applicant_once_in_english_that_the_application_was_cancelled(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"ana.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted("en", email=email, phone=phone)
    bill = bill_of(first)
    expired = payment(first, PaymentExpired(**bill, expired_at=EXPIRES_AT))
    cancelled = then(
        first, ApplicationCancelled(application_id=first.subject, reason="payment_expired", cancelled_at=EXPIRES_AT)
    )
    sent_bill = billed(first, bill)
    await publish(kafka, first, sent_bill, expired, cancelled, expired, cancelled)

    deliveries = await notification.settled(first.subject, count=3 * 3)

    assert len(deliveries) == 3 * 3  # submitted, billed, cancelled: payment.expired itself tells nobody
    assert {d["template"] for d in deliveries} == {"application.submitted", "payment.billed", "application.cancelled"}
    bill_text, cancellation = texts_by_event(outside, phone, [sent_bill, cancelled])
    assert f"IDR 30,000 (non-tax state revenue (PNBP)), billing code {bill['billing_code']}" in bill_text
    assert "pay it before 23 November 2026 10:00 WIB" in bill_text
    assert "was cancelled on 23 November 2026 10:00 WIB because its fee was not paid" in cancellation
    assert "do not pay with the old billing code" in cancellation
    assert f"{PUBLIC_BASE_URL}/track/{first.payload.tracking_code}" in cancellation
    assert len(outside.mail.to(email)) == 3
