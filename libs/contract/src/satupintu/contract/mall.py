"""What happens at the mall itself, on the ``mall`` topic: counter queue tickets (key: ticket id), the satisfaction
survey (key: application id), complaints (key: complaint id) and the consent ledger (key: the citizen's ledger id, so
one citizen's grants and withdrawals keep their order)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from satupintu.contract.base import EventPayload, pii_field
from satupintu.contract.topics import Topic

Score = Literal[1, 2, 3, 4]


# ----------------------------------------------------------------------------------------------------------------------
# Counter queue tickets


class _TicketEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.MALL

    ticket_id: str = Field(description="The ticket's id; also the Kafka key and `ce_subject`.")
    number: str = Field(description="What the visitor is called by: service prefix and the day's sequence, `PBG-017`.")
    service_code: str = Field(description="The catalogue service the visitor queues for.")
    agency: str = Field(description="Lower-case code of the agency whose counter serves the service.")


class TicketIssued(_TicketEvent):
    """A walk-in visitor took a queue ticket for a service."""

    event_type: ClassVar[str] = "ticket.issued"

    day: date = Field(description="The mall's local day the number belongs to; numbers restart every day.")
    waiting_ahead: int = Field(ge=0, description="Tickets of the same service waiting before this one when issued.")
    estimated_wait_minutes: int = Field(ge=0, description="Estimated wait, from the counters' live serving rate.")
    issued_at: datetime = Field(description="When the ticket was issued.")
    priority: bool = Field(
        default=False,
        description="Whether the visitor is served with priority (elderly, disabled, pregnant, or with a small child: "
        "UU 25/2009's special service for vulnerable groups), chosen at the kiosk; the counters call priority tickets "
        "first. Absent in events of earlier releases: false.",
    )


class TicketCalled(_TicketEvent):
    """An officer called the ticket to a counter."""

    event_type: ClassVar[str] = "ticket.called"

    counter: str = Field(description="The counter the visitor is called to, e.g. `Loket 3`.")
    waited_seconds: int = Field(ge=0, description="How long the visitor waited from issue to call.")
    called_at: datetime = Field(description="When the ticket was called.")


class TicketServed(_TicketEvent):
    """The visitor was served at the counter."""

    event_type: ClassVar[str] = "ticket.served"

    counter: str = Field(description="The counter that served the visitor.")
    service_seconds: int = Field(ge=0, description="How long the counter took, from call to served.")
    tracking_code: str | None = Field(
        default=None, description="The application submitted at the counter, when the ticket was linked to one."
    )
    served_at: datetime = Field(description="When the visitor was marked served.")


class TicketNoShow(_TicketEvent):
    """The visitor did not come to the counter when called."""

    event_type: ClassVar[str] = "ticket.no_show"

    counter: str = Field(description="The counter that called in vain.")
    marked_at: datetime = Field(description="When the officer marked the ticket a no-show.")


class TicketLinked(_TicketEvent):
    """The ticket was linked to the application submitted at the counter, so the visitor follows it by its code."""

    event_type: ClassVar[str] = "ticket.linked"

    tracking_code: str = Field(description="The tracking code of the application submitted at the counter.")
    application_id: str | None = Field(
        default=None, description="The application's id, when the mall already knows the tracking code."
    )
    linked_at: datetime = Field(description="When the ticket was linked.")


# ----------------------------------------------------------------------------------------------------------------------
# Satisfaction survey (SKM, Permen PANRB 14/2017)


class SkmAnswers(BaseModel):
    """The nine elements of the SKM survey, each answered from 1 (tidak baik) to 4 (sangat baik)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requirements: Score = Field(description="U1 Persyaratan: the service's requirements.")
    procedure: Score = Field(description="U2 Sistem, mekanisme dan prosedur.")
    completion_time: Score = Field(description="U3 Waktu penyelesaian: completion time.")
    cost: Score = Field(description="U4 Biaya/tarif: cost or tariff.")
    product: Score = Field(description="U5 Produk spesifikasi jenis pelayanan: the product as specified.")
    competence: Score = Field(description="U6 Kompetensi pelaksana: staff competence.")
    behaviour: Score = Field(description="U7 Perilaku pelaksana: staff behaviour.")
    complaints_handling: Score = Field(
        description="U8 Penanganan pengaduan, saran dan masukan: handling of complaints, suggestions and input."
    )
    facilities: Score = Field(description="U9 Sarana dan prasarana: facilities.")


