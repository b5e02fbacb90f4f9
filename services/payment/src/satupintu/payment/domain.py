"""Payment's rules, no I/O: a bill's id, its states, when it is due for a reminder or expiry, whether a payment
matches it, and the day (in WIB) reconciliation counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
"""Reconciliation's days are the mall's (Western Indonesian Time)."""

BILL_NAMESPACE = uuid.UUID("7b1f5b0c-3f7e-5d0a-9a52-5a7e0f00a021")
"""The namespace of bill ids (uuid5): the same application always gets the same bill id, so a retried request for
its billing code asks for the same bill."""


class BillStatus(StrEnum):
    """Where a bill stands: open (unpaid, not expired), then paid, expired or cancelled, once."""

    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def bill_id_for(application_id: str, service_code: str) -> str:
    """The id of the bill of ``application_id``'s fee for ``service_code``: a uuid5, deterministic and unguessable
    without the application id (itself a random uuid)."""
    return str(uuid.uuid5(BILL_NAMESPACE, f"{application_id}:{service_code}"))


def expiry_of(billed_at: datetime, expiry_days: int) -> datetime:
    """When a bill issued at ``billed_at`` expires: ``expiry_days`` calendar days later."""
    return billed_at + timedelta(days=expiry_days)


class ConfirmationOutcome(StrEnum):
    """What a verified payment did: paid its bill, or matched no open bill (kept for reconciliation)."""

    CONFIRMED = "confirmed"
    UNMATCHED = "unmatched"


class UnmatchedReason(StrEnum):
    """Why a verified payment matched no open bill: money moved that no bill accounts for (a refund to look into)."""

    UNKNOWN_BILLING_CODE = "unknown_billing_code"
    AMOUNT_MISMATCH = "amount_mismatch"
    ALREADY_PAID = "already_paid"
    BILL_EXPIRED = "bill_expired"
    BILL_CANCELLED = "bill_cancelled"


_NOT_OPEN = {
    BillStatus.PAID: UnmatchedReason.ALREADY_PAID,
    BillStatus.EXPIRED: UnmatchedReason.BILL_EXPIRED,
    BillStatus.CANCELLED: UnmatchedReason.BILL_CANCELLED,
}


def mismatch(status: str | None, billed: int | None, paid: int) -> UnmatchedReason | None:
    """Why a payment of ``paid`` rupiah does not settle a bill in ``status`` for ``billed`` rupiah (None: there is
    no such bill), or None when it does: the bill is open and the amount is exactly the bill's."""
    if status is None or billed is None:
        return UnmatchedReason.UNKNOWN_BILLING_CODE
    if status != BillStatus.OPEN:
        return _NOT_OPEN[BillStatus(status)]
    if paid != billed:
        return UnmatchedReason.AMOUNT_MISMATCH
    return None


class BillNotFound(Exception):
    """No bill has the id asked for."""


class BillNotOpen(Exception):
    """A counter payment for a bill that is paid, expired or cancelled; the message says which."""


class AmountMismatch(Exception):
    """A counter payment whose amount is not the bill's."""

    def __init__(self, billed: int, paid: int) -> None:
        super().__init__(f"the bill is for Rp {billed}, not Rp {paid}")
        self.billed = billed
        self.paid = paid


class ReceiptUsed(Exception):
    """The receipt number was recorded already at this counter, for another bill."""


def day_window(day: date) -> tuple[datetime, datetime]:
    """The instants ``day`` (in WIB) starts and the next one starts."""
    start = datetime.combine(day, time(), tzinfo=WIB)
    return start, start + timedelta(days=1)
