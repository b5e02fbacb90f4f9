"""What notification tells a citizen at the end of the journey, on the real broker and database, through a real SMTP
server and SMS gateway: their document is ready (in their language, with the tracking link and no NIK, once; a
business's representative is told with the business named), and a complainant is told of the receipt, the complaint
being taken up and the answer, each once, in the language they filed in, on the contact they filed with."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from services.notification.tests.integration.parties import PUBLIC_BASE_URL, Notification, Outside
from services.notification.tests.integration.test_notification_delivery import (
    NIK,
    information_requested,
    international,
    publish,
    submitted,
    unique_phone,
)

from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted, Business
from satupintu.contract.base import DocumentRef
from satupintu.contract.documents import DocumentIssued
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ComplaintFiled, ComplaintResolved, ComplaintStatusChanged
from satupintu.contract.topics import Topic
from satupintu.notification.domain import message_id
from tests.support import produce, record_of

pytestmark = pytest.mark.integration
MALL = Topic.MALL.name_for()
SHA256 = "ab" * 32


def issued(first: Event[ApplicationSubmitted], *, collect_at_counter: bool) -> Event[Any]:
    """The SKCK issued for the application, as the desk would announce it."""
    return first.caused(
        DocumentIssued(
            document_id=uuid.uuid4(),
            application_id=first.subject,
            agency="polres",
            service_code="skck",
            number="SKCK/POLRES/2026/00042",
            issued_at=datetime(2026, 11, 16, 3, 0, tzinfo=UTC),
            valid_until=date(2027, 5, 16),
            sha256=SHA256,
            size_bytes=48_213,
            pdf=DocumentRef(name="skck", sha256=SHA256),
            holder_initials="S. R.",
            holder_nik_masked="************0002",
            officer="officer:polres:rina",
            collect_at_counter=collect_at_counter,
        ),
        source="/satupintu/agency",
        actor="officer:polres:rina",
    )


@pytest.mark.parametrize(("language", "collect_at_counter"), [("id", True), ("en", False)])
async def test_an_issued_document_is_told_to_the_applicant_once_in_their_language_with_the_tracking_link(
    notification: Notification, outside: Outside, kafka: KafkaSettings, language: str, collect_at_counter: bool
) -> None:
    email, phone = f"siti.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    first = submitted(language, email=email, phone=phone)
    document = issued(first, collect_at_counter=collect_at_counter)
    await publish(kafka, first, document, document)  # the issue redelivered: told once

    deliveries = await notification.settled(first.subject, count=2 * 3)

    ready = [d for d in deliveries if d["template"] == "document.issued"]
    assert sorted(d["channel"] for d in ready) == ["email", "sms", "webhook:portal"]
    domain = notification.settings.message_id_domain
    [mail] = [
        m for m in outside.mail.to(email) if m["Message-ID"].strip() == f"<{message_id(document.id, 'email')}@{domain}>"
    ]
    [text] = [
        t for t in outside.gateway.to(international(phone)) if t.idempotency_key == message_id(document.id, "sms")
    ]
    body, subject = mail.get_content(), " ".join(str(mail["Subject"]).split())  # a long header arrives folded
    assert text.message == body
    assert mail["Content-Language"] == language
    assert f"{PUBLIC_BASE_URL}/track/{first.payload.tracking_code}" in body
    assert "SKCK/POLRES/2026/00042" in body
    assert NIK not in body
    assert "0002" not in body  # not even masked: the link and the tracking code are enough
    assert "Rahayu" not in body
    if language == "id":
        assert subject.startswith("Dokumen Anda sudah terbit: Surat Keterangan Catatan Kepolisian")
        assert "loket Mal Pelayanan Publik. Bawa KTP Anda." in body
    else:
        assert subject.startswith("Your document is ready: Police Clearance Certificate")
        assert "Bring your KTP" not in body


@pytest.mark.parametrize("language", ["id", "en"])
async def test_a_business_is_named_when_its_representative_is_asked_for_information_and_told_its_document_is_ready(
    notification: Notification, outside: Outside, kafka: KafkaSettings, language: str
) -> None:
    email, phone = f"budi.{uuid.uuid4().hex[:8]}@example.id", unique_phone()
    person = submitted(language, email=email, phone=phone)
    business = Business(nib="8120001234567", npwp="0012345678901000", name="PT Maju Jaya")
    applicant = person.payload.applicant.model_copy(update={"kind": "business", "business": business})
    first = Event(
        payload=person.payload.model_copy(update={"applicant": applicant}),
        source=person.source,
        subject=person.subject,
        actor=person.actor,
    )
    asked, document = information_requested(first), issued(first, collect_at_counter=False)
    await publish(kafka, first, asked, document)

    await notification.settled(first.subject, count=3 * 3)

    mails = {mail["Message-ID"].strip(): mail for mail in outside.mail.to(email)}  # the representative's
    domain = notification.settings.message_id_domain
    question = mails[f"<{message_id(asked.id, 'email')}@{domain}>"].get_content()
    ready = mails[f"<{message_id(document.id, 'email')}@{domain}>"]
    ready_subject = " ".join(str(ready["Subject"]).split())
    texts = [t.message for t in outside.gateway.to(international(phone))]
    if language == "id":
        assert "untuk memproses permohonan Surat Keterangan Catatan Kepolisian (SKCK) PT Maju Jaya (" in question
        assert ready_subject.startswith("Dokumen PT Maju Jaya sudah terbit")
    else:
        assert "to process PT Maju Jaya's Police Clearance Certificate (SKCK) application" in question
        assert ready_subject.startswith("PT Maju Jaya's document is ready")
        assert "issued PT Maju Jaya's Police Clearance Certificate" in ready.get_content()
    assert sum("PT Maju Jaya" in text for text in texts) == 3
    assert "0012345678901000" not in question + ready.get_content()


def complaint_events(language: str, contact: str | None) -> list[Event[Any]]:
    """A complaint's life as the mall publishes it: filed, taken up, answered."""
    complaint_id, reference = str(uuid.uuid4()), f"ADU-20261116-{uuid.uuid4().int % 10_000:04d}"
    now = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
    common = {"complaint_id": complaint_id, "reference": reference, "agency": "polres"}
    filed = Event(
        payload=ComplaintFiled(
            **common,
            category="fees",
            description="Diminta uang tambahan di loket SKCK.",
            contact=contact,
            language=language,  # type: ignore[arg-type]
            due_at=now + timedelta(days=1),
            filed_at=now,
        ),
        source="/satupintu/mall",
        subject=complaint_id,
        actor="citizen",
    )
    taken = filed.caused(
        ComplaintStatusChanged(**common, state="in_progress", changed_at=now + timedelta(hours=2)),
        source="/satupintu/mall",
        actor="officer:polres:budi",
    )
    answered = filed.caused(
        ComplaintResolved(
            **common,
            response="Petugas sudah kami periksa; uang Anda dikembalikan.",
            within_sla=True,
            resolved_at=now + timedelta(hours=5),
        ),
        source="/satupintu/mall",
        actor="officer:polres:budi",
    )
    return [filed, taken, answered]