class SurveyInvited(EventPayload):
    """The citizen is invited to the satisfaction survey of a finished application; notification delivers the link."""

    event_type: ClassVar[str] = "survey.invited"
    topic: ClassVar[Topic] = Topic.MALL

    application_id: str = Field(description="The application surveyed; also the Kafka key and `ce_subject`.")
    tracking_code: str = Field(description="The code the citizen knows the application by.")
    service_code: str = Field(description="The catalogue service of the application.")
    agency: str = Field(description="Lower-case code of the agency that owns the service.")
    outcome: Literal["completed", "rejected"] = Field(description="How the application ended.")
    language: Literal["id", "en"] = Field(description="Language the citizen is told things in.")
    survey_url: str = pii_field("The citizen's own link to the survey; whoever holds it can answer once.")
    expires_at: datetime = Field(description="When the link stops accepting an answer.")
    invited_at: datetime = Field(description="When the invitation was made.")


class SurveyAnswered(EventPayload):
    """A citizen answered the satisfaction survey of an application (once per application)."""

    event_type: ClassVar[str] = "survey.answered"
    topic: ClassVar[Topic] = Topic.MALL

    application_id: str = Field(description="The application surveyed; also the Kafka key and `ce_subject`.")
    service_code: str = Field(description="The catalogue service of the application.")
    agency: str = Field(description="Lower-case code of the agency that owns the service.")
    answers: SkmAnswers = Field(description="The scores given to the nine elements.")
    suggestion: str | None = pii_field("What the citizen suggests, in their words (may name people).", default=None)
    answered_at: datetime = Field(description="When the answer was accepted.")


# ----------------------------------------------------------------------------------------------------------------------
# Complaints (pengaduan)


class _ComplaintEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.MALL

    complaint_id: str = Field(description="The complaint's id; also the Kafka key and `ce_subject`.")
    reference: str = Field(description="The reference the citizen is given, e.g. `ADU-20260814-0007`.")
    agency: str = Field(description="Lower-case code of the agency whose complaint desk must act.")


class ComplaintFiled(_ComplaintEvent):
    """A complaint about an application or an agency was filed; it is a task for the agency's complaint desk."""

    event_type: ClassVar[str] = "complaint.filed"

    application_id: str | None = Field(default=None, description="The application complained about, if any.")
    service_code: str | None = Field(default=None, description="The service complained about, if any.")
    category: str = Field(description="What the complaint is about, e.g. `slow`, `behaviour`, `fees`.")
    description: str = pii_field("The complaint in the citizen's words (may name people).")
    contact: str | None = pii_field("E-mail or phone to answer the complainant on, if given.", default=None)
    language: Literal["id", "en"] = Field(
        default="id", description="Language the complainant filed in, and is told things in."
    )
    due_at: datetime = Field(
        description="When the complaint must be answered: its category's service standard in working days."
    )
    filed_at: datetime = Field(description="When the complaint was filed.")


class ComplaintStatusChanged(_ComplaintEvent):
    """The complaint moved on the agency's desk short of its answer: an officer took it up (`in_progress`). The
    answer itself is `complaint.resolved`."""

    event_type: ClassVar[str] = "complaint.status_changed"

    state: Literal["in_progress"] = Field(description="Where the complaint is now: `in_progress`, taken up.")
    changed_at: datetime = Field(description="When it changed.")


class ComplaintResolved(_ComplaintEvent):
    """The agency's complaint desk answered the complaint and closed it."""

    event_type: ClassVar[str] = "complaint.resolved"

    response: str = pii_field("The desk's answer to the complainant (may quote the complaint).")
    within_sla: bool = Field(description="Whether it was answered by its due date.")
    resolved_at: datetime = Field(description="When the complaint was answered.")


class ComplaintSlaBreached(_ComplaintEvent):
    """A complaint passed its due date unanswered."""

    event_type: ClassVar[str] = "complaint.sla_breached"

    due_at: datetime = Field(description="When it should have been answered.")
    breached_at: datetime = Field(description="When the breach was detected.")
    escalation_target: str = Field(description="Who is told to act: the agency's escalation target.")


# ----------------------------------------------------------------------------------------------------------------------
# Consent ledger


class _ConsentEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.MALL

    ledger_id: str = Field(
        description="The citizen's consent ledger (opaque, one per citizen); also the Kafka key and `ce_subject`."
    )
    application_id: str = Field(
        description="The application the citizen identified with (tracking code and NIK), or, for a use, the "
        "application that reused the data; either resolves to the citizen."
    )


class ConsentGranted(_ConsentEvent):
    """The citizen allowed an agency (or every agency) to receive these fields of their profile again, without
    retyping them; intake and the ledger apply it with the one rule of ``satupintu.common.consent``."""

    event_type: ClassVar[str] = "consent.granted"

    agency: str = Field(
        description="Lower-case code of the agency the consent is for, or `*`: every agency, granted explicitly."
    )
    fields: tuple[str, ...] = Field(min_length=1, description="Profile fields the agency may receive again.")
    granted_at: datetime = Field(description="When consent was given.")


