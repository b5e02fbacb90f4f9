"""Signing webhooks, and the check their receivers make: HMAC-SHA256 over ``<timestamp>.<body>`` with the
subscriber's secret, sent as ``X-SatuPintu-Signature: sha256=<hex>`` beside ``X-SatuPintu-Timestamp`` (Unix
seconds). A receiver refuses a wrong signature, and a timestamp too far from its clock, which stops replays."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-SatuPintu-Timestamp"
SIGNATURE_HEADER = "X-SatuPintu-Signature"
EVENT_TYPE_HEADER = "X-SatuPintu-Event-Type"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_SECONDS = 300
_SCHEME = "sha256="


class InvalidWebhookSignature(ValueError):
    """A webhook whose signature does not verify; the message says why (wrong, malformed or stale)."""


def _secret_bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def webhook_signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The ``X-SatuPintu-Signature`` value of ``body`` sent at ``timestamp``: ``sha256=<hex>``."""
    digest = hmac.new(_secret_bytes(secret), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify_webhook_signature(
    secret: str | bytes,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`InvalidWebhookSignature` unless ``signature`` is ours over ``timestamp`` and ``body`` and
    ``timestamp`` (Unix seconds) is within ``tolerance`` seconds of ``now`` (default: this machine's clock)."""
    if not timestamp or not signature:
        raise InvalidWebhookSignature(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        sent_at = int(timestamp)
    except ValueError as malformed:
        raise InvalidWebhookSignature("the timestamp is not Unix seconds") from malformed
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise InvalidWebhookSignature(f"the timestamp is more than {tolerance:.0f}s from now (stale or replayed)")
    expected = webhook_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise InvalidWebhookSignature("the signature does not match the body and timestamp")
