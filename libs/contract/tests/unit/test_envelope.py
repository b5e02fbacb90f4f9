"""The event contract on the wire: CloudEvents binary mode round trips, malformed records, personal data, topics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest
from pydantic import ValidationError

from satupintu.contract.access import AccessRecorded
from satupintu.contract.applications import (
    Applicant,
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationProvided,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationStageStarted,
    ApplicationSubmitted,
    ApplicationTaskSlaBreached,
    ApplicationTaskUpdated,
    Business,
    StageTask,
)
from satupintu.contract.base import Decision, DocumentRef, EventPayload, TaskState
from satupintu.contract.documents import DocumentCollected, DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import EVENT_TYPES, EnvelopeError, Event, KafkaRecord, from_record, to_record
from satupintu.contract.mall import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCodeIssued,
    AppointmentNoShow,
    AppointmentReminderDue,
    ComplaintFiled,
    ComplaintResolved,
    ComplaintSlaBreached,
    ComplaintStatusChanged,
    ConsentGranted,
    ConsentUsed,
    ConsentWithdrawn,
    FieldUse,
    SkmAnswers,
    SurveyAnswered,
    SurveyInvited,
    TicketCalled,
    TicketIssued,
    TicketLinked,
    TicketNoShow,
    TicketServed,
)
from satupintu.contract.notifications import NotificationFailed, NotificationSent
from satupintu.contract.payments import (
    PaymentBilled,
    PaymentCancelled,
    PaymentConfirmed,
    PaymentExpired,
    PaymentExpiring,
)
from satupintu.contract.tasks import (
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)
from satupintu.contract.topics import Topic, all_topic_names
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued

pytestmark = pytest.mark.unit

WIB = timezone(timedelta(hours=7))
AT = datetime(2026, 8, 14, 9, 30, 15, tzinfo=WIB)
DUE = datetime(2026, 9, 2, 23, 59, 59, tzinfo=WIB)
APPLICATION_ID = "app-0f3c9a"
TASK_ID = "task-7d21"
TICKET_ID = "ticket-5b10"
COMPLAINT_ID = "complaint-91e4"
LEDGER_ID = "ledger-2c77"
APPOINTMENT_ID = "appointment-7d31"
DOCUMENT_ID = UUID("5f0c8a2e-9b1d-4c3e-8f7a-6d2b1e0c9a84")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
KTP = DocumentRef(name="ktp", sha256="a" * 64)
APPLICANT = Applicant(
    nik="3273010101900001", name="Budi Santoso", email="budi@example.go.id", phone="+6281234567890", language="id"
)
BUSINESS_APPLICANT = Applicant(
    kind="business",
    business=Business(nib="8120001234567", npwp="sealed.v1.npwp", name="PT Maju Jaya"),
    nik="3273010101900001",
    name="Budi Santoso",
    email="budi@majujaya.co.id",
    language="id",
)

SAMPLES: dict[type[EventPayload], EventPayload] = {
    ApplicationSubmitted: ApplicationSubmitted(
        application_id=APPLICATION_ID,
        tracking_code="SP-2026-AB12",
        service_code="pbg",
        catalogue_version="2026.11.1",
        applicant=APPLICANT,
        data={"building_function": "hunian", "floor_area_m2": 120.5, "floors": 2, "urgent": True, "note": None},
        documents=(KTP,),
        reused_fields=("site_address",),
        submitted_at=AT,
        channel="counter",
        ticket_id="0b7c6a52-3f2e-4d7a-9a51-7d2f1e8c4b10",
    ),
    ApplicationInformationProvided: ApplicationInformationProvided(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        answers={"drainage": "sumur resapan", "trees_kept": 3},
        documents=(KTP,),
        provided_at=AT,
    ),
    ApplicationStageStarted: ApplicationStageStarted(
        application_id=APPLICATION_ID,
        stage_index=0,
        stage_name="kajian-teknis",
        stage_count=2,
        tasks=(
            StageTask(task_id="task-1", agency="dinas-pupr", due_at=DUE),
            StageTask(task_id="task-2", agency="dlh", due_at=DUE),
        ),
        started_at=AT,
    ),
    ApplicationTaskUpdated: ApplicationTaskUpdated(
        application_id=APPLICATION_ID, task_id=TASK_ID, agency="dlh", state=TaskState.CLAIMED, at=AT
    ),
    ApplicationInformationRequested: ApplicationInformationRequested(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        questions=("Bagaimana pengelolaan air hujan?",),
        requested_at=AT,
    ),
    ApplicationCompleted: ApplicationCompleted(
        application_id=APPLICATION_ID,
        outputs={"dpmptsp": {"pbg_number": "PBG-3273-2026-0001"}, "dlh": {"approved": True}},
        completed_at=AT,
    ),
    ApplicationRejected: ApplicationRejected(
        application_id=APPLICATION_ID,
        agency="dinas-pupr",
        task_id=TASK_ID,
        reason="Garis sempadan bangunan dilanggar.",
        rejected_at=AT,
    ),
    ApplicationCancelled: ApplicationCancelled(
        application_id=APPLICATION_ID, reason="payment_expired", cancelled_at=AT
    ),
    PaymentBilled: PaymentBilled(
        application_id=APPLICATION_ID,
        bill_id="bill-7c1e",
        billing_code="899123456789014",
        service_code="skck",
        agency="polres",
        kind="pnbp",
        amount=30_000,
        qris="00020101021226...6304ABCD",
        pay_before_stage=0,
        expires_at=AT + timedelta(days=7),
        billed_at=AT,
    ),
    PaymentConfirmed: PaymentConfirmed(
        application_id=APPLICATION_ID,
        bill_id="bill-7c1e",
        billing_code="899123456789014",
        amount=30_000,
        channel="gateway",
        reference="TRX-20260814-0001",
        paid_at=AT,
        confirmed_at=AT,
    ),
    PaymentExpiring: PaymentExpiring(
        application_id=APPLICATION_ID,
        bill_id="bill-7c1e",
        billing_code="899123456789014",
        amount=30_000,
        expires_at=AT + timedelta(days=1),
    ),
    PaymentExpired: PaymentExpired(
        application_id=APPLICATION_ID, bill_id="bill-7c1e", billing_code="899123456789014", expired_at=AT
    ),
    PaymentCancelled: PaymentCancelled(
        application_id=APPLICATION_ID,
        bill_id="bill-7c1e",
        billing_code="899123456789014",
        reason="application_rejected",
        cancelled_at=AT,
    ),
    ApplicationSlaBreached: ApplicationSlaBreached(
        application_id=APPLICATION_ID, due_at=DUE, breached_at=AT, escalation_target="kepala-dpmptsp"
    ),
    ApplicationTaskSlaBreached: ApplicationTaskSlaBreached(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        due_at=DUE,
        breached_at=AT,
        escalation_target="kepala-dlh",
    ),
    DocumentIssued: DocumentIssued(
        document_id=DOCUMENT_ID,
        application_id=APPLICATION_ID,
        agency="polres",
        service_code="skck",
        number="SKCK/000017/2026/POLRES",
        issued_at=AT,
        valid_until=date(2027, 2, 14),
        sha256="b" * 64,
        size_bytes=48_213,
        pdf=DocumentRef(name="skck", sha256="b" * 64),
        holder_initials="B. S.",
        holder_nik_masked="************0001",
        officer="officer:polres:rina",
        collect_at_counter=False,
    ),
    DocumentCollected: DocumentCollected(
        document_id=DOCUMENT_ID,
        application_id=APPLICATION_ID,
        agency="polres",
        number="SKCK/POLRES/2026/00017",
        handed_over_by="officer:dpmptsp:sari",
        collected_by="Budi Santoso",
        collected_by_holder=True,
        collected_at=AT,
    ),
    DocumentRevoked: DocumentRevoked(
        document_id=DOCUMENT_ID,
        application_id=APPLICATION_ID,
        agency="polres",
        reason="Diterbitkan atas data yang keliru.",
        revoked_at=AT,
    ),
    TaskAssigned: TaskAssigned(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dinas-pupr",
        service_code="pbg",
        stage_index=0,
        fields={"floor_area_m2": 120.5, "floors": 2},
        documents=(KTP,),
        previous_outputs={"dlh": {"approved": True}},
        answers={"drainage": "sumur resapan"},
        due_at=DUE,
        assigned_at=AT,
    ),
    TaskWithdrawn: TaskWithdrawn(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        reason="rejected by dinas-pupr",
        withdrawn_at=AT,
    ),
    TaskSlaBreached: TaskSlaBreached(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        due_at=DUE,
        breached_at=AT,
        escalation_target="kepala-dlh",
    ),
    TaskClaimed: TaskClaimed(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        officer="officer-17",
        claimed_at=AT,
        expires_at=AT + timedelta(hours=2),
    ),
    TaskDecided: TaskDecided(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        decision=Decision.APPROVED,
        outputs={"approval_number": "DLH-88"},
        decided_at=AT,
    ),
    TaskDecisionAccepted: TaskDecisionAccepted(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        decision=Decision.APPROVED,
        decision_event_id="evt-decided",
        accepted_at=AT,
    ),
    TaskDecisionRefused: TaskDecisionRefused(
        application_id=APPLICATION_ID,
        task_id=TASK_ID,
        agency="dlh",
        decision=Decision.REJECTED,
        decision_event_id="evt-decided-again",
        reason="task was already decided (approved)",
        refused_at=AT,
    ),
    NotificationSent: NotificationSent(
        application_id=APPLICATION_ID,
        cause_event_id="evt-1",
        channel="email",
        template="application.completed",
        language="id",
        recipient="b***@example.go.id",
        attempts=1,
        sent_at=AT,
    ),
    NotificationFailed: NotificationFailed(
        application_id=APPLICATION_ID,
        cause_event_id="evt-1",
        channel="sms",
        template="application.rejected",
        language="en",
        recipient="+62812****7890",
        attempts=5,
        reason="gateway timeout",
        failed_at=AT,
    ),
    VerificationCodeIssued: VerificationCodeIssued(
        verification_id="verification-7",
        channel="email",
        recipient="siti@example.id",
        code="042917",
        language="id",
        expires_at=AT,
    ),
    ProfileContactReset: ProfileContactReset(
        reset_id="reset-3",
        old_channel="email",
        old_recipient="siti@example.id",
        new_channel="sms",
        new_recipient="081234567890",
        language="id",
        reset_at=AT,
    ),
    AccessRecorded: AccessRecorded(
        subject_id="audit-query-42",
        principal="auditor:siti",
        resource="GET /audit/events",
        action="read",
        outcome="denied",
        reason="role auditor required",
        at=AT,
    ),
    TicketIssued: TicketIssued(
        ticket_id=TICKET_ID,
        number="PBG-017",
        service_code="pbg",
        agency="dpmptsp",
        day=AT.date(),
        waiting_ahead=4,
        estimated_wait_minutes=22,
        issued_at=AT,
        priority=True,
    ),
    TicketCalled: TicketCalled(
        ticket_id=TICKET_ID,
        number="PBG-017",
        service_code="pbg",
        agency="dpmptsp",
        counter="Loket 3",
        waited_seconds=1260,
        called_at=AT,
    ),
    TicketServed: TicketServed(
        ticket_id=TICKET_ID,
        number="PBG-017",
        service_code="pbg",
        agency="dpmptsp",
        counter="Loket 3",
        service_seconds=540,
        tracking_code="SP-2026-AB12",
        served_at=AT,
    ),
    TicketNoShow: TicketNoShow(
        ticket_id=TICKET_ID, number="PBG-017", service_code="pbg", agency="dpmptsp", counter="Loket 3", marked_at=AT
    ),
    TicketLinked: TicketLinked(
        ticket_id=TICKET_ID,
        number="PBG-017",
        service_code="pbg",
        agency="dpmptsp",
        tracking_code="SP-2026-AB12",
        application_id=APPLICATION_ID,
        linked_at=AT,
    ),
    SurveyInvited: SurveyInvited(
        application_id=APPLICATION_ID,
        tracking_code="SP-2026-AB12",
        service_code="pbg",
        agency="dpmptsp",
        outcome="completed",
        language="id",
        survey_url="https://mpp.example.go.id/survey/abc123",
        expires_at=DUE,
        invited_at=AT,
    ),
    SurveyAnswered: SurveyAnswered(
        application_id=APPLICATION_ID,
        service_code="pbg",
        agency="dpmptsp",
        answers=SkmAnswers(
            requirements=4,
            procedure=3,
            completion_time=2,
            cost=4,
            product=3,
            competence=4,
            behaviour=4,
            complaints_handling=3,
            facilities=1,
        ),
        suggestion="Ruang tunggu perlu kipas angin.",
        answered_at=AT,
    ),
    ComplaintFiled: ComplaintFiled(
        complaint_id=COMPLAINT_ID,
        reference="ADU-20260814-0007",
        agency="dinas-pupr",
        application_id=APPLICATION_ID,
        service_code="pbg",
        category="slow",
        description="Kajian teknis belum selesai setelah tiga minggu.",
        contact="budi@example.go.id",
        language="en",
        due_at=DUE,
        filed_at=AT,
    ),
    ComplaintStatusChanged: ComplaintStatusChanged(
        complaint_id=COMPLAINT_ID,
        reference="ADU-20260814-0007",
        agency="dinas-pupr",
        state="in_progress",
        changed_at=AT,
    ),
    ComplaintResolved: ComplaintResolved(
        complaint_id=COMPLAINT_ID,
        reference="ADU-20260814-0007",
        agency="dinas-pupr",
        response="Kajian teknis selesai hari ini; mohon maaf atas keterlambatannya.",
        within_sla=True,
        resolved_at=AT,
    ),
    ComplaintSlaBreached: ComplaintSlaBreached(
        complaint_id=COMPLAINT_ID,
        reference="ADU-20260814-0007",
        agency="dinas-pupr",
        due_at=DUE,
        breached_at=AT,
        escalation_target="kepala-dinas-pupr",
    ),
    ConsentGranted: ConsentGranted(
        ledger_id=LEDGER_ID, application_id=APPLICATION_ID, agency="polres", fields=("address",), granted_at=AT
    ),
    ConsentWithdrawn: ConsentWithdrawn(
        ledger_id=LEDGER_ID, application_id=APPLICATION_ID, agency="polres", fields=("address",), withdrawn_at=AT
    ),
    ConsentUsed: ConsentUsed(
        ledger_id=LEDGER_ID,
        application_id=APPLICATION_ID,
        uses=(FieldUse(agency="polres", field="address", consented=True),),
        used_at=AT,
    ),
    AppointmentCodeIssued: AppointmentCodeIssued(
        appointment_id=APPOINTMENT_ID,
        service_code="paspor",
        agency="imigrasi",
        channel="email",
        recipient="siti@example.id",
        code="493817",
        language="id",
        expires_at=DUE,
    ),
    AppointmentBooked: AppointmentBooked(
        appointment_id=APPOINTMENT_ID,
        service_code="paspor",
        agency="imigrasi",
        booking_code="BK-7KQ2M9XD",
        starts_at=DUE,
        language="en",
        booked_at=AT,
    ),
    AppointmentCancelled: AppointmentCancelled(
        appointment_id=APPOINTMENT_ID, service_code="paspor", agency="imigrasi", starts_at=DUE, cancelled_at=AT
    ),
    AppointmentReminderDue: AppointmentReminderDue(
        appointment_id=APPOINTMENT_ID,
        service_code="paspor",
        agency="imigrasi",
        booking_code="BK-7KQ2M9XD",
        starts_at=DUE,
        channel="sms",
        recipient="081234567890",
        language="id",
    ),
    AppointmentCheckedIn: AppointmentCheckedIn(
        appointment_id=APPOINTMENT_ID,
        service_code="paspor",
        agency="imigrasi",
        ticket_id=TICKET_ID,
        number="PSP-004",
        checked_in_at=AT,
    ),
    AppointmentNoShow: AppointmentNoShow(
        appointment_id=APPOINTMENT_ID, service_code="paspor", agency="imigrasi", starts_at=AT, released_at=DUE
    ),
}


def _subject_of(payload: EventPayload) -> str:
    """The key an event of ``payload`` is published under: its ledger, ticket, complaint or application id, or its
    subject id on ``access``."""
    subject = (
        getattr(payload, "ledger_id", None)
        or getattr(payload, "ticket_id", None)
        or getattr(payload, "complaint_id", None)
        or getattr(payload, "application_id", None)
        or getattr(payload, "subject_id", None)
        or getattr(payload, "verification_id", None)
        or getattr(payload, "reset_id", None)
        or getattr(payload, "appointment_id", None)
    )
    assert isinstance(subject, str)
    return subject


def _event(payload: EventPayload, **overrides: object) -> Event[EventPayload]:
    attributes: dict[str, object] = {
        "payload": payload,
        "source": "satupintu/test",
        "subject": _subject_of(payload),
        "actor": "citizen:3273010101900001",
    }
    attributes.update(overrides)
    return Event(**attributes)  # type: ignore[arg-type]


def _record(payload: EventPayload | None = None) -> KafkaRecord:
    return to_record(_event(payload or SAMPLES[TaskClaimed]))


def _refusal(headers: dict[str, bytes], value: bytes | None) -> str:
    with pytest.raises(EnvelopeError) as refused:
        from_record(headers, value)
    assert str(refused.value) == refused.value.reason
    return refused.value.reason


def _subclasses(cls: type[EventPayload]) -> set[type[EventPayload]]:
    found: set[type[EventPayload]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_event_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES.values())
    assert all(type(sample) is payload_type for payload_type, sample in SAMPLES.items())


def test_every_concrete_payload_class_is_registered_under_its_own_type() -> None:
    concrete = {cls for cls in _subclasses(EventPayload) if "event_type" in vars(cls)}
    assert concrete == set(EVENT_TYPES.values())
    assert all(EVENT_TYPES[payload_type.event_type] is payload_type for payload_type in concrete)
    assert len(EVENT_TYPES) == 50


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_round_trips_through_kafka_binary_mode_with_cloudevents_headers(event_type: str) -> None:
    payload_type = EVENT_TYPES[event_type]
    payload = SAMPLES[payload_type]
    subject = _subject_of(payload)
    event = _event(
        payload,
        id=f"evt-{event_type}",
        time=datetime(2026, 8, 14, 2, 30, 15, 123456, tzinfo=UTC),
        correlation_id="corr-1",
        causation_id="cause-1",
        traceparent=TRACEPARENT,
    )

    record = to_record(event)
    parsed = from_record(record.header_list(), record.value, record.key)

    assert record.key == subject.encode()
    assert record.headers == {
        "ce_id": f"evt-{event_type}".encode(),
        "ce_source": b"satupintu/test",
        "ce_type": event_type.encode(),
        "ce_specversion": b"1.0",
        "ce_time": b"2026-08-14T02:30:15.123456Z",
        "ce_subject": subject.encode(),
        "ce_dataschema": f"urn:satupintu:schema:{event_type}:v1".encode(),
        "content-type": b"application/json",
        "ce_actor": b"citizen:3273010101900001",
        "ce_correlationid": b"corr-1",
        "ce_causationid": b"cause-1",
        "ce_traceparent": TRACEPARENT.encode(),
    }
    assert type(parsed.payload) is payload_type
    assert parsed.payload == payload
    assert parsed.type == event_type
    assert parsed.id == f"evt-{event_type}"
    assert parsed.source == "satupintu/test"
    assert parsed.subject == subject
    assert parsed.key == subject
    assert parsed.actor == "citizen:3273010101900001"
    assert parsed.time == datetime(2026, 8, 14, 9, 30, 15, 123456, tzinfo=WIB)
    assert parsed.correlation_id == "corr-1"
    assert parsed.causation_id == "cause-1"
    assert parsed.traceparent == TRACEPARENT
    assert parsed == event


def test_first_event_of_a_flow_is_its_own_correlation_and_carries_no_causation_or_trace_headers() -> None:
    event = _event(SAMPLES[ApplicationSubmitted], id="evt-first")

    record = to_record(event)
    parsed = from_record(record.headers, record.value)

    assert set(record.headers) == {
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "ce_dataschema",
        "content-type",
        "ce_actor",
        "ce_correlationid",
    }
    assert record.headers["ce_correlationid"] == b"evt-first"
    assert parsed.correlation_id == "evt-first"
    assert parsed.causation_id is None
    assert parsed.traceparent is None


def test_caused_event_keeps_the_correlation_names_its_cause_and_carries_the_trace() -> None:
    cause = _event(SAMPLES[TaskDecided], id="evt-decided", correlation_id="corr-submitted", traceparent=TRACEPARENT)

    effect = cause.caused(SAMPLES[ApplicationTaskUpdated], source="satupintu/routing", actor="service:routing")

    assert effect.correlation_id == "corr-submitted"
    assert effect.causation_id == "evt-decided"
    assert effect.traceparent == TRACEPARENT
    assert effect.subject == cause.subject
    assert effect.source == "satupintu/routing"
    assert effect.actor == "service:routing"
    assert effect.payload == SAMPLES[ApplicationTaskUpdated]
    assert effect.id != cause.id


def test_event_caused_by_the_first_event_of_a_flow_is_correlated_to_that_event() -> None:
    first = _event(SAMPLES[ApplicationSubmitted], id="evt-submitted")

    effect = first.caused(
        SAMPLES[AccessRecorded], source="satupintu/audit", actor="service:audit", subject="audit-query-42"
    )

    assert effect.correlation_id == "evt-submitted"
    assert effect.causation_id == "evt-submitted"
    assert effect.traceparent is None
    assert effect.subject == "audit-query-42"
    assert effect.key == "audit-query-42"


def test_value_that_is_not_json_is_refused_saying_so() -> None:
    record = _record()

    reason = _refusal(record.headers, b"{not json")

    assert "json" in reason.lower()


def test_json_list_payload_is_refused_as_not_a_json_object() -> None:
    record = _record()

    reason = _refusal(record.headers, b'[{"application_id": "app-1"}]')

    assert reason == "payload is not a JSON object"


def test_record_without_ce_type_is_refused_naming_the_header() -> None:
    record = _record()
    headers = {name: value for name, value in record.headers.items() if name != "ce_type"}

    assert _refusal(headers, record.value) == "missing header ce_type"


def test_event_with_unknown_type_is_refused_naming_the_type() -> None:
    record = _record()

    reason = _refusal({**record.headers, "ce_type": b"application.teleported"}, record.value)

    assert "unknown event type" in reason
    assert "application.teleported" in reason


def test_record_without_ce_id_is_refused_naming_the_header() -> None:
    record = _record()
    headers = {name: value for name, value in record.headers.items() if name != "ce_id"}

    assert _refusal(headers, record.value) == "missing header ce_id"


def test_payload_missing_a_required_field_is_refused_naming_schema_and_field() -> None:
    record = _record(SAMPLES[TaskClaimed])
    value = b'{"application_id": "app-1", "task_id": "task-1", "agency": "dlh", "claimed_at": "2026-08-14T09:00:00Z"}'

    reason = _refusal(record.headers, value)

    assert "urn:satupintu:schema:task.claimed:v1" in reason
    assert "officer" in reason
    assert "expires_at" in reason
    assert "claimed_at" not in reason


def test_payload_with_an_unknown_field_is_refused_naming_the_field() -> None:
    record = _record(SAMPLES[TaskClaimed])
    value = SAMPLES[TaskClaimed].model_dump_json().encode()[:-1] + b', "nik": "3273010101900001"}'

    reason = _refusal(record.headers, value)

    assert "nik" in reason


def test_record_without_ce_subject_is_refused_naming_the_header() -> None:
    record = _record()
    headers = {name: value for name, value in record.headers.items() if name != "ce_subject"}

    assert _refusal(headers, record.value) == "missing header ce_subject"


def test_record_without_ce_actor_is_refused_naming_the_header() -> None:
    record = _record()
    headers = {name: value for name, value in record.headers.items() if name != "ce_actor"}

    assert _refusal(headers, record.value) == "missing header ce_actor"


def test_record_with_empty_ce_id_is_refused_as_an_invalid_cloudevent() -> None:
    record = _record()

    reason = _refusal({**record.headers, "ce_id": b""}, record.value)

    assert reason.startswith("invalid CloudEvent")
    assert "id" in reason


def test_submitted_application_marks_applicant_and_form_data_as_personal() -> None:
    personal = ApplicationSubmitted.personal_fields()

    assert {"applicant", "data"} <= personal
    assert {"application_id", "tracking_code", "service_code", "documents", "submitted_at"}.isdisjoint(personal)


def test_task_payloads_mark_form_fields_and_answers_as_personal() -> None:
    assert {"fields", "answers"} <= TaskAssigned.personal_fields()
    assert "answers" in ApplicationInformationProvided.personal_fields()
    assert TaskClaimed.personal_fields() == frozenset()
    assert TaskDecisionAccepted.personal_fields() == TaskDecisionRefused.personal_fields() == frozenset()


def test_applicant_schema_marks_identity_and_contact_as_personal_data() -> None:
    properties = Applicant.model_json_schema()["properties"]

    for name in ("nik", "name", "email", "phone"):
        assert properties[name].get("pii") is True, name
    assert "pii" not in properties["language"]


def test_business_application_round_trips_with_its_business_and_representative() -> None:
    payload = SAMPLES[ApplicationSubmitted].model_copy(update={"applicant": BUSINESS_APPLICANT})
    record = to_record(_event(payload, id="evt-business"))

    back = from_record(record.headers, record.value).payload

    assert isinstance(back, ApplicationSubmitted)
    assert back.applicant == BUSINESS_APPLICANT
    assert back.applicant.business is not None
    assert back.applicant.business.name == "PT Maju Jaya"


def test_applicant_without_kind_is_a_person_so_earlier_events_stay_valid() -> None:
    earlier = APPLICANT.model_dump(exclude={"kind", "business"})

    applicant = Applicant.model_validate(earlier)

    assert applicant.kind == "person"
    assert applicant.business is None


@pytest.mark.parametrize(
    ("kind", "business"),
    [("business", None), ("person", Business(nib="8120001234567", npwp="sealed", name="PT Maju Jaya"))],
)
def test_business_is_given_exactly_when_the_applicant_is_a_business(kind: str, business: Business | None) -> None:
    with pytest.raises(ValidationError, match="business applicant"):
        Applicant.model_validate({**APPLICANT.model_dump(), "kind": kind, "business": business})


def test_business_nib_is_thirteen_digits() -> None:
    with pytest.raises(ValidationError, match="nib"):
        Business(nib="812000123456", npwp="sealed", name="PT Maju Jaya")


def test_business_npwp_is_marked_personal_and_its_nib_and_name_are_not() -> None:
    properties = Business.model_json_schema()["properties"]

    assert properties["npwp"].get("pii") is True
    assert "pii" not in properties["nib"]
    assert "pii" not in properties["name"]


def test_payload_is_frozen() -> None:
    payload = SAMPLES[TaskDecided]
    assert isinstance(payload, TaskDecided)

    with pytest.raises(ValidationError, match="frozen"):
        payload.agency = "polres"  # type: ignore[misc]

    assert payload.agency == "dlh"


def test_applicant_is_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        APPLICANT.nik = "0000000000000000"  # type: ignore[misc]


def test_payload_with_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        TaskWithdrawn(
            application_id=APPLICATION_ID,
            task_id=TASK_ID,
            agency="dlh",
            reason="rejected elsewhere",
            withdrawn_at=AT,
            officer="officer-17",  # type: ignore[call-arg]
        )

    assert [(error["loc"], error["type"]) for error in refused.value.errors()] == [(("officer",), "extra_forbidden")]


def test_per_agency_topic_name_uses_the_lower_case_agency_code() -> None:
    assert Topic.AGENCY_TASKS.name_for("POLRES") == "agency.polres.tasks"
    assert Topic.AGENCY_DECISIONS.name_for("Dinas-PUPR") == "agency.dinas-pupr.decisions"
    assert Topic.APPLICATIONS.name_for() == "applications"
    assert Topic.APPLICATIONS.name_for("polres") == "applications"


@pytest.mark.parametrize("agency", [None, ""])
def test_per_agency_topic_without_agency_is_refused(agency: str | None) -> None:
    with pytest.raises(ValueError, match=r"agency\.\{agency\}\.tasks needs an agency code"):
        Topic.AGENCY_TASKS.name_for(agency)


def test_all_topic_names_lists_every_topic_and_its_dead_letter_twin_for_one_agency() -> None:
    names = all_topic_names(["POLRES"])

    assert sorted(names) == sorted(
        [
            "applications",
            "applications.dlq",
            "agency.polres.tasks",
            "agency.polres.tasks.dlq",
            "agency.polres.decisions",
            "agency.polres.decisions.dlq",
            "notifications",
            "notifications.dlq",
            "access",
            "access.dlq",
            "mall",
            "mall.dlq",
        ]
    )
    assert len(names) == 12


def test_all_topic_names_counts_each_agency_once_whatever_its_case() -> None:
    names = all_topic_names(["polres", "POLRES", "dlh"])

    assert len(names) == len(set(names)) == 16
    assert {"agency.dlh.tasks", "agency.dlh.tasks.dlq", "agency.dlh.decisions", "agency.dlh.decisions.dlq"} <= set(
        names
    )


def test_every_payload_lives_on_a_topic_of_the_contract() -> None:
    topics = {payload_type.topic for payload_type in EVENT_TYPES.values()}

    assert topics == {
        Topic.APPLICATIONS,
        Topic.AGENCY_TASKS,
        Topic.AGENCY_DECISIONS,
        Topic.NOTIFICATIONS,
        Topic.ACCESS,
        Topic.MALL,
    }


def test_a_submission_from_before_the_counter_channel_reads_as_online_without_a_ticket() -> None:
    earlier = SAMPLES[ApplicationSubmitted].model_dump(mode="json", exclude={"channel", "ticket_id"})
    submitted = ApplicationSubmitted.model_validate(earlier)
    assert (submitted.channel, submitted.ticket_id) == ("online", None)
