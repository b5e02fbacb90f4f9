"""What citizens are told: the Jinja2 templates (one file per template and language under ``templates/``) and the
context each lifecycle event gives them, with the least personal data needed (first name, masked NIK); and what an
agency's escalation target (its head or supervisor) is told of a service-standard breach, in Indonesian.

A template's first line is the message's subject; the body starts after the blank line that follows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from satupintu.common.catalogue import Agency, Catalogue, DocumentText
from satupintu.common.dates import DEFAULT_TIMEZONE, long_date, long_time
from satupintu.common.money import fee_kind_name, rupiah
from satupintu.common.working_days import agency_calendar
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
    ApplicationTaskSlaBreached,
)
from satupintu.contract.base import EventPayload
from satupintu.contract.documents import DocumentIssued
from satupintu.contract.envelope import Event
from satupintu.contract.mall import (
    ComplaintFiled,
    ComplaintResolved,
    ComplaintSlaBreached,
    ComplaintStatusChanged,
    SurveyInvited,
)
from satupintu.contract.payments import PaymentBilled, PaymentConfirmed, PaymentExpiring
from satupintu.notification.domain import Contact

LANGUAGES = ("id", "en")
ONE_TIME_CODE = "one_time_code"
CONTACT_RESET = "contact_reset"
ESCALATION = "escalation"
APPOINTMENT_REMINDER = "appointment.reminder_due"
ESCALATION_LANGUAGE = "id"
"""An escalation is an officer's message: in Indonesian."""
Breach = ApplicationSlaBreached | ApplicationTaskSlaBreached | ComplaintSlaBreached
"""A service-standard breach that is escalated to the agency's escalation target."""
LIFECYCLE_TEMPLATES: Mapping[type[EventPayload], str] = {
    ApplicationSubmitted: ApplicationSubmitted.event_type,
    ApplicationInformationRequested: ApplicationInformationRequested.event_type,
    ApplicationCompleted: ApplicationCompleted.event_type,
    ApplicationRejected: ApplicationRejected.event_type,
    ApplicationSlaBreached: ApplicationSlaBreached.event_type,
    SurveyInvited: SurveyInvited.event_type,
    DocumentIssued: DocumentIssued.event_type,
    PaymentBilled: PaymentBilled.event_type,
    PaymentExpiring: PaymentExpiring.event_type,
    PaymentConfirmed: PaymentConfirmed.event_type,
    ApplicationCancelled: ApplicationCancelled.event_type,
}
"""The lifecycle events a citizen is told about, and the template (named after the event type) of each. Of a
bill that ran out, the citizen is told once, on routing's ``application.cancelled`` (the application's end, which is
what they need to know), not on ``payment.expired``; a bill withdrawn because the application was rejected
(``payment.cancelled``) is not told at all: the rejection's message already was."""
CHANNEL_NAMES = {
    "id": {"gateway": "QRIS / transfer (gerbang pembayaran)", "counter": "loket Mal Pelayanan Publik"},
    "en": {"gateway": "QRIS / transfer (payment gateway)", "counter": "the Public Service Mall's counter"},
}
"""Where a payment was made, as its receipt says."""
COMPLAINT_TEMPLATES: Mapping[type[EventPayload], str] = {
    ComplaintFiled: ComplaintFiled.event_type,
    ComplaintStatusChanged: ComplaintStatusChanged.event_type,
    ComplaintResolved: ComplaintResolved.event_type,
}
"""What a complainant is told (the receipt, a status change, the answer), and the template of each."""
TEMPLATES = (
    *LIFECYCLE_TEMPLATES.values(),
    *COMPLAINT_TEMPLATES.values(),
    ONE_TIME_CODE,
    CONTACT_RESET,
    ESCALATION,
    APPOINTMENT_REMINDER,
)


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for a channel: a subject (e-mail) and a plain-text body."""

    subject: str
    body: str

    def to_json(self) -> str:
        """The message as stored (encrypted) in a delivery."""
        return json.dumps({"subject": self.subject, "body": self.body}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RenderedMessage:
        """A message as stored by :meth:`to_json`."""
        data = json.loads(text)
        return cls(subject=str(data["subject"]), body=str(data["body"]))


def _in_language(text: DocumentText, language: str) -> str:
    """A document's text in ``language``: its English where the catalogue gives one, its Indonesian otherwise."""
    return (text.en or text.id) if language == "en" else text.id


