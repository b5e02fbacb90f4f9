"""Notification tells citizens what happened, on the real broker and database, through a real SMTP server, SMS
gateway and webhook receiver: every template in both languages arrives; a redelivered event sends once; transient
failures are retried with the same stable id, permanent ones are not, and both end in an outcome event on the
``notifications`` topic; a slow channel holds up no other; operators see deliveries with recipients masked."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from services.notification.tests.integration.parties import (
    GATEWAY_TOKEN,
    PORTAL_SECRET,
    PUBLIC_BASE_URL,
    Notification,
    Outside,
    value_of,
)

from satupintu.common.consumer import EventConsumer
from satupintu.common.consuming import Invalid
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import (
    Applicant,
    ApplicationCompleted,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.contract.base import EventPayload
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued
from satupintu.devtools.testing.kafka import consumer_record
from satupintu.devtools.testing.waiting import eventually
from satupintu.notification.domain import message_id
from satupintu.notification.handlers import CODES_CONSUMER
from satupintu.notification.webhooks import InvalidWebhookSignature, verify_webhook_signature
from tests.support import produce, record_of, wait_for_events

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
NOTIFICATIONS = Topic.NOTIFICATIONS.name_for()
NIK = "3171015506900002"


def unique_phone() -> str:
    return "08" + str(uuid.uuid4().int)[:10]


def international(phone: str) -> str:
    return "+62" + phone[1:]


def submitted(
    language: str = "id", *, email: str | None = None, phone: str | None = None
) -> Event[ApplicationSubmitted]:
    application_id = str(uuid.uuid4())
    return Event(
        payload=ApplicationSubmitted(
            application_id=application_id,
            tracking_code=f"SP-TEST-{application_id[:6].upper()}",
            service_code="skck",
            catalogue_version="2026.11.1",
            applicant=Applicant(nik=NIK, name="Siti Rahayu", email=email, phone=phone, language=language),  # type: ignore[arg-type]
            data={"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"},
            submitted_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        subject=application_id,
        actor="citizen",
    )


def then(first: Event[ApplicationSubmitted], payload: EventPayload) -> Event[Any]:
    """A later lifecycle event of the same application, as routing would publish it."""
    return first.caused(payload, source="/satupintu/routing", actor="service:routing")


def information_requested(first: Event[ApplicationSubmitted]) -> Event[Any]:
    return then(
        first,
        ApplicationInformationRequested(
            application_id=first.subject,
            task_id=str(uuid.uuid4()),
            agency="polres",
            questions=("Untuk instansi mana SKCK ini?", "Mohon unggah pas foto terbaru."),
            requested_at=datetime.now(UTC),
        ),
    )


def sla_breached(first: Event[ApplicationSubmitted]) -> Event[Any]:
    now = datetime.now(UTC)
    return then(
        first,
        ApplicationSlaBreached(
            application_id=first.subject, due_at=now - timedelta(hours=1), breached_at=now, escalation_target="kapolres"
        ),
    )


def completed(first: Event[ApplicationSubmitted]) -> Event[Any]:
    return then(
        first,
        ApplicationCompleted(
            application_id=first.subject,
            outputs={"polres": {"skck_number": "SKCK/2026/11/0042"}},
            completed_at=datetime.now(UTC),
        ),
    )


def rejected(first: Event[ApplicationSubmitted]) -> Event[Any]:
    return then(
        first,
        ApplicationRejected(
            application_id=first.subject,
            agency="polres",
            task_id=str(uuid.uuid4()),
            reason="Pas foto tidak sesuai ketentuan.",
            rejected_at=datetime.now(UTC),
        ),
    )


async def publish(kafka: KafkaSettings, *events: Event[Any]) -> None:
    await produce(kafka, APPLICATIONS, [record_of(event) for event in events])


def consumer(notification: Notification, name: str = "notification") -> EventConsumer:
    [the_consumer] = [c for c in notification.app.state.runtime.consumers if c.name == name]
    assert isinstance(the_consumer, EventConsumer)
    return the_consumer


@pytest.mark.parametrize("language", ["id", "en"])
async def test_every_lifecycle_message_reaches_the_applicant_by_email_and_sms_in_their_language(
    notification: Notification, outside: Outside, kafka: KafkaSettings, language: str
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted(language, email=email, phone=phone)
    journey = [first, information_requested(first), sla_breached(first), completed(first)]
    other = submitted(language, email=email, phone=phone)
    reply = rejected(other)
    await publish(kafka, *journey, other, reply)

    deliveries = await notification.settled(first.subject, count=4 * 3)
    await notification.settled(other.subject, count=2 * 3 + 1)
    sent_events = await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.sent", 12)

    mails = {mail["Message-ID"].strip(): mail for mail in outside.mail.to(email)}  # a long header arrives folded
    texts = {text.idempotency_key: text for text in outside.gateway.to(international(phone))}
    hooks = {hook.idempotency_key: hook for hook in outside.portal.about(first.subject)}
    domain = notification.settings.message_id_domain
    assert len(mails) == len(texts) == 6
    received, asked, late, done, refused = (
        mails[f"<{message_id(event.id, 'email')}@{domain}>"] for event in [*journey, reply]
    )
    for event in [*journey, reply]:
        mail = mails[f"<{message_id(event.id, 'email')}@{domain}>"]
        assert texts[message_id(event.id, "sms")].message == mail.get_content()
        assert mail["Content-Language"] == language
    assert {text.authorization for text in texts.values()} == {f"Bearer {GATEWAY_TOKEN}"}
    tracking_code = first.payload.tracking_code
    link = f"{PUBLIC_BASE_URL}/track/{tracking_code}"
    if language == "id":
        assert received["Subject"] == f"Permohonan Surat Keterangan Catatan Kepolisian (SKCK) diterima: {tracking_code}"
        assert received.get_content().startswith("Yth. Siti,")
        assert "Kepolisian Resor memerlukan informasi tambahan" in asked.get_content()
        assert "Kami mohon maaf" in late.get_content()
        assert "Hasil permohonan:" in done.get_content()
        assert "Alasan:\nPas foto tidak sesuai ketentuan." in refused.get_content()
    else:
        assert (
            received["Subject"] == f"Your Police Clearance Certificate (SKCK) application was received: {tracking_code}"
        )
        assert received.get_content().startswith("Dear Siti,")
        assert "The District Police needs more information" in asked.get_content()
        assert "We apologise" in late.get_content()
        assert "Results:" in done.get_content()
        assert "Reason:\nPas foto tidak sesuai ketentuan." in refused.get_content()
    assert "3171********0002" in received.get_content()
    assert link in received.get_content()
    assert "1. Untuk instansi mana SKCK ini?\n2. Mohon unggah pas foto terbaru." in asked.get_content()
    assert f"{link}/answer" in asked.get_content()
    assert "SKCK/2026/11/0042" in done.get_content()
    assert all(NIK not in mail.get_content() and "Rahayu" not in mail.get_content() for mail in mails.values())

    assert [hooks[message_id(event.id, "webhook:portal")].body["type"] for event in journey] == [
        event.type for event in journey
    ]
    opened = hooks[message_id(first.id, "webhook:portal")].body
    assert "applicant" not in opened["data"]
    assert "data" not in opened["data"]
    assert opened["data"]["tracking_code"] == tracking_code
    assert hooks[message_id(journey[3].id, "webhook:portal")].body["data"]["outputs"] == {
        "polres": {"skck_number": "SKCK/2026/11/0042"}
    }
    assert {d["channel"] for d in deliveries} == {"email", "sms", "webhook:portal"}
    assert {d["status"] for d in deliveries} == {"sent"}
    assert {(event.payload.channel, event.payload.language) for event in sent_events} == {
        ("email", language),
        ("sms", language),
        ("webhook:portal", language),
    }
    assert {event.causation_id for event in sent_events} == {event.id for event in journey}
    assert {event.correlation_id for event in sent_events} == {first.id}


@pytest.mark.parametrize(("language", "channel"), [("id", "email"), ("en", "sms")])
async def test_one_time_code_reaches_the_contact_on_file_once_in_either_language(
    notification: Notification, outside: Outside, kafka: KafkaSettings, language: str, channel: str
) -> None:
    address = f"otp.{uuid.uuid4().hex[:8]}@example.id" if channel == "email" else unique_phone()
    verification_id = str(uuid.uuid4())
    issued = Event(
        payload=VerificationCodeIssued(
            verification_id=verification_id,
            channel=channel,  # type: ignore[arg-type]
            recipient=address,
            code="482913",
            language=language,  # type: ignore[arg-type]
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
        ),
        source="/satupintu/intake",
        subject=verification_id,
        actor="citizen",
    )
    codes = consumer(notification, CODES_CONSUMER)
    duplicates_before = codes.duplicates

    await produce(kafka, NOTIFICATIONS, [record_of(issued), record_of(issued)])  # the second is a repeat

    await eventually(
        lambda: value_of(codes.duplicates), lambda seen: seen > duplicates_before, what="the repeat seen as such"
    )
    [delivery] = await notification.settled(verification_id, count=1)
    [sent] = await wait_for_events(kafka, NOTIFICATIONS, verification_id, "notification.sent")
    if channel == "email":
        [mail] = outside.mail.to(address)
        subject, text = mail["Subject"], mail.get_content()
        assert (
            mail["Message-ID"].strip()
            == f"<{message_id(issued.id, 'email')}@{notification.settings.message_id_domain}>"
        )
    else:
        [sms] = outside.gateway.to(international(address))
        subject, text = "", sms.message
        assert sms.idempotency_key == message_id(issued.id, "sms")
    assert ("Kode verifikasi Anda: 482913" if language == "id" else "Your verification code: 482913") in text
    assert "482913" in subject or channel == "sms"
    assert (delivery["template"], delivery["status"], delivery["channel"]) == ("one_time_code", "sent", channel)
    assert address not in delivery["recipient"]
    assert (sent.payload.template, sent.causation_id) == ("one_time_code", issued.id)
    assert "482913" not in str(sent.payload.model_dump())


async def test_a_contact_reset_at_the_counter_is_told_to_the_old_contact_and_the_new_one(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    old_address, new_phone = f"old.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    reset_id = str(uuid.uuid4())
    reset = Event(
        payload=ProfileContactReset(
            reset_id=reset_id,
            old_channel="email",
            old_recipient=old_address,
            new_channel="sms",
            new_recipient=new_phone,
            language="id",
            reset_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        subject=reset_id,
        actor="officer:disdukcapil:rina",
    )

    await produce(kafka, NOTIFICATIONS, [record_of(reset), record_of(reset)])  # the second is a repeat

    deliveries = await notification.settled(reset_id, count=2)
    [mail] = outside.mail.to(old_address)
    [sms] = outside.gateway.to(international(new_phone))
    assert {(d["template"], d["channel"], d["status"]) for d in deliveries} == {
        ("contact_reset", "email", "sent"),
        ("contact_reset", "sms", "sent"),
    }
    assert "tidak lagi menerima kode" in mail.get_content()
    assert "Kode verifikasi kini dikirim ke sini" in sms.message
    assert old_address not in str(deliveries)


async def test_redelivered_event_sends_nothing_again(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted(email=email, phone=phone)
    duplicates_before = consumer(notification).duplicates

    await publish(kafka, first, first)  # the same ce_id twice, as a producer retry would

    await eventually(
        lambda: value_of(consumer(notification).duplicates),
        lambda duplicates: duplicates > duplicates_before,
        what="the repeat consumed as a duplicate",
    )
    deliveries = await notification.settled(first.subject, count=3)
    await notification.drained()
    sent = await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.sent", 3)
    assert len(deliveries) == 3
    assert sorted(event.payload.channel for event in sent) == ["email", "sms", "webhook:portal"]
    assert len(outside.mail.to(email)) == 1
    assert len(outside.gateway.to(international(phone))) == 1
    assert len(outside.portal.about(first.subject)) == 1
    assert [d["attempt_count"] for d in deliveries] == [1, 1, 1]


async def test_a_batch_stages_its_messages_once_and_a_later_event_finds_the_contact_its_submission_kept(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted(email=email, phone=phone)
    asked = information_requested(first)
    topic = kafka.topic_name(APPLICATIONS)
    notifications = consumer(notification)
    records = [
        consumer_record(topic, record.value, record.header_list(), key=record.key, offset=offset)
        for offset, record in enumerate(map(record_of, (first, asked, first)))
    ]
    work = []
    for record in records:
        item = notifications.read(record)
        assert item is not None
        assert not isinstance(item, Invalid)
        work.append((record, item))

    outcomes = await notifications.apply_together(work)  # one transaction: the contact is written at its end
    again = await notifications.apply_together(work)  # the whole batch redelivered

    deliveries = await notification.settled(first.subject, count=6)
    await notification.drained()
    assert outcomes == [True, True, False]
    assert again == [False, False, False]
    assert len(deliveries) == 6
    assert len(outside.mail.to(email)) == 2
    assert len(outside.gateway.to(international(phone))) == 2


async def test_gateway_answering_503_503_200_gets_three_attempts_and_one_delivery(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    phone = unique_phone()
    outside.gateway.scripts[international(phone)] = [503, 503, 200]
    first = submitted(phone=phone)

    await publish(kafka, first)

    deliveries = await notification.settled(first.subject, count=2)
    [sent] = [
        event
        for event in await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.sent", 2)
        if event.payload.channel == "sms"
    ]
    [sms] = [d for d in deliveries if d["channel"] == "sms"]
    requests = outside.gateway.to(international(phone))
    assert [request.status for request in requests] == [503, 503, 200]
    assert {request.idempotency_key for request in requests} == {message_id(first.id, "sms")}
    assert (sms["status"], sms["attempt_count"]) == ("sent", 3)
    assert [attempt["outcome"] for attempt in sms["attempts"]] == ["transient_failure", "transient_failure", "sent"]
    assert sms["attempts"][0]["detail"] == "SMS gateway answered HTTP 503 Service Unavailable"
    assert sent.payload.attempts == 3
    assert sent.payload.recipient == "*" * 10 + phone[-4:]


async def test_permanent_failure_is_not_retried_and_ends_failed_with_the_event(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"nobody.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    outside.gateway.scripts[international(phone)] = [400]
    outside.mail.scripts[email] = ["550 5.1.1 Mailbox does not exist"]
    first = submitted(email=email, phone=phone)

    await publish(kafka, first)

    deliveries = await notification.settled(first.subject, count=3)
    failures = await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.failed", 2)
    by_channel = {d["channel"]: d for d in deliveries}
    assert (by_channel["sms"]["status"], by_channel["sms"]["attempt_count"]) == ("failed", 1)
    assert (by_channel["email"]["status"], by_channel["email"]["attempt_count"]) == ("failed", 1)
    assert by_channel["webhook:portal"]["status"] == "sent"
    assert len(outside.gateway.to(international(phone))) == 1
    assert outside.mail.to(email) == []
    reasons = {event.payload.channel: event.payload.reason for event in failures}
    assert reasons == {"sms": "SMS gateway answered HTTP 400 Bad Request", "email": "SMTP recipient refused (550)"}
    assert all(event.payload.attempts == 1 for event in failures)
    assert all(email not in event.payload.recipient and phone[1:] not in event.payload.recipient for event in failures)
    assert {event.causation_id for event in failures} == {first.id}


async def test_transient_failures_past_the_retry_budget_end_failed_with_the_event(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email = f"busy.{uuid.uuid4().hex[:8]}@example.id"
    outside.mail.scripts[email] = ["451 4.3.0 Mailbox busy, try later"] * 5
    first = submitted(email=email)

    await publish(kafka, first)

    deliveries = await notification.settled(first.subject, count=2)
    [failed] = await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.failed")
    [mail] = [d for d in deliveries if d["channel"] == "email"]
    assert (mail["status"], mail["attempt_count"]) == ("failed", 3)
    assert [attempt["outcome"] for attempt in mail["attempts"]] == ["transient_failure"] * 3
    assert len([refusal for refusal in outside.mail.refusals if refusal[0] == email]) == 3
    assert (failed.payload.channel, failed.payload.attempts) == ("email", 3)
    assert failed.payload.reason == "SMTP recipient refused (451)"


async def test_a_slow_channel_holds_up_no_other(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    release = outside.gateway.holds[international(phone)] = asyncio.Event()
    first = submitted(email=email, phone=phone)

    await publish(kafka, first)

    try:
        waiting = await eventually(
            lambda: _statuses(notification, first.subject),
            lambda statuses: statuses.get("email") == statuses.get("webhook:portal") == "sent",
            what="e-mail and webhook delivered while the gateway is stuck",
        )
        arrived_meanwhile = (
            len(outside.mail.to(email)),
            len(outside.portal.about(first.subject)),
            len(outside.gateway.to(international(phone))),
        )
    finally:
        release.set()
    deliveries = await notification.settled(first.subject, count=3)
    assert waiting == {"email": "sent", "webhook:portal": "sent", "sms": "pending"}
    assert arrived_meanwhile == (1, 1, 0)
    assert {d["status"] for d in deliveries} == {"sent"}


async def _statuses(notification: Notification, application_id: str) -> dict[str, str]:
    return {d["channel"]: d["status"] for d in await notification.deliveries(application_id)}


async def test_portal_accepts_our_signature_and_refuses_a_wrong_one_and_a_stale_replay(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    first = submitted(email=f"siti.{uuid.uuid4().hex[:8]}@example.id")
    refusal = rejected(first)
    refused_before = len(outside.portal.refused)

    await publish(kafka, first, refusal)

    deliveries = await notification.settled(first.subject, count=2 + 3)
    [desk] = [d for d in deliveries if d["channel"] == "webhook:agency-desk"]
    [accepted_rejection] = [
        hook for hook in outside.portal.about(first.subject) if hook.event_type == "application.rejected"
    ]
    assert (desk["status"], desk["attempt_count"]) == ("failed", 1)
    assert desk["last_error"] == "webhook agency-desk answered HTTP 401 Unauthorized"
    assert outside.portal.refused[refused_before:] == ["the signature does not match the body and timestamp"]
    sent_at = int(accepted_rejection.timestamp)
    verify_webhook_signature(
        PORTAL_SECRET, accepted_rejection.timestamp, accepted_rejection.raw, accepted_rejection.signature, now=sent_at
    )
    with pytest.raises(InvalidWebhookSignature, match="stale or replayed"):
        verify_webhook_signature(
            PORTAL_SECRET,
            accepted_rejection.timestamp,
            accepted_rejection.raw,
            accepted_rejection.signature,
            now=sent_at + 301,
        )


async def test_operators_see_deliveries_with_masked_recipients_and_nobody_else_does(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted(email=email, phone=phone)
    await publish(kafka, first)
    deliveries = await notification.settled(first.subject, count=3)

    anonymous = await notification.client.get("/notifications", params={"application_id": first.subject})
    auditor = await notification.client.get(
        "/notifications",
        params={"application_id": first.subject},
        headers={"Authorization": f"Bearer {notification.auditor_token}"},
    )
    missing = await notification.client.get(
        "/notifications", headers={"Authorization": f"Bearer {notification.operator_token}"}
    )

    assert (anonymous.status_code, auditor.status_code, missing.status_code) == (401, 403, 422)
    assert missing.json()["errors"][0]["field"] == "application_id"
    recipients = {d["channel"]: d["recipient"] for d in deliveries}
    assert recipients == {
        "email": f"s***@{email.split('@')[1]}",
        "sms": "*" * 10 + phone[-4:],
        "webhook:portal": "portal",
    }
    for delivery in deliveries:
        assert set(delivery) >= {"message_id", "template", "language", "status", "attempts", "sent_at"}
        assert delivery["template"] == "application.submitted"
        assert delivery["attempts"][0]["outcome"] == "sent"
        shown = str(delivery)
        assert email not in shown
        assert phone[1:] not in shown
        assert NIK not in shown


async def test_applicant_without_a_reachable_contact_gets_a_console_line_that_claims_no_delivery(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    first = submitted()  # neither e-mail nor phone

    await publish(kafka, first)

    deliveries = await notification.settled(first.subject, count=2)
    await notification.drained()
    sent = await wait_for_events(kafka, NOTIFICATIONS, first.subject, "notification.sent")
    assert {(d["channel"], d["recipient"], d["status"]) for d in deliveries} == {
        ("console", "applicant", "sent"),
        ("webhook:portal", "portal", "sent"),
    }
    assert [event.payload.channel for event in sent] == ["webhook:portal"]


async def test_event_of_an_application_never_seen_submitted_still_reaches_the_subscribers(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    unseen = submitted(email=f"siti.{uuid.uuid4().hex[:8]}@example.id")
    finished = completed(unseen)

    await publish(kafka, finished)  # its application.submitted was never consumed here

    [delivery] = await notification.settled(unseen.subject, count=1)
    assert delivery["channel"] == "webhook:portal"
    assert outside.mail.to(unseen.payload.applicant.email or "") == []
