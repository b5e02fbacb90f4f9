"""Intake is the front door: it keeps normal CPU priority while the back office runs nicer by default
(docs/decisions/0037-the-front-door-first.md)."""

from __future__ import annotations

import pytest

from satupintu.common.settings import ServiceSettings
from satupintu.intake.config import IntakeSettings

pytestmark = pytest.mark.unit


def test_the_front_door_keeps_normal_priority_and_the_back_office_defaults_lower(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IntakeSettings().cpu_niceness == 0
    assert ServiceSettings().cpu_niceness == 19
    monkeypatch.setenv("INTAKE_CPU_NICENESS", "5")
    assert IntakeSettings().cpu_niceness == 5
