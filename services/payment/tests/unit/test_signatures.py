"""Gateway callback signatures: a callback signed with the shared secret within the tolerance is accepted; a wrong
signature, a changed body, a missing header, a stale or a future timestamp is refused, each saying why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from satupintu.payment.signatures import (
    BadSignature,
    CallbackRefused,
    FutureTimestamp,
    MissingHeader,
    StaleTimestamp,
    sign,
    verify,
)

pytestmark = pytest.mark.unit

SECRET = "gateway-shared-secret-0123456789"
BODY = b'{"transaction_id":"trx-1","billing_code":"899123456789013","amount":350000}'
SENT_AT = 1_796_000_000
NOW = datetime.fromtimestamp(SENT_AT, tz=UTC)


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    # HMAC-SHA256(key=b"key", message=b"1.body"), worked out with the standard library's hmac module
    assert sign("key", 1, b"body") == "91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5"
    assert sign(SECRET, SENT_AT, BODY) == sign(SECRET, str(SENT_AT), BODY)


@pytest.mark.parametrize("delay", [timedelta(0), timedelta(seconds=299), timedelta(seconds=-299)])
def test_good_signature_within_the_tolerance_is_accepted(delay: timedelta) -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    signed_at = verify(SECRET, signature, str(SENT_AT), BODY, now=NOW + delay)

    assert signed_at == NOW


def test_upper_case_hex_is_the_same_signature() -> None:
    verify(SECRET, sign(SECRET, SENT_AT, BODY).upper(), str(SENT_AT), BODY, now=NOW)


@pytest.mark.parametrize(
    ("signature", "body"),
    [
        (sign("another-secret", SENT_AT, BODY), BODY),
        (sign(SECRET, SENT_AT + 1, BODY), BODY),
        (sign(SECRET, SENT_AT, BODY), BODY.replace(b"350000", b"35000")),
        ("0" * 64, BODY),
        ("not-a-signature-é", BODY),
    ],
    ids=["wrong secret", "other timestamp", "changed amount", "zeros", "garbage"],
)
def test_bad_signature_is_refused(signature: str, body: bytes) -> None:
    with pytest.raises(BadSignature, match="does not match"):
        verify(SECRET, signature, str(SENT_AT), body, now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "missing"),
    [
        (None, str(SENT_AT), "X-Callback-Signature"),
        ("", str(SENT_AT), "X-Callback-Signature"),
        (sign(SECRET, SENT_AT, BODY), None, "X-Callback-Timestamp"),
        (sign(SECRET, "2026-12-04T05:00:00Z", BODY), "2026-12-04T05:00:00Z", "not Unix seconds"),
    ],
    ids=["no signature", "empty signature", "no timestamp", "timestamp not in seconds"],
)
def test_missing_or_malformed_header_is_refused(signature: str | None, timestamp: str | None, missing: str) -> None:
    with pytest.raises(MissingHeader, match=missing):
        verify(SECRET, signature, timestamp, BODY, now=NOW)


def test_stale_timestamp_is_refused_even_when_signed() -> None:
    with pytest.raises(StaleTimestamp, match="before now"):
        verify(SECRET, sign(SECRET, SENT_AT, BODY), str(SENT_AT), BODY, now=NOW + timedelta(seconds=301))


def test_future_timestamp_is_refused_even_when_signed() -> None:
    with pytest.raises(FutureTimestamp, match="after now"):
        verify(SECRET, sign(SECRET, SENT_AT, BODY), str(SENT_AT), BODY, now=NOW - timedelta(seconds=301))


def test_tolerance_is_a_setting() -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    verify(SECRET, signature, str(SENT_AT), BODY, now=NOW + timedelta(seconds=500), tolerance=timedelta(minutes=10))
    with pytest.raises(CallbackRefused):
        verify(SECRET, signature, str(SENT_AT), BODY, now=NOW + timedelta(seconds=61), tolerance=timedelta(minutes=1))
