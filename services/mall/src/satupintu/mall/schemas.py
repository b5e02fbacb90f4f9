"""HTTP request and response models of the mall's JSON API."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from satupintu.common.identity import is_valid_phone
from satupintu.contract.mall import SkmAnswers
from satupintu.mall.domain import COLLECTOR_NAME_MAX, ComplaintState

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]
Nik = Annotated[str, StringConstraints(pattern=r"^[0-9]{16}$")]
TrackingCode = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ----------------------------------------------------------------------------------------------------------------------
# Queue


class TicketCreate(_Request):
    """A visitor asks for a queue number."""

    service_code: Code = Field(description="The catalogue service to queue for, e.g. `pbg`.")
    priority: bool = Field(
        default=False,
        description="Priority service (UU 25/2009): the elderly, people with disabilities, pregnant women and parents "
        "with small children are called first.",
    )


class CallNext(_Request):
    """An officer calls the next visitor."""

    counter: str = Field(min_length=1, max_length=40, description="The counter the visitor goes to, e.g. `Loket 3`.")


class TicketLink(_Request):
    """An officer links a ticket to the application submitted at the counter."""

    tracking_code: TrackingCode = Field(description="The application's tracking code.")


class TicketRead(BaseModel):
    """A queue ticket as its visitor and the counters see it."""

    ticket_id: str = Field(description="The ticket's id (its page is `/kiosk/tickets/{ticket_id}`).")
    number: str = Field(description="The number called out, e.g. `PBG-017`.")
    service_code: str = Field(description="The service queued for.")
    service_name: str = Field(description="The service's name in Indonesian.")
    agency: str = Field(description="The agency whose counter serves it.")
    day: date = Field(description="The mall's local day of the number.")
    state: Literal["waiting", "called", "served", "no_show"] = Field(description="Where the ticket is.")
    counter: str | None = Field(description="The counter it was called to.")
    waiting_ahead: int = Field(description="Visitors of the same service still waiting before it.")
    estimated_wait_minutes: int = Field(description="Minutes until it is likely called, at today's serving rate.")
    issued_at: datetime = Field(description="When it was issued.")
    called_at: datetime | None = Field(description="When it was called.")
    finished_at: datetime | None = Field(description="When it was served or marked a no-show.")
    tracking_code: str | None = Field(description="The application submitted at the counter, once linked.")
    track_url: str | None = Field(description="Where the visitor follows that application.")
    priority: bool = Field(description="Served with priority: called before regular tickets (within the ratio).")


class QueueRead(BaseModel):
    """Today's queue of one service."""

    service_code: str = Field(description="The service.")
    service_name: str = Field(description="The service's name in Indonesian.")
    waiting: int = Field(description="Tickets waiting now.")
    called: int = Field(description="Tickets called and not yet finished.")
    served: int = Field(description="Visitors served today.")
    no_show: int = Field(description="Tickets called in vain today.")
    average_wait_minutes: float | None = Field(description="Average wait from issue to call today.")
    longest_wait_minutes: float | None = Field(description="Longest wait today, including visitors still waiting.")
    estimated_wait_minutes: int = Field(description="The wait a ticket taken now is expected to have.")
    priority_waiting: int = Field(default=0, description="Of the tickets waiting, the priority ones.")
    priority_median_wait_minutes: float | None = Field(
        default=None, description="Median wait from issue to call of the priority tickets called today."
    )
    regular_median_wait_minutes: float | None = Field(
        default=None, description="Median wait from issue to call of the regular tickets called today."
    )


# ----------------------------------------------------------------------------------------------------------------------
# Survey


class SurveyAnswer(_Request):
    """The citizen's answer to the nine elements, and a suggestion if they have one."""

    answers: SkmAnswers = Field(description="A score from 1 (tidak baik) to 4 (sangat baik) per element.")
    suggestion: str | None = Field(default=None, max_length=1000, description="Saran: what could be better.")


class SurveyRead(BaseModel):
    """The survey a link leads to."""

    tracking_code: str = Field(description="The application surveyed.")
    service_code: str = Field(description="Its service.")
    service_name: str = Field(description="The service's name in the citizen's language.")
    outcome: str = Field(description="completed or rejected.")
    language: str = Field(description="The citizen's language.")
    answered: bool = Field(description="Whether it was answered already (it is answerable once).")
    expires_at: datetime = Field(description="When the link stops accepting an answer.")


class SurveyReceipt(BaseModel):
    """The answer was recorded."""

    application_id: str = Field(description="The application surveyed.")
    answered_at: datetime = Field(description="When the answer was recorded.")


class ElementRead(BaseModel):
    """One element's average score (NRR)."""

    code: str = Field(description="U1 to U9.")
    name: str = Field(description="The element's field name.")
    label: str = Field(description="The element, in Indonesian.")
    average: float = Field(description="NRR: sum of scores / respondents (1-4), to three decimals.")