async def test_a_complainant_is_told_of_the_receipt_the_taking_up_and_the_answer_once_each_in_english(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    email = f"ana.{uuid.uuid4().hex[:8]}@example.id"
    filed, taken, answered = complaint_events("en", email)
    await produce(kafka, MALL, [record_of(event) for event in (filed, taken, answered, taken, answered)])

    deliveries = await notification.settled(filed.subject, count=3)

    assert sorted(d["template"] for d in deliveries) == [
        "complaint.filed",
        "complaint.resolved",
        "complaint.status_changed",
    ]
    assert {d["channel"] for d in deliveries} == {"email"}
    domain = notification.settings.message_id_domain
    mails = {mail["Message-ID"].strip(): mail for mail in outside.mail.to(email)}
    assert len(mails) == 3
    receipt, progress, answer = (mails[f"<{message_id(e.id, 'email')}@{domain}>"] for e in (filed, taken, answered))
    reference = filed.payload.reference
    assert receipt["Subject"] == f"We received your complaint: {reference}"
    assert "District Police" in receipt.get_content()
    assert '"Fees or charges"' in receipt.get_content()
    assert "Answer due by: 17 November 2026" in receipt.get_content()
    assert progress["Subject"] == f"Your complaint is being handled: {reference}"
    assert answer["Subject"] == f"The answer to your complaint: {reference}"
    assert "Petugas sudah kami periksa; uang Anda dikembalikan." in answer.get_content()
    assert all(mail["Content-Language"] == "en" for mail in mails.values())
    assert all(filed.subject not in mail.get_content() for mail in mails.values())


async def test_a_complainant_who_gave_a_phone_is_told_by_sms_in_indonesian_and_an_anonymous_one_not_at_all(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    phone = unique_phone()
    told = complaint_events("id", phone)
    anonymous = complaint_events("id", None)
    await produce(kafka, MALL, [record_of(event) for event in (*anonymous, *told)])

    await notification.settled(told[0].subject, count=3)

    texts = outside.gateway.to(international(phone))
    assert len(texts) == 3
    messages = sorted(text.message for text in texts)  # an SMS is the body alone
    assert [message.split("\n")[0][:60] for message in messages] == [
        "Meja pengaduan Kepolisian Resor menjawab pengaduan Anda (ADU",
        'Pengaduan Anda tentang "Biaya atau pungutan" kami terima pad',
        "Sejak 16 November 2026 12.00 WIB, petugas meja pengaduan Kep",
    ]
    assert await notification.deliveries(anonymous[0].subject) == []
