"""Billing codes: the number the citizen pays a fee with, from the system that collects it.

A PNBP fee (a central agency's non-tax revenue: the SKCK, a passport) is billed in SIMPONI, the Ministry of
Finance's PNBP information system, whose billing codes are 15 digits; a retribusi (a region's levy: the PBG) in the
region's own system, whose codes here are 18 digits. The payment service asks one :class:`BillingProvider` per kind;
:func:`provider_for` picks a local simulator (development, tests) or the production adapter the settings name.

The simulators' codes (a simulation: they follow no real system's internal numbering)::

    PNBP       8 99 NNNNNNNNNNN C             15 digits
    retribusi  RRRR 99 NNNNNNNNNNN C          18 digits

``8`` and ``RRRR`` (the region's four-digit Kemendagri code, from settings) lead the code, ``99`` marks it as made by
a simulator, ``N`` are eleven digits of the SHA-256 of the kind and the bill id (so a retried request for the same
bill gets the same code), and ``C`` is a Luhn check digit over the rest, which catches a mistyped digit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

FeeKind = Literal["pnbp", "retribusi"]
"""PNBP: a central agency's non-tax revenue (SIMPONI); retribusi: a region's levy (the region's system)."""

SIMULATOR_MARK = "99"
PNBP_SIMULATOR_PREFIX = "8" + SIMULATOR_MARK
_SERIAL_DIGITS = 11


@dataclass(frozen=True)
class BillRequest:
    """What a billing system needs to issue a code: the bill, who is paid, for what, how much and until when."""

    bill_id: str
    agency: str
    service_code: str
    kind: FeeKind
    amount: int
    """Whole rupiah."""
    expires_at: datetime

    def __post_init__(self) -> None:
        if not self.bill_id:
            raise ValueError("bill_id: empty")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"amount: a positive whole number of rupiah, got {self.amount!r}")
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at: needs a time zone")


class BillingProvider(Protocol):
    """A system that issues billing codes for one kind of fee."""

    async def billing_code(self, request: BillRequest) -> str:
        """The billing code the citizen pays ``request`` with; the same code again for the same bill id."""
        ...


class BillingSettings(BaseModel):
    """Which billing system issues each kind's codes; nested in the payment service's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pnbp_provider: Literal["simulator", "simponi"] = Field(
        default="simulator", description="Who issues PNBP billing codes: the local simulator, or SIMPONI."
    )
    retribusi_provider: Literal["simulator", "regional"] = Field(
        default="simulator",
        description="Who issues retribusi billing codes: the local simulator, or the region's own system.",
    )
    region_code: str = Field(
        default="3273",
        pattern=r"^[0-9]{4}$",
        description="The region's four-digit Kemendagri code; the simulator's retribusi codes start with it.",
    )
    simponi_url: str | None = Field(default=None, description="SIMPONI's billing API, for the `simponi` provider.")
    regional_url: str | None = Field(default=None, description="The region's billing API, for the `regional` provider.")


def luhn_check_digit(digits: str) -> str:
    """The Luhn (mod 10) check digit to append to ``digits``."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def _serial(kind: FeeKind, bill_id: str) -> str:
    digest = hashlib.sha256(f"{kind}:{bill_id}".encode()).digest()
    return f"{int.from_bytes(digest, 'big') % 10**_SERIAL_DIGITS:0{_SERIAL_DIGITS}d}"


def _with_check_digit(digits: str) -> str:
    return digits + luhn_check_digit(digits)


def _well_formed(code: str, prefix: str, length: int) -> bool:
    return (
        len(code) == length
        and code.isascii()
        and code.isdigit()
        and code.startswith(prefix)
        and luhn_check_digit(code[:-1]) == code[-1]
    )


class SimponiSimulator:
    """PNBP billing codes as SIMPONI's are shaped (15 digits), made locally: see the module's docstring."""

    kind: FeeKind = "pnbp"
    length = 15

    async def billing_code(self, request: BillRequest) -> str:
        """The bill's code: ``899``, eleven digits from the bill id, a Luhn check digit."""
        return _with_check_digit(PNBP_SIMULATOR_PREFIX + _serial(request.kind, request.bill_id))

    def is_its_code(self, code: str) -> bool:
        """Whether ``code`` has this simulator's form and a correct check digit."""
        return _well_formed(code, PNBP_SIMULATOR_PREFIX, self.length)


class RetribusiSimulator:
    """Retribusi billing codes as a region's system might issue them (18 digits), made locally: see the module's
    docstring."""

    kind: FeeKind = "retribusi"
    length = 18

    def __init__(self, region_code: str) -> None:
        if not (len(region_code) == 4 and region_code.isdigit()):
            raise ValueError(f"region_code: four digits, got {region_code!r}")
        self.prefix = region_code + SIMULATOR_MARK

    async def billing_code(self, request: BillRequest) -> str:
        """The bill's code: the region code, ``99``, eleven digits from the bill id, a Luhn check digit."""
        return _with_check_digit(self.prefix + _serial(request.kind, request.bill_id))

    def is_its_code(self, code: str) -> bool:
        """Whether ``code`` has this simulator's form and a correct check digit."""
        return _well_formed(code, self.prefix, self.length)


class SimponiAdapter:
    """SIMPONI's billing API, not integrated yet: asking it for a code raises :class:`NotImplementedError`."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    async def billing_code(self, request: BillRequest) -> str:
        """Not integrated: raises :class:`NotImplementedError` naming what the integration needs."""
        raise NotImplementedError(
            "SIMPONI billing is not integrated: it needs SIMPONI's host-to-host API access granted by the Ministry of "
            f"Finance (endpoint {self.url or 'not set'}, user id and password), and per "
            f"agency its work unit (satker) code and the PNBP account code of each tariff (agency {request.agency!r}, "
            f"service {request.service_code!r})"
        )


class RegionalBillingAdapter:
    """The region's own retribusi billing API, not integrated yet: asking it for a code raises
    :class:`NotImplementedError`."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    async def billing_code(self, request: BillRequest) -> str:
        """Not integrated: raises :class:`NotImplementedError` naming what the integration needs."""
        raise NotImplementedError(
            "regional retribusi billing is not integrated: it needs the region's billing API "
            f"(endpoint {self.url or 'not set'}), its credentials, and the levy object "
            f"code of each service under the regional regulation (service {request.service_code!r})"
        )


def provider_for(kind: FeeKind, settings: BillingSettings) -> BillingProvider:
    """The billing provider for ``kind``: the simulator, or the production adapter ``settings`` name.

    The production adapters (SIMPONI, the region's system) are not integrated yet: they are returned, and raise
    :class:`NotImplementedError` naming what is missing when asked for a code.
    """
    if kind == "pnbp":
        return SimponiSimulator() if settings.pnbp_provider == "simulator" else SimponiAdapter(settings.simponi_url)
    if settings.retribusi_provider == "simulator":
        return RetribusiSimulator(settings.region_code)
    return RegionalBillingAdapter(settings.regional_url)
