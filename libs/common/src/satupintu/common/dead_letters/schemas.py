"""The dead-letter API's request and response models: which dead letters (a filter), what is shown of each (never
its value, which may hold personal data), and what a replay did."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from satupintu.common.consuming import ReplayOutcome
from satupintu.common.dead_letters.queues import (
    DeadLetter,
    DeadLetterPosition,
    Listing,
    ReplayedLetter,
    ReplayReport,
    Selection,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_VALUES = 100
"""Most values one criterion (consumers, topics, types, ids, positions) may list."""

Name = Annotated[str, Field(min_length=1, max_length=200)]


class Position(BaseModel):
    """Where a dead letter is on its dead-letter topic (the name without the cluster's topic prefix)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,240}\.dlq$", description="The dead-letter topic, e.g. `applications.dlq`."
    )
    partition: int = Field(ge=0, le=100_000, description="Its partition.")
    offset: int = Field(ge=0, description="Its offset in that partition.")

    @classmethod
    def of(cls, position: DeadLetterPosition) -> Position:
        """The model of a position."""
        return cls(topic=position.topic, partition=position.partition, offset=position.offset)

    def position(self) -> DeadLetterPosition:
        """The position this names."""
        return DeadLetterPosition(self.topic, self.partition, self.offset)


class DeadLetterFilter(BaseModel):
    """Which dead letters: every criterion given must hold. An empty value is no criterion; a time without a time
    zone is UTC."""

    model_config = ConfigDict(extra="forbid")

    consumer: list[Name] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="Only dead letters of these consumers (`dlq_consumer`, e.g. `routing`); one of this service's.",
    )
    topic: list[Name] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="Only dead letters from these topics (without the cluster's prefix, e.g. `applications`).",
    )
    event_type: list[Name] = Field(
        default_factory=list, max_length=MAX_VALUES, description="Only these event types (`ce_type`)."
    )
    ce_id: list[Name] = Field(default_factory=list, max_length=MAX_VALUES, description="Only these events (`ce_id`).")
    reason: str | None = Field(
        default=None, max_length=200, description="Only dead letters whose reason contains this text (any case)."
    )
    since: datetime | None = Field(default=None, description="Only those dead-lettered at or after this time.")
    until: datetime | None = Field(default=None, description="Only those dead-lettered before this time.")

    @field_validator("consumer", "topic", "event_type", "ce_id", mode="before")
    @classmethod
    def _without_blanks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [item.strip() if isinstance(item, str) else item for item in value if item != ""]
        return value

    @field_validator("reason", "since", "until", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("since", "until")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value <= since:
            raise ValueError("must be later than `since`")
        return value

    def selection(self) -> Selection:
        """The selection this filter makes."""
        return Selection(
            consumers=frozenset(self.consumer),
            topics=frozenset(self.topic),
            event_types=frozenset(self.event_type),
            event_ids=frozenset(self.ce_id),
            reason_contains=self.reason,
            since=self.since,
            until=self.until,
        )


class DeadLetterQuery(DeadLetterFilter):
    """``GET /dlq``'s query: a filter and how many to show."""

    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Show at most this many, the newest first."
    )


class ReplayCreate(DeadLetterFilter):
    """What to replay: a filter, explicit positions, or both (every criterion must hold); replaying every dead
    letter needs ``all: true`` and no criterion, so nobody replays everything by accident."""

    positions: list[Position] = Field(
        default_factory=list, max_length=MAX_LIMIT, description="Only the dead letters at these positions."
    )
    dry_run: bool = Field(default=False, description="Only say what would be replayed; process nothing.")
    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Replay at most this many, the oldest first."
    )
    all: bool = Field(
        default=False,
        validate_default=True,
        description="Replay every dead letter of this service (only without any other criterion).",
    )

    @field_validator("all")
    @classmethod
    def _one_way_to_choose(cls, value: bool, info: ValidationInfo) -> bool:
        names = ("consumer", "topic", "event_type", "ce_id", "reason", "since", "until", "positions")
        if any(name not in info.data for name in names):
            return value  # a criterion is invalid: its own error says so
        criteria = [name for name in names if info.data[name]]
        if value and criteria:
            raise ValueError(f"`all` replays every dead letter; leave it out to replay those `{criteria[0]}` selects")
        if not value and not criteria:
            raise ValueError("say which dead letters to replay (a filter or positions), or `all: true` for every one")
        return value

    def selection(self) -> Selection:
        """The selection this request makes."""
        positions = frozenset(position.position() for position in self.positions)
        return dataclasses.replace(super().selection(), positions=positions)


