"""Payment's rules, no I/O: a bill's id, its states, and when it is due for a reminder or expiry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

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