class UnknownTemplate(ValueError):
    """No template of that name, or not in that language."""


class TemplateRenderer:
    """Renders ``templates/<language>/<template>.txt`` with a context; missing variables are errors, not blanks."""

    def __init__(self, timezone: str = DEFAULT_TIMEZONE) -> None:
        self._timezone = timezone
        # one environment per language, made once, so each keeps its compiled templates (an overlay per render
        # compiled the template again every time)
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: str) -> Environment:
        environment = Environment(
            loader=PackageLoader("satupintu.notification", "templates"),
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701 (plain-text e-mail and SMS, never HTML)
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        environment.filters["long_date"] = lambda value: long_date(value, language, self._timezone)
        environment.filters["long_time"] = lambda value: long_time(value, language, self._timezone)
        return environment

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
        """The message ``template`` says in ``language`` with ``context``."""
        if template not in TEMPLATES or language not in LANGUAGES:
            raise UnknownTemplate(f"no template {template!r} in language {language!r}")
        text = self._environments[language].get_template(f"{language}/{template}.txt").render(context)
        subject, _, body = text.partition("\n")
        return RenderedMessage(subject=subject.strip(), body=body.lstrip("\n").rstrip() + "\n")


class MessageComposer:
    """Turns a lifecycle event and the applicant's contact into the message they get, in their language."""

    def __init__(
        self,
        catalogue: Catalogue,
        public_base_url: str,
        *,
        collective_leave: frozenset[date] = frozenset(),
        follow_up_working_days: int = 3,
        renderer: TemplateRenderer | None = None,
        desk_url: str = "http://127.0.0.1:8003",
    ) -> None:
        self._catalogue = catalogue
        self._base_url = public_base_url.rstrip("/")
        self._desk_url = desk_url.rstrip("/")
        self._collective_leave = collective_leave
        self._follow_up_working_days = follow_up_working_days
        self._renderer = renderer or TemplateRenderer()

    def tracking_url(self, tracking_code: str) -> str:
        """Where the citizen follows the application."""
        return f"{self._base_url}/track/{tracking_code}"

    def answer_url(self, tracking_code: str) -> str:
        """Where the citizen answers an information request."""
        return f"{self.tracking_url(tracking_code)}/answer"

    def lifecycle_message(self, event: Event[Any], contact: Contact) -> tuple[str, RenderedMessage]:
        """The template and message of ``event`` for the applicant ``contact``."""
        payload = event.payload
        template = LIFECYCLE_TEMPLATES[type(payload)]
        told = (
            self._payment_context(payload, contact.language)
            if isinstance(payload, PaymentBilled | PaymentExpiring | PaymentConfirmed | ApplicationCancelled)
            else self._event_context(payload, contact)
        )
        context = self._common_context(contact) | told
        return template, self._renderer.render(template, contact.language, context)

    def one_time_code_message(
        self, language: str, code: str, expires_at: datetime, now: datetime
    ) -> tuple[str, RenderedMessage]:
        """The template and message that carries a one-time code."""
        minutes = max(1, round((expires_at - now).total_seconds() / 60))
        context = {"code": code, "expires_at": expires_at, "expires_in_minutes": minutes}
        return ONE_TIME_CODE, self._renderer.render(ONE_TIME_CODE, language, context)

    def appointment_reminder_message(
        self, language: str, *, booking_code: str, service_code: str, agency: str, starts_at: datetime
    ) -> tuple[str, RenderedMessage]:
        """The template and message reminding a citizen of their booked visit (the day before)."""
        service = self._catalogue.service(service_code)
        context = {
            "booking_code": booking_code,
            "service_name": service.name.in_language(language) if service else service_code,
            "agency_name": self._agency_name(agency, language),
            "starts_at": starts_at,
        }
        return APPOINTMENT_REMINDER, self._renderer.render(APPOINTMENT_REMINDER, language, context)

    def contact_reset_message(self, language: str, *, old: bool, reset_at: datetime) -> tuple[str, RenderedMessage]:
        """The template and message telling a contact that a counter clerk reset the contact on file: the ``old``
        one that it no longer gets codes, the new one that it does."""
        return CONTACT_RESET, self._renderer.render(CONTACT_RESET, language, {"old": old, "reset_at": reset_at})

    def escalated_agency(self, breach: Breach) -> Agency | None:
        """The agency whose escalation target is told of ``breach``: the late task's or complaint's agency, or for
        an application the agency whose escalation target the breach names."""
        if isinstance(breach, ApplicationSlaBreached):
            return self._catalogue.escalated_agency(breach.escalation_target)
        return self._catalogue.agency(breach.agency)

    def escalation_message(self, breach: Breach, agency: Agency) -> tuple[str, RenderedMessage]:
        """The template and message telling ``agency``'s escalation target of ``breach``: what is late (the
        application, task or complaint), where, due when, late since when, and where on the desk to act."""
        context: dict[str, Any] = {
            "escalation_target": breach.escalation_target,
            "agency_name": agency.name.in_language(ESCALATION_LANGUAGE),
            "due_at": breach.due_at,
            "breached_at": breach.breached_at,
            "application_id": None,
            "task_id": None,
            "complaint_id": None,
            "reference": None,
            "desk_url": f"{self._desk_url}/desk",
        }
        if isinstance(breach, ComplaintSlaBreached):
            context |= {"complaint_id": breach.complaint_id, "reference": breach.reference}
        elif isinstance(breach, ApplicationTaskSlaBreached):
            context |= {
                "application_id": breach.application_id,
                "task_id": breach.task_id,
                "desk_url": f"{self._desk_url}/desk/tasks/{breach.task_id}",
            }
        else:
            context["application_id"] = breach.application_id
        return ESCALATION, self._renderer.render(ESCALATION, ESCALATION_LANGUAGE, context)

    def complaint_message(
        self, payload: EventPayload, *, reference: str, agency: str, language: str
    ) -> tuple[str, RenderedMessage]:
        """The template and message telling a complainant of their complaint's receipt, a status change or the
        answer (``payload``), in ``language``; it names the complaint by its reference, never by its id."""
        template = COMPLAINT_TEMPLATES[type(payload)]
        context: dict[str, Any] = {"reference": reference, "agency_name": self._agency_name(agency, language)}
        if isinstance(payload, ComplaintFiled):
            category = self._catalogue.complaint_category(payload.category)
            context |= {
                "category": category.label.in_language(language) if category else payload.category,
                "filed_at": payload.filed_at,
                "due_at": payload.due_at,
            }
        elif isinstance(payload, ComplaintStatusChanged):
            context |= {"state": payload.state, "changed_at": payload.changed_at}
        elif isinstance(payload, ComplaintResolved):
            context |= {"response": payload.response, "resolved_at": payload.resolved_at}
        return template, self._renderer.render(template, language, context)

    def _common_context(self, contact: Contact) -> dict[str, Any]:
        service = self._catalogue.service(contact.service_code)
        service_name = service.name.in_language(contact.language) if service else contact.service_code
        return {
            "first_name": contact.first_name,
            "masked_nik": contact.masked_nik,
            "business": contact.business,
            "tracking_code": contact.tracking_code,
            "service_name": service_name,
            "tracking_url": self.tracking_url(contact.tracking_code),
        }

    def _agency_name(self, code: str, language: str) -> str:
        agency = self._catalogue.agency(code)
        return agency.name.in_language(language) if agency else code.upper()

    def _event_context(self, payload: EventPayload, contact: Contact) -> dict[str, Any]:
        language = contact.language
        if isinstance(payload, ApplicationSubmitted):
            return {"submitted_at": payload.submitted_at}
        if isinstance(payload, ApplicationInformationRequested):
            return {
                "agency_name": self._agency_name(payload.agency, language),
                "questions": list(payload.questions),
                "answer_url": self.answer_url(contact.tracking_code),
            }
        if isinstance(payload, ApplicationCompleted):
            outputs = [
                {
                    "agency_name": self._agency_name(agency, language),
                    "items": [
                        {"label": key.replace("_", " ").capitalize(), "value": value} for key, value in fields.items()
                    ],
                }
                for agency, fields in payload.outputs.items()
            ]
            return {"completed_at": payload.completed_at, "outputs": outputs}
        if isinstance(payload, ApplicationRejected):
            return {"agency_name": self._agency_name(payload.agency, language), "reason": payload.reason}
        if isinstance(payload, ApplicationSlaBreached):
            return self._breach_context(payload, contact)
        if isinstance(payload, SurveyInvited | DocumentIssued):
            return self._after_decision_context(payload, language)
        raise UnknownTemplate(f"no message for {payload.event_type}")

    def _after_decision_context(self, payload: SurveyInvited | DocumentIssued, language: str) -> dict[str, Any]:
        """The survey invitation's link; or what the "your document is ready" message says: the title the catalogue
        gives the service's document (in English where it has one), its number and dates, and whether the original
        waits at the counter."""
        if isinstance(payload, SurveyInvited):
            return {"survey_url": payload.survey_url, "expires_at": payload.expires_at, "outcome": payload.outcome}
        service = self._catalogue.service(payload.service_code)
        title = service.document.title if service and service.document else None
        return {
            "document_title": _in_language(title, language) if title else payload.number,
            "number": payload.number,
            "issued_at": payload.issued_at,
            "valid_until": payload.valid_until,
            "agency_name": self._agency_name(payload.agency, language),
            "collect_at_counter": payload.collect_at_counter,
        }

    def _payment_context(
        self, payload: PaymentBilled | PaymentExpiring | PaymentConfirmed | ApplicationCancelled, language: str
    ) -> dict[str, Any]:
        """What a bill's messages say: the amount as written in ``language`` (``Rp30.000``, ``IDR 30,000``), the
        billing code and deadline; the receipt's channel and reference; the cancellation's moment."""
        if isinstance(payload, ApplicationCancelled):
            return {"cancelled_at": payload.cancelled_at, "reason": payload.reason}
        context: dict[str, Any] = {"amount": rupiah(payload.amount, language), "billing_code": payload.billing_code}
        if isinstance(payload, PaymentBilled):
            context |= {
                "kind_name": fee_kind_name(payload.kind, language),
                "agency_name": self._agency_name(payload.agency, language),
                "expires_at": payload.expires_at,
                "first_stage": payload.pay_before_stage == 0,
            }
        elif isinstance(payload, PaymentExpiring):
            context["expires_at"] = payload.expires_at
        else:
            context |= {
                "channel_name": CHANNEL_NAMES.get(language, CHANNEL_NAMES["id"])[payload.channel],
                "reference": payload.reference,
                "paid_at": payload.paid_at,
            }
        return context

    def _breach_context(self, payload: ApplicationSlaBreached, contact: Contact) -> dict[str, Any]:
        service = self._catalogue.service(contact.service_code)
        owner = self._catalogue.agency(service.agency) if service else None
        calendar = agency_calendar(self._catalogue, service.agency if service else None, self._collective_leave)
        return {
            "due_at": payload.due_at,
            "owner_agency_name": owner.name.in_language(contact.language) if owner else payload.escalation_target,
            "new_expected_at": calendar.due_at(payload.breached_at, self._follow_up_working_days),
        }
