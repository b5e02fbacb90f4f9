"""Production refuses the gateways' callback secrets it would be fooled by: left unset (the development simulator's),
the development one among others, or one too short; it names the variable and never echoes a secret."""

from __future__ import annotations

import pytest

from satupintu.common.production import development_defaults
from satupintu.payment.config import DEVELOPMENT_CALLBACK_SECRETS, PaymentSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("secrets", "named"),
    [
        pytest.param(None, "PAYMENT_CALLBACK_SECRETS is the built-in development default", id="unset"),
        pytest.param(
            {"bank": "b" * 40, **DEVELOPMENT_CALLBACK_SECRETS}, "qris-sim's secret is the development one", id="dev"
        ),
        pytest.param({"bank": "too-short"}, "bank's secret is shorter than 32 characters", id="short"),
    ],
)
def test_production_refuses_a_development_or_short_callback_secret(secrets: dict[str, str] | None, named: str) -> None:
    settings = PaymentSettings() if secrets is None else PaymentSettings(callback_secrets=secrets)

    problems = development_defaults(settings)

    assert any(named in problem for problem in problems), problems
    assert not any("too-short" in problem or "b" * 40 in problem for problem in problems)


def test_a_real_gateways_long_secret_raises_no_problem_of_its_own() -> None:
    settings = PaymentSettings(callback_secrets={"bank": "x" * 48})

    assert not [problem for problem in development_defaults(settings) if "CALLBACK" in problem]
