"""Structured logs: JSON lines that carry the event context and never a citizen's personal data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from satupintu.common.logs import bind_event_context, configure_logging, get_logger, redact_personal_data

pytestmark = pytest.mark.unit

NIK = "3171010101010002"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_log_line_carries_event_context_and_masks_nik_and_email(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("intake")

    with bind_event_context(correlation_id="corr-1", application_id="app-42"):
        get_logger("satupintu.intake").info(
            "application received", nik=NIK, note=f"applicant {NIK} wrote from budi.santoso@example.go.id"
        )

    output = capsys.readouterr().out
    [line] = json_lines(output)
    assert line["event"] == "application received"
    assert line["correlation_id"] == "corr-1"
    assert line["application_id"] == "app-42"
    assert line["service"] == "intake"
    assert line["level"] == "info"
    assert line["logger"] == "satupintu.intake"
    assert line["timestamp"].endswith("Z")
    assert line["nik"] == "3171********0002"
    assert line["note"] == "applicant 3171********0002 wrote from b***@example.go.id"
    assert NIK not in output
    assert "budi.santoso" not in output


def test_event_context_is_dropped_when_the_block_ends(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("routing")
    logger = get_logger("satupintu.routing")

    with bind_event_context(correlation_id="corr-2", application_id=None):
        logger.info("inside")
    logger.info("outside")

    inside, outside = json_lines(capsys.readouterr().out)
    assert inside["correlation_id"] == "corr-2"
    assert "application_id" not in inside
    assert "correlation_id" not in outside


def test_stdlib_records_come_out_as_json_with_context_and_masking(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("agency")

    with bind_event_context(correlation_id="corr-3", application_id="app-7"):
        logging.getLogger("aiokafka.consumer").warning("lost contact with %s", "siti@example.go.id")

    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "lost contact with s***@example.go.id"
    assert line["level"] == "warning"
    assert line["logger"] == "aiokafka.consumer"
    assert line["service"] == "agency"
    assert line["correlation_id"] == "corr-3"
    assert line["application_id"] == "app-7"


def test_exception_text_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("intake")

    try:
        raise ValueError(f"NIK {NIK} is already registered")
    except ValueError:
        get_logger("satupintu.intake").exception("submission failed")

    [line] = json_lines(capsys.readouterr().out)
    assert "3171********0002" in line["exception"]
    assert NIK not in line["exception"]


def test_sensitive_keys_are_masked_whatever_their_case_and_nesting() -> None:
    event = {
        "event": "citizen updated",
        "Name": "Budi Santoso",
        "applicant": {"phone": "+62 812 3456 7890", "address": "Jl. Merdeka 1", "KK": NIK, "email": "budi@x.go.id"},
        "authorization": "Bearer abc.def.ghi",
        "contacts": ["rina@example.go.id"],
        "service_name": "ktp",
    }

    redacted = redact_personal_data(None, "info", event)

    assert redacted == {
        "event": "citizen updated",
        "Name": "***",
        "applicant": {"phone": "***", "address": "***", "KK": "3171********0002", "email": "b***@x.go.id"},
        "authorization": "***",
        "contacts": ["r***@example.go.id"],
        "service_name": "ktp",
    }


def test_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("intake", level="loud")
