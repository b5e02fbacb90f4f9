"""Every template in both languages renders from its event, in the applicant's language, with the least personal
data: first name and masked NIK, never the full NIK, e-mail or phone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.contract.applications import (
    Applicant,
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
    ApplicationTaskSlaBreached,
    Business,
)
from satupintu.contract.base import DocumentRef, EventPayload
from satupintu.contract.documents import DocumentIssued
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ComplaintSlaBreached, SurveyInvited
from satupintu.contract.payments import PaymentBilled, PaymentConfirmed, PaymentExpiring
from satupintu.notification.domain import Contact
from satupintu.notification.messages import (
    LANGUAGES,
    TEMPLATES,
    MessageComposer,
    TemplateRenderer,
    UnknownTemplate,
    long_date,
    long_time,
)

pytestmark = pytest.mark.unit

NIK = "3171015506900002"
APPLICANT = Applicant(nik=NIK, name="Siti Rahayu", email="siti@example.id", phone="081234567890", language="id")
FRIDAY = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 WIB
BASE_URL = "https://mpp.example.go.id"
BILLING_CODE = "899550071300418"
QRIS = "00020101021226..." + "6304ABCD"


def composer(**kwargs: Any) -> MessageComposer:
    return MessageComposer(load_catalogue(), BASE_URL + "/", **kwargs)


def contact(language: str) -> Contact:
    return Contact.of_applicant(APPLICANT.model_copy(update={"language": language}), "SP-ABCDE-123456-7890AB", "skck")


def event(payload: EventPayload) -> Event[Any]:
    return Event(payload=payload, source="/test", subject="app-1", actor="test")


def lifecycle_payloads() -> list[EventPayload]:
    return [
        ApplicationSubmitted(
            application_id="app-1",
            tracking_code="SP-ABCDE-123456-7890AB",
            service_code="skck",
            catalogue_version="2026.11.1",
            applicant=APPLICANT,
            data={"purpose": "Melamar pekerjaan"},
            submitted_at=FRIDAY,
        ),
        ApplicationInformationRequested(
            application_id="app-1",
            task_id="task-1",
            agency="polres",
            questions=("Untuk instansi mana SKCK ini?", "Mohon unggah pas foto terbaru."),
            requested_at=FRIDAY,
        ),
        ApplicationCompleted(
            application_id="app-1", outputs={"polres": {"skck_number": "SKCK/2026/11/0001"}}, completed_at=FRIDAY
        ),
        ApplicationRejected(
            application_id="app-1",
            agency="polres",
            task_id="task-1",
            reason="Pas foto tidak sesuai ketentuan.",
            rejected_at=FRIDAY,
        ),
        ApplicationSlaBreached(
            application_id="app-1",
            due_at=FRIDAY - timedelta(days=1),
            breached_at=FRIDAY,
            escalation_target="kasat-intelkam",
        ),
        SurveyInvited(
            application_id="app-1",
            tracking_code="SP-ABCDE-123456-7890AB",
            service_code="skck",
            agency="polres",
            outcome="completed",
            language="id",
            survey_url="https://mpp.example.go.id/surveys/token-1",
            expires_at=FRIDAY + timedelta(days=14),
            invited_at=FRIDAY,
        ),
        *payment_payloads(),
    ]


def payment_payloads() -> list[EventPayload]:
    """A bill's life as the payment service and routing tell it: billed, reminded, paid; or cancelled unpaid."""
    bill = {"application_id": "app-1", "bill_id": "bill-1", "billing_code": BILLING_CODE}
    return [
        PaymentBilled(
            **bill,
            service_code="skck",
            agency="polres",
            kind="pnbp",
            amount=30_000,
            qris=QRIS,
            pay_before_stage=0,
            expires_at=FRIDAY + timedelta(days=7),
            billed_at=FRIDAY,
        ),
        PaymentExpiring(**bill, amount=30_000, expires_at=FRIDAY + timedelta(days=7)),
        PaymentConfirmed(
            **bill,
            amount=30_000,
            channel="gateway",
            reference="TRX-20261127-0001",
            paid_at=FRIDAY + timedelta(hours=1),
            confirmed_at=FRIDAY + timedelta(hours=1),
        ),
        ApplicationCancelled(application_id="app-1", reason="payment_expired", cancelled_at=FRIDAY + timedelta(days=7)),
    ]