class SatisfactionRead(BaseModel):
    """The satisfaction index (IKM) of a set of answers, as Permen PANRB 14/2017 computes and grades it."""

    respondents: int = Field(description="Answers counted.")
    index: float = Field(description="IKM: sum of NRR x 1/9 (1-4), to three decimals.")
    converted: float = Field(description="Unit index: IKM x 25 (25-100), to two decimals.")
    grade: Literal["A", "B", "C", "D"] = Field(description="Mutu pelayanan by the converted value.")
    grade_label: str = Field(description="What the grade means: Sangat baik, Baik, Kurang baik, Tidak baik.")


class SatisfactionIndexRead(SatisfactionRead):
    """The index of the answers of one service or agency in a period, with every element's average."""

    service_code: str | None = Field(description="The service, when asked for one.")
    agency: str | None = Field(description="The agency, when asked for one.")
    since: datetime | None = Field(description="Answers given from this moment.")
    until: datetime | None = Field(description="Answers given before this moment.")
    elements: list[ElementRead] = Field(description="The average score of each element.")
    applicant_kind: Literal["person", "business"] | None = Field(
        description="Only answers about applications of this kind of applicant, when asked."
    )
    person_respondents: int = Field(description="Of the respondents, those about a person's own application.")
    business_respondents: int = Field(
        description="Of the respondents, those about a business's application (answered by its representative)."
    )
    person: SatisfactionRead | None = Field(description="The index of the persons' answers alone; null without any.")
    business: SatisfactionRead | None = Field(
        description="The index of the business applicants' answers alone; null without any."
    )


# ----------------------------------------------------------------------------------------------------------------------
# Complaints


class ComplaintCreate(_Request):
    """A citizen's complaint about an application, an agency, or both."""

    tracking_code: TrackingCode | None = Field(default=None, description="The application complained about.")
    agency: Code | None = Field(
        default=None, description="The agency complained about; by default the application's owning agency."
    )
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")] = Field(
        description="What the complaint is about: a complaint category's code in the catalogue (`slow`, `behaviour`, "
        "`fees`, ...); its service standard is the complaint's due date."
    )
    description: str = Field(min_length=10, max_length=2000, description="What happened, in the citizen's words.")
    contact: str | None = Field(default=None, max_length=200, description="E-mail or phone to be answered on.")
    language: Literal["id", "en"] = Field(
        default="id", description="The language the complainant is told things in (receipt, progress, answer)."
    )

    @field_validator("contact")
    @classmethod
    def _email_or_phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if _EMAIL.fullmatch(value) or is_valid_phone(value.replace(" ", "").replace("-", "")):
            return value
        raise ValueError("give an e-mail address or a phone number (+62 or 0 followed by 9 to 12 digits)")


class ComplaintReceipt(BaseModel):
    """A filed complaint, as the citizen follows it."""

    complaint_id: str = Field(description="Keep it: it opens the complaint's status (`/complaints/{id}/status`).")
    reference: str = Field(description="The reference to quote, e.g. `ADU-20260814-0007`.")
    agency: str = Field(description="The agency whose complaint desk handles it.")
    state: ComplaintState = Field(description="open, in_progress (an officer took it up) or resolved.")
    due_at: datetime = Field(description="When the desk must have answered.")
    response: str | None = Field(description="The desk's answer, once given.")
    resolved_at: datetime | None = Field(description="When it was answered.")


class ComplaintRead(ComplaintReceipt):
    """A complaint as its agency's desk, auditors and operators see it."""

    application_id: str | None = Field(description="The application complained about.")
    tracking_code: str | None = Field(description="Its tracking code.")
    service_code: str | None = Field(description="Its service.")
    category: str = Field(description="What it is about: a complaint category's code in the catalogue.")
    description: str = Field(description="The complaint.")
    contact: str | None = Field(description="Where to answer the complainant.")
    filed_at: datetime = Field(description="When it was filed.")
    overdue: bool = Field(description="Whether it is open past its due date.")
    sla_breached_at: datetime | None = Field(description="When it was reported late.")
    resolved_by: str | None = Field(description="Who answered it.")


class ComplaintResolve(_Request):
    """The desk's answer."""

    response: str = Field(min_length=5, max_length=2000, description="The answer to the complainant.")


# ----------------------------------------------------------------------------------------------------------------------
# Documents collected at the counter


class PickupCreate(_Request):
    """A clerk records who took the original."""

    collected_by: str = Field(
        min_length=1,
        max_length=COLLECTOR_NAME_MAX,
        description="The name of the person taking it, as on their identity card (KTP).",
    )
    collected_by_holder: bool = Field(
        description="Whether the holder takes it in person (false: a representative, with a power of attorney)."
    )


