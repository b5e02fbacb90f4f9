"""The alert rules and the dashboard in deploy/observability/ read only metrics the services really export: every
metric name their PromQL uses is one a service's ``/metrics`` exposes (or ``up``, which Prometheus records itself),
taken from the registries of the seven apps as ``create_app()`` builds them, nothing connected."""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "alerts.yml"
DASHBOARD = OBSERVABILITY / "dashboards" / "satupintu-overview.json"
OPERATIONS = ROOT / "docs" / "operations.md"
SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")

RECORDED_BY_PROMETHEUS = frozenset({"up"})
"""Series Prometheus records for each scrape target, not read from ``/metrics``."""

PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"inf", "nan", "Inf", "NaN"}
)
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}

pytestmark = pytest.mark.unit


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions (followed by ``(``), keywords,
    label names (in matchers and grouping lists), strings, numbers, durations or Grafana variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', " ", expr)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    text = re.sub(r"(?<![\w:])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in PROMQL_KEYWORDS:
            continue
        names.add(match.group())
    return names


@cache
def exported_metrics() -> dict[str, frozenset[str]]:
    """Per service, the sample names its ``/metrics`` can expose (a counter's ``_total``, a histogram's
    ``_bucket``/``_sum``/``_count``, ...), from the registry its app is built with."""
    exported = {}
    for service in SERVICES:
        app = importlib.import_module(f"satupintu.{service}.main").create_app()
        families = app.state.runtime.metrics.registry.collect()
        exported[service] = frozenset(
            family.name + suffix for family in families for suffix in SAMPLE_SUFFIXES[family.type]
        )
    return exported


def unknown_metrics(expressions: list[str]) -> dict[str, set[str]]:
    """The expressions that read a metric no service exports, with those names."""
    known = RECORDED_BY_PROMETHEUS.union(*exported_metrics().values())
    unknown = {expr: metric_names(expr) - known for expr in expressions}
    return {expr: names for expr, names in unknown.items() if names}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panel_expressions(model: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in model["panels"] for target in panel.get("targets", [])]


def operations_anchors() -> set[str]:
    """The anchors GitHub gives the headings of docs/operations.md."""
    headings = re.findall(r"^#{1,6} (.+)$", OPERATIONS.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_the_tokenizer_finds_metric_names_and_skips_functions_labels_and_keywords() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(http_seconds_bucket{status=~"5..", job="$job"}'
        "[$__rate_interval]))) > 2 and on (job) (time() - last_seen_timestamp offset 5m) > 1e3 unless bool up"
    )

    assert metric_names(expr) == {"http_seconds_bucket", "last_seen_timestamp", "up"}


def test_every_rule_is_a_complete_prometheus_alert() -> None:
    document = yaml.safe_load(RULES.read_text())
    anchors = operations_anchors()

    assert set(document) == {"groups"}
    assert all(group["name"] and group["rules"] for group in document["groups"])
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), names
    for rule in rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        page, _, anchor = rule["annotations"]["runbook"].partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in anchors, rule["alert"]


def test_the_alerts_cover_what_an_operator_must_know() -> None:
    read = set().union(*(metric_names(rule["expr"]) for rule in rules()))

    assert {
        "up",
        "satupintu_http_requests_total",
        "satupintu_dead_letters_total",
        "satupintu_outbox_lag_events",
        "satupintu_outbox_oldest_age_seconds",
        "satupintu_parked_events",
        "satupintu_sla_breaches_total",
        "satupintu_notifications_total",
        "satupintu_notifications_overdue_seconds",
        "satupintu_audit_unsigned_entries",
        "satupintu_audit_last_checkpoint_timestamp_seconds",
        "faststream_received_messages_in_process",
        "satupintu_consumer_lag_events",
    } <= read


def test_the_dashboard_is_a_grafana_model_on_a_prometheus_datasource_variable() -> None:
    model = dashboard()
    variables = {variable["name"]: variable for variable in model["templating"]["list"]}
    panels = [panel for panel in model["panels"] if panel["type"] != "row"]

    assert model["schemaVersion"] >= 39
    assert model["uid"] == "satupintu-overview"
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert len({panel["id"] for panel in model["panels"]}) == len(model["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(target["expr"] for target in panel["targets"]), panel["title"]
    assert variables["job"]["query"]["query"] == "label_values(up, job)"


def test_every_metric_the_rules_and_the_dashboard_read_is_exported() -> None:
    expressions = [rule["expr"] for rule in rules()] + panel_expressions(dashboard())

    assert unknown_metrics(expressions) == {}


def test_a_rule_reading_a_metric_no_service_exports_is_caught() -> None:
    misspelt = "sum by (job) (rate(satupintu_http_request_total[5m])) > 0 and up == 1"

    assert unknown_metrics([misspelt]) == {misspelt: {"satupintu_http_request_total"}}