def document_issued() -> DocumentIssued:
    """The SKCK the police issued for the application."""
    return DocumentIssued(
        document_id=uuid.uuid4(),
        application_id="app-1",
        agency="polres",
        service_code="skck",
        number="SKCK/POLRES/2026/00042",
        issued_at=FRIDAY,
        valid_until=date(2027, 5, 27),
        sha256="ab" * 32,
        size_bytes=48_213,
        pdf=DocumentRef(name="skck", sha256="ab" * 32),
        holder_initials="S. R.",
        holder_nik_masked="************0002",
        officer="officer:polres:rina",
        collect_at_counter=True,
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("payload", lifecycle_payloads(), ids=lambda payload: payload.event_type)
def test_every_lifecycle_template_renders_in_the_applicants_language_without_full_personal_data(
    payload: EventPayload, language: str
) -> None:
    template, message = composer().lifecycle_message(event(payload), contact(language))

    assert template == payload.event_type
    assert message.subject
    assert "SP-ABCDE-123456-7890AB" in message.subject
    assert message.body.startswith("Yth. Siti," if language == "id" else "Dear Siti,")
    assert f"{BASE_URL}/track/SP-ABCDE-123456-7890AB" in message.body
    assert "Polisi" in message.body or "Police" in message.body or "Kepolisian" in message.body
    for personal in (NIK, "Rahayu", "siti@example.id", "081234567890", "1234567890"):
        assert personal not in message.subject + message.body
    assert "{{" not in message.body
    assert "Salam," in message.body if language == "id" else "Kind regards," in message.body


def test_submitted_and_completed_messages_identify_the_applicant_by_masked_nik_only() -> None:
    the_composer = composer()
    for payload in (lifecycle_payloads()[0], lifecycle_payloads()[2]):
        _, message = the_composer.lifecycle_message(event(payload), contact("id"))
        assert "3171********0002" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_about_a_business_application_name_the_business_and_greet_its_representative(
    language: str,
) -> None:
    business = Business(nib="8120001234567", npwp="sealed.v1.npwp", name="PT Maju Jaya")
    representative = APPLICANT.model_copy(update={"kind": "business", "business": business, "language": language})
    their_contact = Contact.of_applicant(representative, "SP-ABCDE-123456-7890AB", "cek-sertifikat-tanah")
    named = "PT Maju Jaya" if language == "id" else "PT Maju Jaya's"

    for payload in [*lifecycle_payloads(), document_issued()]:
        _, message = composer().lifecycle_message(event(payload), their_contact)
        assert message.body.startswith("Yth. Siti," if language == "id" else "Dear Siti,")
        assert named in message.body, message.body
    assert their_contact.email == "siti@example.id"  # told through the representative


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_document_ready_and_late_messages_of_a_business_name_it_in_their_subject(language: str) -> None:
    business = Business(nib="8120001234567", npwp="sealed.v1.npwp", name="PT Maju Jaya")
    representative = APPLICANT.model_copy(update={"kind": "business", "business": business, "language": language})
    their_contact = Contact.of_applicant(representative, "SP-ABCDE-123456-7890AB", "skck")

    _, ready = composer().lifecycle_message(event(document_issued()), their_contact)
    _, late = composer().lifecycle_message(event(lifecycle_payloads()[4]), their_contact)
    _, persons = composer().lifecycle_message(event(document_issued()), contact(language))

    if language == "id":
        assert ready.subject.startswith("Dokumen PT Maju Jaya sudah terbit: Surat Keterangan Catatan Kepolisian")
        assert "untuk permohonan Surat Keterangan Catatan Kepolisian (SKCK) PT Maju Jaya (" in ready.body
        assert late.subject.startswith("Mohon maaf, permohonan PT Maju Jaya terlambat")
        assert persons.subject.startswith("Dokumen Anda sudah terbit")
    else:
        assert ready.subject.startswith("PT Maju Jaya's document is ready: Police Clearance Certificate")
        assert "issued PT Maju Jaya's Police Clearance Certificate" in ready.body
        assert late.subject.startswith("We are sorry: PT Maju Jaya's application is late")
        assert persons.subject.startswith("Your document is ready")


def test_information_request_lists_the_questions_and_links_to_the_answer_page() -> None:
    _, message = composer().lifecycle_message(event(lifecycle_payloads()[1]), contact("en"))

    assert "1. Untuk instansi mana SKCK ini?\n2. Mohon unggah pas foto terbaru.\n" in message.body
    assert f"{BASE_URL}/track/SP-ABCDE-123456-7890AB/answer" in message.body
    assert "The District Police needs more information" in message.body


def test_completion_lists_each_agencys_outputs_and_rejection_gives_the_reason() -> None:
    _, completed = composer().lifecycle_message(event(lifecycle_payloads()[2]), contact("id"))
    _, rejected = composer().lifecycle_message(event(lifecycle_payloads()[3]), contact("en"))

    assert "Kepolisian Resor\n- Skck number: SKCK/2026/11/0001\n" in completed.body
    assert "27 November 2026" in completed.body
    assert "Reason:\nPas foto tidak sesuai ketentuan.\n" in rejected.body


def test_sla_breach_apologises_and_promises_a_date_counted_in_working_days() -> None:
    the_composer = composer(follow_up_working_days=3, collective_leave=frozenset({date(2026, 12, 1)}))
    _, indonesian = the_composer.lifecycle_message(event(lifecycle_payloads()[4]), contact("id"))
    _, english = the_composer.lifecycle_message(event(lifecycle_payloads()[4]), contact("en"))

    # Friday 27 Nov + 3 working days: Mon 30 Nov, (Tue 1 Dec is cuti bersama), Wed 2 Dec, Thu 3 Dec
    assert "Kami mohon maaf" in indonesian.body
    assert "seharusnya selesai pada 26 November 2026" in indonesian.body
    assert "paling lambat 3 Desember 2026" in indonesian.body
    assert "pimpinan Kepolisian Resor" in indonesian.body
    assert "We apologise" in english.body
    assert "by 3 December 2026 at the latest" in english.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_time_code_template_carries_the_code_and_its_lifetime(language: str) -> None:
    expires = FRIDAY + timedelta(minutes=10)
    template, message = composer().one_time_code_message(language, "482913", expires, FRIDAY)

    assert template == "one_time_code"
    assert "482913" in message.subject
    assert "482913" in message.body
    assert "10" in message.body
    assert ("27 November 2026 10.10 WIB" if language == "id" else "27 November 2026 10:10 WIB") in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_contact_reset_notices_tell_the_old_contact_and_the_new_one_apart(language: str) -> None:
    template, old = composer().contact_reset_message(language, old=True, reset_at=FRIDAY)
    _, new = composer().contact_reset_message(language, old=False, reset_at=FRIDAY)

    assert template == "contact_reset"
    assert old.subject == new.subject
    assert ("tidak lagi menerima" if language == "id" else "no longer receives") in old.body
    assert ("kini dikirim ke sini" if language == "id" else "now come here") in new.body
    assert ("27 November 2026 10.00 WIB" if language == "id" else "27 November 2026 10:00 WIB") in new.body
    assert "KTP" in old.body


def test_there_is_a_file_for_every_template_in_every_language_and_no_other() -> None:
    renderer = TemplateRenderer()
    with pytest.raises(UnknownTemplate):
        renderer.render("application.teleported", "id", {})
    with pytest.raises(UnknownTemplate):
        renderer.render("one_time_code", "jv", {})
    # issue 17 added contact_reset; issue 20 escalation, document.issued, three of complaints; issue 21 a bill's four;
    # issue 22 an appointment's reminder
    assert len(TEMPLATES) == 18


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("id", "Pengingat janji temu Paspor Baru besok, 17 November 2026 09.00 WIB"),
        ("en", "Reminder: your New Passport appointment tomorrow, 17 November 2026 09:00 WIB"),
    ],
)
def test_an_appointment_reminder_names_the_service_the_local_time_and_the_booking_code(
    language: str, expected: str
) -> None:
    template, message = composer().appointment_reminder_message(
        language,
        booking_code="BK-7KQ2M9XD",
        service_code="paspor",
        agency="imigrasi",
        starts_at=datetime(2026, 11, 17, 2, 0, tzinfo=UTC),
    )

    assert template == "appointment.reminder_due"
    assert message.subject == expected
    assert "BK-7KQ2M9XD" in message.body