class CounterDocumentRead(BaseModel):
    """A document whose original is collected at the counter, as the clerk sees it."""

    document_id: str = Field(description="The document's id (in its QR code); the address to record its pickup at.")
    number: str = Field(description="The document's number, as printed.")
    application_id: str = Field(description="The application it was issued for.")
    tracking_code: str | None = Field(description="That application's tracking code, when the mall knows it.")
    service_code: str = Field(description="The catalogue service it was issued for.")
    agency: str = Field(description="The issuing agency.")
    issued_at: datetime = Field(description="When the agency issued it.")
    valid_until: date | None = Field(description="The last day it is valid, when it expires.")
    state: Literal["waiting", "collected", "revoked"] = Field(
        description="waiting for its holder, collected, or revoked by its agency before anyone collected it."
    )
    collected_at: datetime | None = Field(description="When it was handed over.")
    handed_over_by: str | None = Field(description="The clerk who handed it over (an actor).")
    collected_by: str | None = Field(description="Who took it, as on their identity card.")
    collected_by_holder: bool | None = Field(description="Whether the holder took it in person.")
    revoked_at: datetime | None = Field(description="When its agency revoked it.")


# ----------------------------------------------------------------------------------------------------------------------
# Consent


class ConsentIdentify(_Request):
    """The citizen shows the ledger is theirs: an application's tracking code and the NIK it was made with."""

    tracking_code: TrackingCode = Field(description="A tracking code of one of the citizen's applications.")
    nik: Nik = Field(description="The NIK that application was submitted with.")


class ConsentChange(ConsentIdentify):
    """Grant or withdraw consent for one agency and some profile fields."""

    agency: Annotated[str, StringConstraints(pattern=r"^(\*|[a-z][a-z0-9-]{1,31})$")] = Field(
        description="The agency, or `*`: every agency (for every agency that may receive the fields)."
    )
    fields: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        min_length=1, max_length=20, description="Profile fields, e.g. `address`."
    )


class LedgerLineRead(BaseModel):
    """Whether one agency (or, for `*`, every agency without a line of its own) may receive one profile field
    again."""

    agency: str = Field(description="The agency, or `*`: every agency.")
    agency_name: str = Field(description="The agency's name in Indonesian.")
    field: str = Field(description="The profile field.")
    granted: bool = Field(
        description="Whether consent is given now: the latest grant or withdrawal for this agency or for every agency."
    )
    changed_at: datetime | None = Field(description="When it last changed.")


class LedgerEventRead(BaseModel):
    """Something that happened in the ledger."""

    kind: Literal["granted", "withdrawn", "used"] = Field(description="What happened.")
    agency: str = Field(description="The agency.")
    field: str = Field(description="The profile field.")
    consented: bool = Field(description="For a use: whether the ledger allowed it.")
    application_id: str = Field(description="The application it happened through.")
    event_id: str = Field(description="The event on the `mall` topic (and in the audit trail).")
    at: datetime = Field(description="When.")


class LedgerRead(BaseModel):
    """A citizen's consent ledger."""

    ledger_id: str | None = Field(description="The ledger's id (null until the first grant or use).")
    lines: list[LedgerLineRead] = Field(description="Every agency and field that can be reused, and its consent.")
    history: list[LedgerEventRead] = Field(description="Grants, withdrawals and uses, newest first.")


# ----------------------------------------------------------------------------------------------------------------------
# Board


class PaymentsRead(BaseModel):
    """The fees of a service (or paid to an agency) billed in the board's period, and what became of them."""

    billed: int = Field(description="Bills issued in the period.")
    paid: int = Field(description="Of those, paid.")
    expired: int = Field(description="Of those, expired unpaid.")
    cancelled: int = Field(description="Of those, withdrawn unpaid (the application was rejected or cancelled).")
    outstanding: int = Field(description="Of those, still to be paid.")
    received_rupiah: int = Field(description="What was paid of those bills, in whole rupiah.")
    paid_within_median_days: float | None = Field(
        description="Median of the whole days (24-hour periods, rounded down) from billing to payment; null when "
        "none was paid."
    )
    paid_within_p90_days: float | None = Field(
        description="90th percentile (linear interpolation) of the same whole days; null when none was paid."
    )