class DeadLetterRead(BaseModel):
    """One dead letter: where it is, where it came from, what it was and why it was dead-lettered. Never its value
    (it may hold personal data)."""

    position: Position = Field(description="Where it is on its dead-letter topic: what a replay names.")
    topic: str = Field(description="The topic it came from (without the cluster's prefix).")
    partition: int | None = Field(description="Its partition on that topic (`dlq_partition`).")
    offset: int | None = Field(description="Its offset on that topic (`dlq_offset`).")
    timestamp: datetime = Field(description="When it was dead-lettered.")
    key: str | None = Field(description="Its key (an application or subject id).")
    ce_id: str | None = Field(description="The event's id, when its headers say.")
    ce_type: str | None = Field(description="The event's type, when its headers say.")
    subject: str | None = Field(description="The event's subject (`ce_subject`), when its headers say.")
    consumer: str = Field(description="The consumer that dead-lettered it (`dlq_consumer`).")
    reason: str = Field(description="Why (`dlq_reason`).")
    trimmed: bool = Field(description="Whether only a trimmed copy was kept (its value was too large): not replayable.")
    value_bytes: int = Field(description="The size of its value in bytes (for a trimmed copy, of the value lost).")

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterRead:
        """What is shown of ``letter``."""
        return cls(**_shown(letter))


def _shown(letter: DeadLetter) -> dict[str, Any]:
    return {
        "position": Position.of(letter.position),
        "topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "timestamp": letter.dead_lettered_at,
        "key": letter.key,
        "ce_id": letter.header("ce_id"),
        "ce_type": letter.header("ce_type"),
        "subject": letter.header("ce_subject"),
        "consumer": letter.consumer,
        "reason": letter.reason,
        "trimmed": letter.trimmed,
        "value_bytes": letter.value_bytes,
    }


class DeadLetterList(BaseModel):
    """The dead letters of this service that the filter selects, the newest first."""

    service: str = Field(description="This service.")
    consumers: list[str] = Field(description="This service's consumers, whose dead letters these are.")
    dead_letters: list[DeadLetterRead] = Field(description="Up to `limit` of them, the newest first.")
    matched: int = Field(description="How many dead letters the filter selected (shown or not).")
    examined: int = Field(description="How many records of the dead-letter topics were read.")
    limit: int = Field(description="The most shown.")

    @classmethod
    def of(cls, service: str, consumers: list[str], listing: Listing, limit: int) -> DeadLetterList:
        """The answer for ``listing``."""
        return cls(
            service=service,
            consumers=consumers,
            dead_letters=[DeadLetterRead.of(letter) for letter in listing.letters],
            matched=listing.matched,
            examined=listing.examined,
            limit=limit,
        )


class ReplayedRead(DeadLetterRead):
    """One dead letter a replay selected, and what came of it."""

    outcome: ReplayOutcome = Field(
        description="`applied`; `duplicate` (applied before: nothing changed); `dead_lettered` (failed again, "
        "dead-lettered again with `detail` as its new reason); `skipped` (`detail` says why: trimmed, replayed once "
        "already in this replay, not an event its consumer handles); `failed` (a transient failure outlasted the "
        "retries: nothing changed, replay it later); `would_replay` (a dry run)."
    )
    detail: str | None = Field(description="The new reason, or why it was skipped or failed.")

    @classmethod
    def of_result(cls, result: ReplayedLetter) -> ReplayedRead:
        """What is shown of one replayed dead letter."""
        return cls(**_shown(result.letter), outcome=result.replayed.outcome, detail=result.replayed.reason)


class ReplayTotals(BaseModel):
    """How many dead letters came to each outcome."""

    applied: int = Field(description="Applied now.")
    duplicate: int = Field(description="Applied before; nothing changed.")
    dead_lettered: int = Field(description="Failed again and dead-lettered again.")
    skipped: int = Field(description="Not replayed (see each one's `detail`).")
    failed: int = Field(description="Not finished (a transient failure); nothing changed.")
    would_replay: int = Field(description="Selected by a dry run.")


class ReplayRead(BaseModel):
    """What a replay did (or, dry, would do), oldest dead letter first."""

    dry_run: bool = Field(description="Whether it only said what it would do.")
    results: list[ReplayedRead] = Field(description="Each selected dead letter and its outcome, in replay order.")
    totals: ReplayTotals = Field(description="How many came to each outcome.")
    matched: int = Field(description="How many dead letters the request selected.")
    more: bool = Field(description="Whether more were selected than `limit`: replay again (narrowed) for the rest.")
    examined: int = Field(description="How many records of the dead-letter topics were read.")

    @classmethod
    def of(cls, report: ReplayReport, limit: int) -> ReplayRead:
        """The answer for ``report``."""
        totals = report.totals()
        return cls(
            dry_run=report.dry_run,
            results=[ReplayedRead.of_result(result) for result in report.results],
            totals=ReplayTotals(**{outcome.value: count for outcome, count in totals.items()}),
            matched=report.matched,
            more=report.matched > limit,
            examined=report.examined,
        )
