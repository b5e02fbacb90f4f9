"""Payment gateway callbacks: who may say a bill was paid. The gateway signs each callback with the secret it shares
with us: ``X-Callback-Signature`` is the hex HMAC-SHA256 of ``<timestamp>.`` followed by the raw body, and
``X-Callback-Timestamp`` the Unix seconds it was sent at. A callback is accepted only when the signature matches
(compared in constant time) and the timestamp is within the tolerance of our clock, either way, which stops replays
of an old callback and callbacks dated ahead to outlive the tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

SIGNATURE_HEADER = "X-Callback-Signature"
TIMESTAMP_HEADER = "X-Callback-Timestamp"
DEFAULT_TOLERANCE = timedelta(seconds=300)


class CallbackRefused(Exception):
    """A callback that is not shown to come from the gateway; the message says why. Answered with 401."""


class MissingHeader(CallbackRefused):
    """The signature or timestamp header is absent, empty or malformed."""


class BadSignature(CallbackRefused):
    """The signature does not match the body and timestamp with our shared secret."""


class StaleTimestamp(CallbackRefused):
    """The callback was signed longer ago than the tolerance: a replay, or one held back too long."""


class FutureTimestamp(CallbackRefused):
    """The callback says it was signed further ahead of our clock than the tolerance."""


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The signature of ``body`` sent at ``timestamp`` (Unix seconds): hex HMAC-SHA256 of ``f"{timestamp}."`` and
    the body."""
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    secret: str | bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> datetime:
    """When the callback was signed, once its signature and timestamp are checked against ``now``.

    Raises :class:`MissingHeader`, :class:`BadSignature`, :class:`StaleTimestamp` or :class:`FutureTimestamp` (all
    :class:`CallbackRefused`). The signature is checked first, so a stale or future timestamp is reported only for a
    callback the gateway really signed.
    """
    if now.tzinfo is None:
        raise ValueError("now: needs a time zone")
    if not signature_header:
        raise MissingHeader(f"missing {SIGNATURE_HEADER} header")
    if not timestamp_header:
        raise MissingHeader(f"missing {TIMESTAMP_HEADER} header")
    timestamp = timestamp_header.strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 11):
        raise MissingHeader(f"{TIMESTAMP_HEADER} is not Unix seconds: {timestamp_header[:40]!r}")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature_header.strip().lower().encode("ascii", "replace")):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body and timestamp")
    signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    if signed_at < now - tolerance:
        raise StaleTimestamp(f"signed at {signed_at.isoformat()}, more than {tolerance} before now")
    if signed_at > now + tolerance:
        raise FutureTimestamp(f"signed at {signed_at.isoformat()}, more than {tolerance} after now")
    return signed_at
