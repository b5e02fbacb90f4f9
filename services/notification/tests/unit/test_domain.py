"""Notification's rules: stable message ids, who is told on which channel, which failures are retried, and the
backoff between attempts."""

from __future__ import annotations

import uuid

import pytest

from satupintu.contract.applications import Applicant
from satupintu.notification.domain import (
    ChannelKind,
    Contact,
    DeliveryFailed,
    Lane,
    Recipient,
    RetryPolicy,
    channel_kind,
    citizen_recipients,
    http_status_is_transient,
    lane_of,
    message_id,
    smtp_code_is_transient,
)

pytestmark = pytest.mark.unit

ALL = frozenset(ChannelKind)


def contact(email: str | None = "siti@example.id", phone: str | None = "081234567890") -> Contact:
    applicant = Applicant(nik="3171015506900002", name="Siti Rahayu", email=email, phone=phone, language="id")
    return Contact.of_applicant(applicant, "SP-1", "skck")


def test_message_id_is_stable_per_event_and_channel_and_differs_between_channels() -> None:
    event_id = str(uuid.uuid4())

    assert message_id(event_id, "email") == message_id(event_id, "email")
    assert message_id(event_id, "email") != message_id(event_id, "sms")
    assert message_id(event_id, "email") != message_id(str(uuid.uuid4()), "email")
    assert uuid.UUID(message_id(event_id, "webhook:portal")).version == 5


def test_contact_keeps_first_name_masked_nik_and_phone_in_international_form() -> None:
    kept = contact()

    assert (kept.first_name, kept.masked_nik, kept.phone) == ("Siti", "3171********0002", "+6281234567890")


def test_citizen_gets_email_and_sms_for_what_they_gave_and_what_is_configured() -> None:
    assert citizen_recipients(contact(), ALL, console_fallback=True) == [
        Recipient("email", "siti@example.id"),
        Recipient("sms", "+6281234567890"),
    ]
    assert citizen_recipients(contact(phone=None), ALL, console_fallback=True) == [
        Recipient("email", "siti@example.id")
    ]
    assert citizen_recipients(contact(email=None), ALL, console_fallback=True) == [Recipient("sms", "+6281234567890")]


def test_console_stands_in_only_when_no_channel_of_the_citizen_is_configured() -> None:
    only_console = frozenset({ChannelKind.CONSOLE})

    assert citizen_recipients(contact(), only_console, console_fallback=True) == [
        Recipient("console", "s***@example.id")
    ]
    assert citizen_recipients(contact(), only_console, console_fallback=False) == []
    assert citizen_recipients(contact(email=None, phone=None), ALL, console_fallback=True) == [
        Recipient("console", "applicant")
    ]


def test_recipients_are_masked_for_operators_and_webhooks_are_named() -> None:
    assert Recipient("email", "siti.rahayu@example.id").masked == "s***@example.id"
    assert Recipient("sms", "+6281234567890").masked == "**********7890"
    assert Recipient("webhook:portal", "portal").masked == "portal"
    assert channel_kind("webhook:portal") is ChannelKind.WEBHOOK


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (502, True), (503, True), (504, True), (429, True), (408, True), (400, False), (401, False),
     (403, False), (404, False), (422, False)],
)  # fmt: skip
def test_server_errors_throttling_and_timeouts_are_retried_other_client_errors_are_not(
    status: int, transient: bool
) -> None:
    assert http_status_is_transient(status) is transient


@pytest.mark.parametrize(("code", "transient"), [(421, True), (450, True), (451, True), (452, True), (550, False),
                                                 (551, False), (552, False), (553, False), (554, False)])  # fmt: skip
def test_smtp_4xx_is_retried_and_5xx_is_not(code: int, transient: bool) -> None:
    assert smtp_code_is_transient(code) is transient


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap_with_jitter_below_it() -> None:
    policy = RetryPolicy(max_attempts=6, initial_delay=2.0, max_delay=30.0)

    assert [policy.backoff(attempt, jitter=1.0) for attempt in range(1, 6)] == [2.0, 4.0, 8.0, 16.0, 30.0]
    assert policy.backoff(3, jitter=0.5) == 4.0
    assert all(4.0 <= policy.backoff(3) < 8.0 for _ in range(200))


def test_backoff_honours_the_channels_retry_after_within_the_cap() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=60.0)

    assert policy.backoff(1, retry_after=20.0, jitter=1.0) == 20.0
    assert policy.backoff(1, retry_after=3600.0, jitter=1.0) == 60.0


def test_permanent_failures_are_given_up_at_once_transient_ones_after_the_budget() -> None:
    policy = RetryPolicy(max_attempts=3)
    transient = DeliveryFailed("gateway answered HTTP 503", transient=True)
    permanent = DeliveryFailed("gateway answered HTTP 400", transient=False)

    assert [policy.gives_up(attempt, transient) for attempt in (1, 2, 3)] == [False, False, True]
    assert policy.gives_up(1, permanent)


def test_codes_questions_documents_and_bills_go_in_the_urgent_lane_and_status_messages_do_not() -> None:
    for template in (
        "one_time_code",
        "application.information_requested",
        "document.issued",
        "payment.billed",
        "payment.expiring",
    ):
        assert lane_of(template) is Lane.URGENT
    for template in ("application.submitted", "application.completed", "survey.invited", "escalation"):
        assert lane_of(template) is Lane.ROUTINE
    assert Lane.URGENT.priority < Lane.ROUTINE.priority
