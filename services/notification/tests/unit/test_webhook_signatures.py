"""The check a webhook receiver makes: it accepts our signature over the timestamp and body, and refuses a wrong
signature, a changed body, and a stale or future timestamp."""

from __future__ import annotations

import pytest

from satupintu.notification.webhooks import InvalidWebhookSignature, verify_webhook_signature, webhook_signature

pytestmark = pytest.mark.unit

SECRET = "whsec-portal-0123456789"
BODY = b'{"type":"application.completed","application_id":"app-1"}'
SENT_AT = 1_780_000_000


def test_receiver_accepts_a_valid_signature_within_the_tolerance() -> None:
    signature = webhook_signature(SECRET, str(SENT_AT), BODY)

    verify_webhook_signature(SECRET, str(SENT_AT), BODY, signature, now=SENT_AT)
    verify_webhook_signature(SECRET, str(SENT_AT), BODY, signature, now=SENT_AT + 299)
    assert signature.startswith("sha256=")
    assert len(signature) == len("sha256=") + 64


@pytest.mark.parametrize(
    "signature",
    [
        webhook_signature("another-secret", str(SENT_AT), BODY),
        webhook_signature(SECRET, str(SENT_AT + 1), BODY),
        webhook_signature(SECRET, str(SENT_AT), BODY + b" "),
        "sha256=" + "0" * 64,
        "not-a-signature",
    ],
    ids=["wrong secret", "other timestamp", "other body", "zeros", "garbage"],
)
def test_receiver_refuses_a_wrong_signature(signature: str) -> None:
    with pytest.raises(InvalidWebhookSignature, match="does not match"):
        verify_webhook_signature(SECRET, str(SENT_AT), BODY, signature, now=SENT_AT)


@pytest.mark.parametrize("now", [SENT_AT + 301, SENT_AT - 301, SENT_AT + 86_400])
def test_receiver_refuses_a_stale_or_future_timestamp_even_with_a_valid_signature(now: int) -> None:
    signature = webhook_signature(SECRET, str(SENT_AT), BODY)

    with pytest.raises(InvalidWebhookSignature, match="stale or replayed"):
        verify_webhook_signature(SECRET, str(SENT_AT), BODY, signature, now=now)


def test_receiver_refuses_missing_headers_and_malformed_timestamps() -> None:
    with pytest.raises(InvalidWebhookSignature, match="missing"):
        verify_webhook_signature(SECRET, None, BODY, "sha256=00", now=SENT_AT)
    with pytest.raises(InvalidWebhookSignature, match="missing"):
        verify_webhook_signature(SECRET, str(SENT_AT), BODY, None, now=SENT_AT)
    with pytest.raises(InvalidWebhookSignature, match="Unix seconds"):
        verify_webhook_signature(SECRET, "yesterday", BODY, "sha256=00", now=SENT_AT)