def test_a_bill_says_the_amount_kind_billing_code_and_deadline_in_wib_as_written_in_each_language() -> None:
    billed = payment_payloads()[0]
    _, indonesian = composer().lifecycle_message(event(billed), contact("id"))
    _, english = composer().lifecycle_message(event(billed), contact("en"))

    assert indonesian.subject == "Tagihan biaya Rp30.000 (PNBP): SP-ABCDE-123456-7890AB"
    assert (
        "Tagihan biaya Surat Keterangan Catatan Kepolisian (SKCK) Rp30.000 (PNBP), kode billing 899550071300418, "
        "bayar sebelum 4 Desember 2026 10.00 WIB." in indonesian.body
    )
    assert "baru diproses setelah biaya ini dibayar" in indonesian.body
    assert "IDR 30,000 (non-tax state revenue (PNBP)), billing code 899550071300418" in english.body
    assert "pay it before 4 December 2026 10:00 WIB" in english.body
    assert QRIS not in indonesian.body + english.body  # the QR is on the tracking page, not in a text message


def test_a_reminder_repeats_what_to_pay_and_by_when() -> None:
    _, reminder = composer().lifecycle_message(event(payment_payloads()[1]), contact("id"))

    assert reminder.subject == "Pengingat: bayar Rp30.000 sebelum 4 Desember 2026 10.00 WIB: SP-ABCDE-123456-7890AB"
    assert "kode billing 899550071300418, belum kami terima" in reminder.body


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("id", ("Jumlah: Rp30.000", "Dibayar melalui: QRIS / transfer", "Nomor referensi: TRX-20261127-0001")),
        ("en", ("Amount: IDR 30,000", "Paid by: QRIS / transfer", "Reference: TRX-20261127-0001")),
    ],
)
def test_a_receipt_gives_the_amount_channel_and_reference(language: str, lines: tuple[str, ...]) -> None:
    _, receipt = composer().lifecycle_message(event(payment_payloads()[2]), contact(language))

    for line in lines:
        assert line in receipt.body


