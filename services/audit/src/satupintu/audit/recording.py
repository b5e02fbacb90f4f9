"""What a Kafka record becomes in the log: the :class:`~satupintu.audit.domain.EntryDraft` of an event (personal data
replaced by keyed hashes), of a dead letter, of a record that is not a valid event (``invalid``), or of one the log
cannot hold as it is (``unrecordable``). The consumer reads records with it; the use cases see only drafts."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from satupintu.audit.domain import SOURCE, EntryDraft, canonical_json, redact
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consuming import Record
from satupintu.contract.envelope import EVENT_TYPES, EnvelopeError, from_record
from satupintu.contract.topics import DLQ_SUFFIX

UNRECORDABLE = "unrecordable"
_logger = logging.getLogger(__name__)


def _record_time(record: Record, fallback: datetime) -> datetime:
    timestamp = record.timestamp
    return datetime.fromtimestamp(timestamp / 1000, UTC) if timestamp and timestamp > 0 else fallback


class EntryReader:
    """Turns records into drafts, hashing personal data with the log's key and stamping them with the clock."""

    def __init__(self, hash_key: bytes, clock: Clock = utc_now) -> None:
        self._hash_key = hash_key
        self._clock = clock

    def draft(self, record: Record) -> EntryDraft:
        """The draft a record becomes. A record whose content JSON cannot carry exactly (an unpaired surrogate)
        becomes an ``unrecordable`` draft."""
        try:
            draft = self._draft(record, self._clock())
            canonical_json(draft.document(0))
        except ValueError as inexact:
            _logger.warning(
                "audit: %s:%d@%d cannot be hashed exactly (%s)", record.topic, record.partition, record.offset, inexact
            )
            return self.unrecordable(record, f"{type(inexact).__name__}: {inexact}"[:500])
        return draft

    def unrecordable(self, record: Record, reason: str) -> EntryDraft:
        """The draft of a record the log cannot hold as it is: where it was, why, and its value's SHA-256."""
        now = self._clock()
        return EntryDraft(
            ce_id=f"{UNRECORDABLE}:{record.topic}:{record.partition}:{record.offset}",
            topic=record.topic,
            type=UNRECORDABLE,
            source=SOURCE,
            actor="service:audit",
            time=_record_time(record, now),
            recorded_at=now,
            payload={"reason": reason, "value_sha256": hashlib.sha256(record.value or b"").hexdigest()},
        )

    def _draft(self, record: Record, now: datetime) -> EntryDraft:
        headers = {name: value.decode("utf-8", errors="replace") for name, value in record.headers or ()}
        if record.topic.endswith(DLQ_SUFFIX):
            return self._dead_letter(record, headers, now)
        try:
            event = from_record(record.headers, record.value, record.key)
        except EnvelopeError as invalid:
            return EntryDraft(
                ce_id=f"invalid:{record.topic}:{record.partition}:{record.offset}",
                topic=record.topic,
                type="invalid",
                source=headers.get("ce_source", "unknown"),
                actor=headers.get("ce_actor", "unknown"),
                application_id=headers.get("ce_subject"),
                subject=headers.get("ce_subject"),
                time=_record_time(record, now),
                recorded_at=now,
                payload={"reason": invalid.reason, "value_sha256": hashlib.sha256(record.value or b"").hexdigest()},
            )
        payload, personal_hashes = redact(
            event.payload.model_dump(mode="json"), EVENT_TYPES[event.type].personal_fields(), self._hash_key
        )
        return EntryDraft(
            ce_id=event.id,
            topic=record.topic,
            type=event.type,
            source=event.source,
            actor=event.actor,
            agency=getattr(event.payload, "agency", None),
            application_id=getattr(event.payload, "application_id", None),
            subject=event.subject,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            time=event.time.astimezone(UTC),
            recorded_at=now,
            payload=payload,
            personal_hashes=tuple(personal_hashes),
        )

    @staticmethod
    def _dead_letter(record: Record, headers: dict[str, str], now: datetime) -> EntryDraft:
        consumer = headers.get("dlq_consumer", "unknown")
        original: dict[str, Any] = {
            name: headers.get(name) for name in ("dlq_topic", "dlq_partition", "dlq_offset", "ce_id", "ce_type")
        }
        return EntryDraft(
            ce_id=f"dlq:{record.topic}:{record.partition}:{record.offset}",
            topic=record.topic,
            type="dead_letter",
            source=consumer,
            actor=f"service:{consumer}",
            application_id=headers.get("ce_subject"),
            subject=headers.get("ce_subject"),
            time=_record_time(record, now),
            recorded_at=now,
            payload={
                "reason": headers.get("dlq_reason"),
                "original": original,
                "value_sha256": hashlib.sha256(record.value or b"").hexdigest(),
            },
        )
