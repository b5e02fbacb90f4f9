"""Audit's use cases: append every event seen, with personal data replaced by keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.audit.storage.repository import AuditRepository
from satupintu.common.events.envelope import EVENT_TYPES, EnvelopeError, from_record
from satupintu.common.events.topics import DLQ_SUFFIX

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def keyed_hash(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of a value's canonical JSON: matchable by whoever holds the key, not readable."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "hmac-sha256:" + hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


class AuditService:
    """Appends what it sees on every topic; a record it cannot parse is logged as what it is."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], hash_key: bytes, clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._hash_key = hash_key
        self._clock = clock

    async def record(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Append one Kafka record to the log; False when its ``ce_id`` was already there."""
        values = self._entry(record)
        async with self._sessions() as session, session.begin():
            return await AuditRepository(session).append(values)

    def _entry(self, record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
        headers = {name: value.decode("utf-8", errors="replace") for name, value in record.headers or ()}
        now = self._clock()
        if record.topic.endswith(DLQ_SUFFIX):
            return {
                "ce_id": f"dlq:{record.topic}:{record.partition}:{record.offset}",
                "topic": record.topic,
                "type": "dead_letter",
                "source": headers.get("dlq_consumer", "unknown"),
                "actor": f"service:{headers.get('dlq_consumer', 'unknown')}",
                "agency": None,
                "application_id": headers.get("ce_subject"),
                "time": now,
                "payload": {
                    "reason": headers.get("dlq_reason"),
                    "original": {k: headers.get(k) for k in ("dlq_topic", "dlq_partition", "dlq_offset", "ce_type")},
                    "value_sha256": hashlib.sha256(record.value or b"").hexdigest(),
                },
                "recorded_at": now,
            }
        try:
            event = from_record(record.headers, record.value, record.key)
        except EnvelopeError as invalid:
            return {
                "ce_id": f"invalid:{record.topic}:{record.partition}:{record.offset}",
                "topic": record.topic,
                "type": "invalid",
                "source": headers.get("ce_source", "unknown"),
                "actor": headers.get("ce_actor", "unknown"),
                "agency": None,
                "application_id": headers.get("ce_subject"),
                "time": now,
                "payload": {"reason": invalid.reason, "value_sha256": hashlib.sha256(record.value or b"").hexdigest()},
                "recorded_at": now,
            }
        payload = event.payload.model_dump(mode="json")
        for name in EVENT_TYPES[event.type].personal_fields():
            if payload.get(name) is not None:
                payload[name] = keyed_hash(self._hash_key, payload[name])
        return {
            "ce_id": event.id,
            "topic": record.topic,
            "type": event.type,
            "source": event.source,
            "actor": event.actor,
            "agency": getattr(event.payload, "agency", None),
            "application_id": getattr(event.payload, "application_id", None),
            "time": event.time,
            "payload": payload,
            "recorded_at": now,
        }