class ServicePerformance(BaseModel):
    """The board's figures for one service (or, with no service, one agency)."""

    service_code: str | None = Field(description="The service (null for an agency's row).")
    name: str = Field(description="The service's (or agency's) name in Indonesian.")
    agency: str = Field(description="The owning agency.")
    agency_name: str = Field(description="The owning agency's name in Indonesian.")
    standard_working_days: int | None = Field(description="The service standard's completion time.")
    received: int = Field(description="Applications submitted in the period.")
    completed: int = Field(description="Of those, completed.")
    rejected: int = Field(description="Of those, rejected.")
    open: int = Field(description="Of those, still open.")
    median_working_days: float | None = Field(description="Median processing time of the finished ones.")
    p90_working_days: float | None = Field(description="90th percentile processing time of the finished ones.")
    median_hours: float | None = Field(description="Median processing time in elapsed hours.")
    p90_hours: float | None = Field(description="90th percentile processing time in elapsed hours.")
    on_time: int = Field(description="Finished within the service standard.")
    late: int = Field(description="Finished late, reported late, or open past the standard.")
    sla_compliance: float | None = Field(description="on_time / (on_time + late), 0-1; null when neither.")
    satisfaction: SatisfactionRead | None = Field(description="The satisfaction index of answers in the period.")
    cancelled: int = Field(description="Of those received, cancelled (their fee not paid in time).")
    business_applications: int = Field(
        description="Of those received, applied for by a business (through a representative)."
    )
    business_share_percent: float | None = Field(
        description="business_applications / received x 100, to one decimal; null when none received."
    )
    business_satisfaction: SatisfactionRead | None = Field(
        description="The satisfaction index of the answers about business applications in the period (its "
        "respondents: how many of `satisfaction`'s were businesses)."
    )
    payments: PaymentsRead = Field(
        description="The fees billed in the period (for an agency's row: the fees paid to that agency)."
    )


class BoardRead(BaseModel):
    """The performance board: per service and agency, and today's queue."""

    generated_at: datetime = Field(description="When the figures were read.")
    since: datetime = Field(description="Applications submitted (and answers given) from this moment...")
    until: datetime = Field(description="...until this moment.")
    services: list[ServicePerformance] = Field(description="One row per catalogue service.")
    agencies: list[ServicePerformance] = Field(description="One row per agency owning a service.")
    queue: list[QueueRead] = Field(description="Today's queue per service.")


# ----------------------------------------------------------------------------------------------------------------------
# Appointments


class AppointmentCreate(_Request):
    """A citizen asks to book a slot; a one-time code goes to ``contact``, and confirming it books."""

    service_code: Code = Field(description="The service to book a visit for (one the mall opens for booking).")
    starts_at: AwareDatetime = Field(description="The slot's start, with its UTC offset (as the slots list gives it).")
    nik: Nik = Field(
        description="The citizen's NIK (kept only as a keyed hash): one active booking per NIK and service."
    )
    contact: str = Field(max_length=200, description="E-mail or phone the code and the reminder go to.")
    language: Literal["id", "en"] = Field(default="id", description="Language of the code's and reminder's messages.")

    @field_validator("contact")
    @classmethod
    def _email_or_phone(cls, value: str) -> str:
        compact = value.replace(" ", "").replace("-", "")
        if _EMAIL.fullmatch(value):
            return value
        if is_valid_phone(compact):
            return compact
        raise ValueError("give an e-mail address or a phone number (+62 or 0 followed by 9 to 12 digits)")


class AppointmentPending(BaseModel):
    """A booking waiting for its one-time code."""

    appointment_id: str = Field(description="What the code is confirmed under: `POST /appointments/{id}/confirmation`.")
    state: str = Field(description="`pending`.")
    service_code: str = Field(description="The service booked.")
    starts_at: datetime = Field(description="The slot's start.")
    code_expires_at: datetime = Field(description="When the code sent to the contact stops working.")


class AppointmentConfirm(_Request):
    """The one-time code sent to the contact."""

    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(description="The six-digit code.")


class AppointmentCancel(_Request):
    """Cancelling a booking takes the NIK it was made with."""

    nik: Nik = Field(description="The NIK the booking was made with.")


class AppointmentCheckIn(_Request):
    """At the kiosk: the booking code."""

    booking_code: Annotated[str, StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$")] = Field(
        description="The booking code, e.g. `BK-7KQ2M9XD`."
    )


class AppointmentRead(BaseModel):
    """A booking as its citizen sees it (nothing personal)."""

    appointment_id: str = Field(description="The booking's id (the key of its events).")
    booking_code: str | None = Field(description="The code to check in with at the kiosk once booked.")
    state: str = Field(description="pending, booked, checked_in, cancelled or no_show.")
    service_code: str = Field(description="The service booked.")
    agency: str = Field(description="The agency whose counter serves it.")
    starts_at: datetime = Field(description="The slot's start.")
    ticket_id: str | None = Field(description="The queue ticket, once checked in.")


class SlotRead(BaseModel):
    """A slot and its places still free."""

    starts_at: datetime = Field(description="When the slot starts.")
    free: int = Field(ge=0, description="Places still free.")
