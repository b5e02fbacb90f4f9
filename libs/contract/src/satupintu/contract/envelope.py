"""The one envelope: CloudEvents 1.0 in Kafka's binary content mode, produced and parsed with ``cloudevents``.

Headers ``ce_id``, ``ce_source``, ``ce_type``, ``ce_specversion``, ``ce_time``, ``ce_subject`` (the application id),
``ce_dataschema`` and ``content-type``, plus the extensions ``ce_correlationid``, ``ce_causationid``, ``ce_actor``
and ``ce_traceparent``. The value is the payload as JSON; the key is the application id (or subject id).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from cloudevents.core.bindings import kafka as kafka_binding
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from satupintu.contract.base import EventPayload
from satupintu.contract.contract import PRODUCED_BY
from satupintu.contract.tracecontext import current_traceparent

P = TypeVar("P", bound=EventPayload)

CONTENT_TYPE = "application/json"
_FORMAT = JSONFormat()
_EXTENSIONS = ("correlationid", "causationid", "actor", "traceparent")

EVENT_TYPES: Mapping[str, type[EventPayload]] = {
    payload.event_type: payload for produced in PRODUCED_BY.values() for payload in produced
}
"""Every event type of the contract, by its CloudEvents ``type``."""


class EnvelopeError(ValueError):
    """A Kafka record is not a valid event of the contract; ``reason`` says why, for the dead-letter headers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Event(Generic[P]):
    """One event: CloudEvents attributes and a typed payload."""

    payload: P
    source: str
    subject: str
    actor: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = field(default_factory=current_traceparent)

    @property
    def type(self) -> str:
        """The CloudEvents ``type``, e.g. ``application.submitted``."""
        return self.payload.event_type

    @property
    def key(self) -> str:
        """The Kafka key: the subject (application id, or subject id on ``access``)."""
        return self.subject

    def caused(self, payload: EventPayload, *, source: str, actor: str, subject: str | None = None) -> Event[Any]:
        """A new event caused by this one: same correlation, causation = this event's id, same trace (the active
        span when there is one, else this event's)."""
        return Event(
            payload=payload,
            source=source,
            subject=subject or self.subject,
            actor=actor,
            correlation_id=self.correlation_id or self.id,
            causation_id=self.id,
            traceparent=current_traceparent() or self.traceparent,
        )


@dataclass(frozen=True)
class KafkaRecord:
    """What goes on the wire: key, value and headers."""

    key: bytes
    value: bytes
    headers: dict[str, bytes]

    def header_list(self) -> list[tuple[str, bytes]]:
        """Headers as Kafka clients take them."""
        return list(self.headers.items())


def to_record(event: Event[Any]) -> KafkaRecord:
    """Serialise an event into Kafka binary content mode."""
    attributes: dict[str, Any] = {
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "specversion": "1.0",
        "time": event.time,
        "subject": event.subject,
        "dataschema": event.payload.dataschema(),
        "datacontenttype": CONTENT_TYPE,
        "actor": event.actor,
    }
    for name, value in (
        ("correlationid", event.correlation_id or event.id),
        ("causationid", event.causation_id),
        ("traceparent", event.traceparent),
    ):
        if value:
            attributes[name] = value
    cloud_event = CloudEvent(attributes, event.payload.model_dump_json().encode())
    message = kafka_binding.to_binary(cloud_event, _FORMAT, key_mapper=lambda _: event.key)
    return KafkaRecord(key=event.key.encode(), value=message.value, headers=dict(message.headers))


def from_record(
    headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]], value: bytes | None, key: bytes | None = None
) -> Event[EventPayload]:
    """Parse a Kafka record into an event of the contract, or raise :class:`EnvelopeError` saying why not."""
    header_map = dict(headers.items() if isinstance(headers, Mapping) else headers)
    event_type = _header(header_map, "ce_type")
    if event_type is None:
        raise EnvelopeError("missing header ce_type")
    payload_type = EVENT_TYPES.get(event_type)
    if payload_type is None:
        raise EnvelopeError(f"unknown event type {event_type!r}")
    for required in ("ce_id", "ce_source", "ce_specversion"):
        if _header(header_map, required) is None:
            raise EnvelopeError(f"missing header {required}")
    try:
        json.loads(value or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as not_json:  # RecursionError: nested too deep
        raise EnvelopeError(f"payload is not valid JSON: {_first_line(not_json)}") from not_json
    try:
        message = kafka_binding.KafkaMessage(headers=header_map, key=key, value=value or b"")
        cloud_event = kafka_binding.from_binary(message, _FORMAT, CloudEvent)
    except (BaseCloudEventException, ValueError, TypeError, UnicodeDecodeError) as invalid:
        raise EnvelopeError(f"invalid CloudEvent: {_first_line(invalid)}") from invalid
    data = cloud_event.get_data()
    if not isinstance(data, dict):
        raise EnvelopeError("payload is not a JSON object")
    try:
        payload = payload_type.model_validate(data)
    except ValidationError as invalid:
        raise EnvelopeError(f"payload does not match {payload_type.dataschema()}: {_errors(invalid)}") from invalid
    subject = cloud_event.get_subject()
    if not subject:
        raise EnvelopeError("missing header ce_subject")
    extensions = {name: cloud_event.get_extension(name) for name in _EXTENSIONS}
    actor = extensions["actor"]
    if not actor:
        raise EnvelopeError("missing header ce_actor")
    return Event(
        payload=payload,
        source=cloud_event.get_source(),
        subject=subject,
        actor=str(actor),
        id=cloud_event.get_id(),
        time=cloud_event.get_time() or datetime.now(UTC),
        correlation_id=_optional(extensions["correlationid"]),
        causation_id=_optional(extensions["causationid"]),
        traceparent=_optional(extensions["traceparent"]),
    )


def _header(headers: Mapping[str, bytes], name: str) -> str | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return None


def _optional(value: object) -> str | None:
    return str(value) if value else None


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


def _errors(error: ValidationError) -> str:
    parts: Iterable[str] = (
        f"{'.'.join(str(p) for p in item['loc']) or '(root)'}: {item['msg']}" for item in error.errors()[:5]
    )
    return "; ".join(parts)


def event_source(service: str, *parts: str) -> str:
    """The CloudEvents ``source`` of what ``service`` publishes, e.g. ``/satupintu/intake`` or, with a part,
    ``/satupintu/agency/desk``."""
    return "/".join(("/satupintu", service, *parts))
