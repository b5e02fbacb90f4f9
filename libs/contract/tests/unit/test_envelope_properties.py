"""The envelope parser under generated input (hypothesis): whatever bytes arrive as headers and value, parsing
gives an event or an :class:`EnvelopeError` with a reason, never another exception; and what we write, we read
back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satupintu.contract.applications import ApplicationTaskUpdated
from satupintu.contract.base import TaskState
from satupintu.contract.envelope import EVENT_TYPES, EnvelopeError, Event, from_record, to_record

pytestmark = pytest.mark.unit

HEADER_NAMES = ["ce_id", "ce_source", "ce_specversion", "ce_type", "ce_time", "ce_subject", "ce_actor",
                "ce_dataschema", "content-type", "ce_correlationid", "ce_causationid", "ce_traceparent"]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
WIB = timezone(timedelta(hours=7))
AWARE_TIMES = st.datetimes(datetime(1970, 1, 2), datetime(9998, 12, 31), timezones=st.sampled_from([UTC, WIB]))
TEXT = st.text(min_size=1, max_size=40)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_says_why(headers: list[tuple[str, bytes]], value: bytes | None) -> Event[Any] | EnvelopeError:
    """The only two outcomes the consumers allow: an event, or an EnvelopeError with a non-empty reason."""
    try:
        return from_record(headers, value, b"key")
    except EnvelopeError as refused:
        outcome = refused
    assert outcome.reason.strip()
    return outcome


def task_updated(application_id: str, task_id: str, agency: str, state: TaskState, at: datetime) -> Event[Any]:
    return Event(
        payload=ApplicationTaskUpdated(
            application_id=application_id, task_id=task_id, agency=agency, state=state, at=at
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )


VALID_EVENTS = st.builds(task_updated, TEXT, TEXT, TEXT, st.sampled_from(list(TaskState)), AWARE_TIMES)


@PROPERTY
@given(
    headers=st.lists(
        st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=20), st.binary(max_size=60)), max_size=14
    ),
    value=st.none() | st.binary(max_size=200),
)
def test_arbitrary_headers_and_bytes_are_refused_with_a_reason_never_a_crash(
    headers: list[tuple[str, bytes]], value: bytes | None
) -> None:
    parses_or_says_why(headers, value)


@PROPERTY
@given(event=VALID_EVENTS)
def test_every_event_written_reads_back_unchanged(event: Event[Any]) -> None:
    record = to_record(event)

    parsed = from_record(record.header_list(), record.value, record.key)

    assert parsed.payload == event.payload
    assert (parsed.id, parsed.type, parsed.subject, parsed.source, parsed.actor) == (
        event.id,
        event.type,
        event.subject,
        event.source,
        event.actor,
    )
    assert parsed.time == event.time


@PROPERTY
@given(
    event=VALID_EVENTS,
    header=st.sampled_from(HEADER_NAMES),
    replacement=st.none() | st.binary(max_size=40),
)
def test_a_valid_record_with_one_header_removed_or_replaced_by_any_bytes_parses_or_says_why(
    event: Event[Any], header: str, replacement: bytes | None
) -> None:
    record = to_record(event)
    headers = [(name, value) for name, value in record.header_list() if name != header]
    if replacement is not None:
        headers.append((header, replacement))

    parses_or_says_why(headers, record.value)


@PROPERTY
@given(event=VALID_EVENTS, cut=st.integers(min_value=0), flip=st.integers(min_value=0), byte=st.integers(0, 255))
def test_a_valid_record_with_its_value_cut_or_a_byte_changed_parses_or_says_why(
    event: Event[Any], cut: int, flip: int, byte: int
) -> None:
    record = to_record(event)
    value = bytearray(record.value)
    value[flip % len(value)] = byte

    parses_or_says_why(record.header_list(), bytes(value))
    parses_or_says_why(record.header_list(), record.value[: cut % len(record.value)])


@PROPERTY
@given(
    event_type=st.sampled_from(sorted(EVENT_TYPES)),
    data=JSON_VALUES,
    field_values=st.dictionaries(st.text(max_size=20), JSON_VALUES, max_size=6),
)
def test_any_json_under_any_known_type_parses_or_says_why(event_type: str, data: Any, field_values: Any) -> None:
    record = to_record(
        task_updated("app-1", "task-1", "polres", TaskState.ASSIGNED, datetime(2026, 11, 25, tzinfo=UTC))
    )
    headers = [(name, value) for name, value in record.header_list() if name != "ce_type"]
    headers.append(("ce_type", event_type.encode()))

    parses_or_says_why(headers, json.dumps(data).encode())
    parses_or_says_why(headers, json.dumps(field_values).encode())
