"""Prometheus's own ``promtool`` accepts the alert rules in deploy/observability/ and their unit tests pass: every
alert fires on a synthetic service in trouble and stays quiet on a healthy one (alerts.test.yml). promtool is the
pinned one (:mod:`satupintu.devtools.localstack.promtool`), built in this session if the cache lacks it: a cold
build takes minutes and starts in the background as soon as collection ends (the ``promtool`` fixture)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "alerts.yml"
RULE_TESTS = OBSERVABILITY / "alerts.test.yml"

pytestmark = [
    pytest.mark.unit,
    pytest.mark.timeout(1800),  # a cold build of promtool on a fresh 2-core machine is awaited by the first test
]


def run(promtool: Path, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *map(str, arguments)], capture_output=True, text=True, timeout=120, check=False)


def alert_names() -> set[str]:
    document = yaml.safe_load(RULES.read_text())
    return {rule["alert"] for group in document["groups"] for rule in group["rules"]}


def test_every_alert_is_unit_tested_both_firing_and_quiet() -> None:
    cases = [case for group in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in group["alert_rule_test"]]

    assert {case["alertname"] for case in cases if case["exp_alerts"]} == alert_names()
    assert {case["alertname"] for case in cases if not case["exp_alerts"]} == alert_names()


def test_promtool_finds_the_alert_rules_valid(promtool: Path) -> None:
    checked = run(promtool, "check", "rules", RULES)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_every_alert_fires_on_a_service_in_trouble_and_stays_quiet_on_a_healthy_one(promtool: Path) -> None:
    tested = run(promtool, "test", "rules", RULE_TESTS)

    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_refuses_a_rule_with_a_broken_expression(promtool: Path, tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yml"
    broken.write_text(
        RULES.read_text().replace(
            "expr: satupintu_outbox_lag_events > 1000", "expr: sum by (job (satupintu_outbox_lag_events) > 1000"
        )
    )

    checked = run(promtool, "check", "rules", broken)

    assert broken.read_text() != RULES.read_text()
    assert checked.returncode != 0
    assert '"SatuPintuOutboxBacklog": could not parse expression' in checked.stdout + checked.stderr


def test_the_unit_tests_catch_an_alert_whose_threshold_moved(promtool: Path, tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(
        RULES.read_text().replace("satupintu_outbox_lag_events > 1000", "satupintu_outbox_lag_events > 100000")
    )
    (tmp_path / "alerts.test.yml").write_text(RULE_TESTS.read_text())

    tested = run(promtool, "test", "rules", tmp_path / "alerts.test.yml")

    assert tested.returncode != 0
    assert "alertname: SatuPintuOutboxBacklog" in tested.stdout + tested.stderr