def test_a_cancellation_says_the_fee_was_not_paid_in_time_and_the_old_bill_is_void() -> None:
    _, indonesian = composer().lifecycle_message(event(payment_payloads()[3]), contact("id"))
    _, english = composer().lifecycle_message(event(payment_payloads()[3]), contact("en"))

    assert "dibatalkan pada 4 Desember 2026 10.00 WIB karena biayanya tidak dibayar" in indonesian.body
    assert "because its fee was not paid before the payment deadline" in english.body
    assert "do not pay with the old billing code" in english.body


def test_dates_are_written_as_people_write_them_in_each_language() -> None:
    moment = datetime(2026, 6, 15, 17, 30, tzinfo=UTC)  # past midnight in Jayapura

    assert long_date(moment, "id") == "16 Juni 2026"
    assert long_date(moment, "en") == "16 June 2026"
    assert long_time(moment, "id", "Asia/Jayapura") == "16 Juni 2026 02.30 WIT"
    assert long_time(moment, "en", "Asia/Makassar") == "16 June 2026 01:30 WITA"


def test_a_late_task_is_escalated_in_indonesian_naming_application_agency_task_dates_and_the_desk() -> None:
    breach = ApplicationTaskSlaBreached(
        application_id="app-1",
        task_id="task-7",
        agency="polres",
        due_at=FRIDAY - timedelta(days=1),
        breached_at=FRIDAY,
        escalation_target="kasat-intelkam",
    )
    the_composer = composer(desk_url="https://desk.example.go.id/")
    agency = the_composer.escalated_agency(breach)
    assert agency is not None

    template, message = the_composer.escalation_message(breach, agency)

    assert (template, agency.code) == ("escalation", "polres")
    assert message.subject == "Eskalasi: tugas Kepolisian Resor untuk permohonan app-1 melewati batas waktu"
    assert message.body.startswith("Yth. kasat-intelkam Kepolisian Resor,")
    assert "Permohonan: app-1\nInstansi: Kepolisian Resor\nTugas: task-7\n" in message.body
    assert "Batas waktu: 26 November 2026 10.00 WIB" in message.body
    assert "Terlambat sejak: 27 November 2026 10.00 WIB" in message.body
    assert "https://desk.example.go.id/desk/tasks/task-7" in message.body


def test_an_application_breach_is_escalated_to_the_agency_whose_target_it_names_and_unknown_targets_to_none() -> None:
    breach = ApplicationSlaBreached(
        application_id="app-1", due_at=FRIDAY, breached_at=FRIDAY, escalation_target="kepala-dpmptsp"
    )
    the_composer = composer()
    agency = the_composer.escalated_agency(breach)
    assert agency is not None

    _, message = the_composer.escalation_message(breach, agency)

    assert agency.code == "dpmptsp"
    assert message.subject == "Eskalasi: permohonan app-1 melewati batas waktu standar pelayanan"
    assert "Tugas:" not in message.body
    assert "http://127.0.0.1:8003/desk\n" in message.body
    assert the_composer.escalated_agency(breach.model_copy(update={"escalation_target": "nobody"})) is None


def test_a_complaint_breach_is_escalated_with_its_reference() -> None:
    breach = ComplaintSlaBreached(
        complaint_id="c-1",
        reference="ADU-20261127-0007",
        agency="dlh",
        due_at=FRIDAY,
        breached_at=FRIDAY,
        escalation_target="kepala-dlh",
    )
    the_composer = composer()
    agency = the_composer.escalated_agency(breach)
    assert agency is not None

    _, message = the_composer.escalation_message(breach, agency)

    assert message.subject == "Eskalasi: pengaduan ADU-20261127-0007 di Dinas Lingkungan Hidup melewati batas waktu"
    assert "Pengaduan: ADU-20261127-0007 (c-1)\nInstansi: Dinas Lingkungan Hidup\n" in message.body