class ConsentWithdrawn(_ConsentEvent):
    """The citizen withdrew consent: these fields must not be reused for this agency (or any) from the next
    application on."""

    event_type: ClassVar[str] = "consent.withdrawn"

    agency: str = Field(description="Lower-case code of the agency the consent was for, or `*`: every agency.")
    fields: tuple[str, ...] = Field(min_length=1, description="Profile fields no longer to be reused for the agency.")
    withdrawn_at: datetime = Field(description="When consent was withdrawn.")


class FieldUse(BaseModel):
    """One profile field reused for one agency, and whether the ledger held consent for it then."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(description="Lower-case code of the agency that received the field.")
    field: str = Field(description="The profile field reused.")
    consented: bool = Field(description="Whether the ledger held the citizen's consent for this agency and field.")


class ConsentUsed(_ConsentEvent):
    """Profile data was reused on an application; each use names the agency, the field and whether it was allowed."""

    event_type: ClassVar[str] = "consent.used"

    uses: tuple[FieldUse, ...] = Field(min_length=1, description="Every field reused, per receiving agency.")
    used_at: datetime = Field(description="When the application reusing the data was submitted.")


# ----------------------------------------------------------------------------------------------------------------------
# Appointments (booked visits to a counter; key: the appointment's id)


class _AppointmentEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.MALL

    appointment_id: str = Field(description="The appointment's id; also the Kafka key and `ce_subject`.")
    service_code: str = Field(description="The catalogue service the visit is booked for.")
    agency: str = Field(description="Lower-case code of the agency whose counter serves the service.")


class AppointmentCodeIssued(_AppointmentEvent):
    """A citizen asked to book a slot; deliver the one-time code that confirms the booking to the contact they gave
    (and nowhere else)."""

    event_type: ClassVar[str] = "appointment.code_issued"

    channel: Literal["email", "sms"] = Field(description="Where the code goes.")
    recipient: str = pii_field("The e-mail address or phone number the citizen gave for the booking.")
    code: str = pii_field("The one-time code (6 digits) that confirms the booking.")
    language: Literal["id", "en"] = Field(description="Language of the message.")
    expires_at: datetime = Field(description="When the code stops working.")


class AppointmentBooked(_AppointmentEvent):
    """A citizen confirmed their code and holds a place in a slot; they check in at the kiosk with the booking code."""

    event_type: ClassVar[str] = "appointment.booked"

    booking_code: str = Field(description="The code the citizen checks in with at the kiosk, e.g. `BK-7KQ2M9XD`.")
    starts_at: datetime = Field(description="When the booked slot starts.")
    language: Literal["id", "en"] = Field(description="Language the citizen booked in, and is reminded in.")
    booked_at: datetime = Field(description="When the booking was confirmed.")


class AppointmentCancelled(_AppointmentEvent):
    """The citizen cancelled their booking; its place in the slot is free again."""

    event_type: ClassVar[str] = "appointment.cancelled"

    starts_at: datetime = Field(description="When the slot given up starts.")
    cancelled_at: datetime = Field(description="When the booking was cancelled.")


class AppointmentReminderDue(_AppointmentEvent):
    """The day before a booked visit: remind the citizen, on the contact they booked with and in their language."""

    event_type: ClassVar[str] = "appointment.reminder_due"

    booking_code: str = Field(description="The code the citizen checks in with at the kiosk.")
    starts_at: datetime = Field(description="When the booked slot starts.")
    channel: Literal["email", "sms"] = Field(description="Where the reminder goes.")
    recipient: str = pii_field("The e-mail address or phone number the citizen booked with.")
    language: Literal["id", "en"] = Field(description="Language of the reminder.")


class AppointmentCheckedIn(_AppointmentEvent):
    """The citizen checked in at the kiosk with their booking code and holds a queue ticket served ahead of walk-ins."""

    event_type: ClassVar[str] = "appointment.checked_in"

    ticket_id: str = Field(description="The queue ticket the booking became.")
    number: str = Field(description="The ticket's number, e.g. `PSP-004`.")
    checked_in_at: datetime = Field(description="When the citizen checked in.")


class AppointmentNoShow(_AppointmentEvent):
    """The booking was not checked in within the grace after its slot started; it is released as a no-show."""

    event_type: ClassVar[str] = "appointment.no_show"

    starts_at: datetime = Field(description="When the slot started.")
    released_at: datetime = Field(description="When the booking was released.")
