"""Billing codes: the simulators give a retried bill the same code, in the documented form (PNBP 15 digits
``899...``, retribusi 18 digits from the region code, a Luhn check digit), and the production adapters, chosen by
settings, say what their integration needs instead of inventing a code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from satupintu.payment.billing import (
    BillingSettings,
    BillRequest,
    FeeKind,
    RegionalBillingAdapter,
    RetribusiSimulator,
    SimponiAdapter,
    SimponiSimulator,
    luhn_check_digit,
    provider_for,
)

pytestmark = pytest.mark.unit

EXPIRES_AT = datetime(2026, 12, 11, 17, 0, tzinfo=UTC)


def request(bill_id: str, kind: FeeKind = "pnbp") -> BillRequest:
    return BillRequest(
        bill_id=bill_id,
        agency="polri" if kind == "pnbp" else "dpmptsp",
        service_code="skck" if kind == "pnbp" else "pbg",
        kind=kind,
        amount=30_000,
        expires_at=EXPIRES_AT,
    )


def test_luhn_check_digit_matches_the_standard_example() -> None:
    assert luhn_check_digit("7992739871") == "3"


async def test_pnbp_simulator_gives_a_retried_bill_the_same_15_digit_code() -> None:
    first = await provider_for("pnbp", BillingSettings()).billing_code(request("bill-1"))
    again = await provider_for("pnbp", BillingSettings()).billing_code(request("bill-1"))
    other = await provider_for("pnbp", BillingSettings()).billing_code(request("bill-2"))

    assert first == again
    assert other != first
    assert len(first) == 15
    assert first.isdigit()
    assert first.startswith("899")
    assert first[-1] == luhn_check_digit(first[:-1])


async def test_retribusi_simulator_gives_an_18_digit_code_starting_with_the_region() -> None:
    settings = BillingSettings(region_code="3273")

    code = await provider_for("retribusi", settings).billing_code(request("bill-1", "retribusi"))

    assert code == await provider_for("retribusi", settings).billing_code(request("bill-1", "retribusi"))
    assert len(code) == 18
    assert code.isdigit()
    assert code.startswith("327399")
    assert code[-1] == luhn_check_digit(code[:-1])


async def test_simulator_recognises_its_codes_and_a_mistyped_digit() -> None:
    simulator = SimponiSimulator()
    code = await simulator.billing_code(request("bill-7"))
    mistyped = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]

    assert simulator.is_its_code(code)
    assert not simulator.is_its_code(mistyped)
    assert not simulator.is_its_code(code[:-1])
    assert not RetribusiSimulator("3273").is_its_code(code)


def test_settings_choose_the_production_adapters() -> None:
    settings = BillingSettings(pnbp_provider="simponi", retribusi_provider="regional")

    assert isinstance(provider_for("pnbp", settings), SimponiAdapter)
    assert isinstance(provider_for("retribusi", settings), RegionalBillingAdapter)
    assert isinstance(provider_for("pnbp", BillingSettings()), SimponiSimulator)
    assert isinstance(provider_for("retribusi", BillingSettings()), RetribusiSimulator)


@pytest.mark.parametrize(("kind", "missing"), [("pnbp", "satker"), ("retribusi", "levy object code")])
async def test_production_adapter_says_what_its_integration_needs(kind: FeeKind, missing: str) -> None:
    provider = provider_for(kind, BillingSettings(pnbp_provider="simponi", retribusi_provider="regional"))

    with pytest.raises(NotImplementedError, match=missing):
        await provider.billing_code(request("bill-1", kind))


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"amount": 0}, "amount"), ({"amount": 1.5}, "amount"), ({"expires_at": datetime(2026, 12, 11)}, "expires_at")],
)
def test_bill_request_refuses_fractions_and_naive_expiry(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "bill_id": "bill-1",
        "agency": "polri",
        "service_code": "skck",
        "kind": "pnbp",
        "amount": 30_000,
        "expires_at": EXPIRES_AT,
    }
    with pytest.raises(ValueError, match=field):
        BillRequest(**(values | changes))  # type: ignore[arg-type]


def test_region_code_must_be_four_digits() -> None:
    with pytest.raises(ValueError, match="region_code"):
        BillingSettings(region_code="32")
