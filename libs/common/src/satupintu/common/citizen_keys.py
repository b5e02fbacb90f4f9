"""A reader's side of citizens' keys (docs/decisions/0016-personal-data-where-needed.md): it keeps the keys wrapped
for it that arrive on its key topic, deletes one when its tombstone arrives, and opens sealed values with them.

A key is kept as it arrived (wrapped for the reader's RSA key), so a copy of the database reveals nothing without the
reader's private key; values written before sealing existed, in clear, pass through unchanged.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from faststream.kafka import KafkaBroker
from sqlalchemy import Column, DateTime, Text, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col

from satupintu.common.broker import DeadLetterProducer
from satupintu.common.consuming import Invalid, Record, RecordConsumer
from satupintu.common.key_ring import KeyChange, KeyDestroyed, KeyRing, load_reader_keys, read_key_record
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.sealing import CitizenKey, unwrap
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import Applicant

_logger = logging.getLogger(__name__)


class ReaderKeyRecord(SQLModel, table=True):
    """A citizen's key as it arrived for this reader, wrapped for its RSA key."""

    __tablename__ = "reader_keys"

    key_id: str = Field(primary_key=True, description="The citizen key's id, named in the values it sealed.")
    reader: str = Field(description="Which of this service's readers it was wrapped for.")
    wrapped: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


UNWRAPPED_KEYS_KEPT = 4096
"""How many unwrapped keys a ring keeps in memory (the most recently used): enough for the citizens whose events
arrive close together, so each key is unwrapped (RSA-OAEP, the costly part) about once."""


class ReaderKeyRing(KeyRing):
    """A service's keys, kept in its database as they arrived (wrapped), unwrapped when used.

    The unwrapped keys of recently used citizens stay in memory (at most ``kept``), but only as a shortcut past the
    unwrapping: every use still reads the key's row, so a key destroyed by any replica (its tombstone reaches one
    replica of the consumer group, which deletes the row) is no longer served by any, and a replaced wrapping is
    unwrapped again. The replica that deletes the row also forgets the key at once (:meth:`forget`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        private_keys: Mapping[str, rsa.RSAPrivateKey],
        *,
        kept: int = UNWRAPPED_KEYS_KEPT,
    ):
        self._sessions = sessions
        self._private_keys = dict(private_keys)
        self._kept = kept
        self._unwrapped: OrderedDict[str, tuple[str, str, CitizenKey]] = OrderedDict()
        """key id -> (reader, wrapped, the key unwrapped), the least recently used first."""

    @property
    def readers(self) -> list[str]:
        """The readers this ring holds keys for."""
        return sorted(self._private_keys)

    @classmethod
    def load(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        readers: Sequence[str],
        *,
        private_keys_dir: Path | None,
        development_keys_dir: Path,
    ) -> ReaderKeyRing:
        """The readers' private keys from ``private_keys_dir`` (``reader-<reader>.pem``, from ``make secrets``), or
        in development the pairs in the local keys directory, made when missing."""
        return cls(sessions, load_reader_keys(readers, private_keys_dir, development_keys_dir))

    async def key(self, key_id: str) -> CitizenKey | None:
        """The citizen key ``key_id``, if it arrived and was not destroyed."""
        statement = select(col(ReaderKeyRecord.reader), col(ReaderKeyRecord.wrapped)).where(
            col(ReaderKeyRecord.key_id) == key_id
        )
        async with self._sessions() as session:
            found = (await session.execute(statement)).first()
        if found is None or found.reader not in self._private_keys:
            self.forget(key_id)
            return None
        cached = self._unwrapped.get(key_id)
        if cached is not None and cached[:2] == (found.reader, found.wrapped):
            self._unwrapped.move_to_end(key_id)
            return cached[2]
        key = unwrap(key_id, found.wrapped, self._private_keys[found.reader])
        self._unwrapped[key_id] = (found.reader, found.wrapped, key)
        self._unwrapped.move_to_end(key_id)
        while len(self._unwrapped) > self._kept:
            self._unwrapped.popitem(last=False)
        return key

    def forget(self, key_id: str) -> None:
        """Drop the unwrapped ``key_id`` from memory (its key was destroyed)."""
        self._unwrapped.pop(key_id, None)

    def remembers(self, key_id: str) -> bool:
        """Whether ``key_id`` is held unwrapped in memory (for tests and diagnostics)."""
        return key_id in self._unwrapped


async def open_applicant(ring: ReaderKeyRing | None, applicant: Applicant, *, subject: str) -> Applicant:
    """``applicant`` with its sealed values opened (by their fields ``applicant/<name>``); as it is without a ring."""
    if ring is None:
        return applicant
    names = ("nik", "name", "email", "phone")
    opened = await ring.open_fields({f"applicant/{name}": getattr(applicant, name) for name in names}, subject=subject)
    return applicant.model_copy(update={name: opened[f"applicant/{name}"] for name in names})


OnDestroyed = Callable[[AsyncSession, str], Awaitable[None]]


class KeyTopicConsumer(RecordConsumer[KeyChange]):
    """Keeps the keys arriving on this service's key topics and deletes them on their tombstones (and, with
    ``on_destroyed``, whatever the service keeps that only that key could open)."""

    def __init__(
        self,
        *,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        readers: Sequence[str],
        broker: KafkaBroker,
        kafka: KafkaSettings,
        metrics: ServiceMetrics | None = None,
        dead_letters: DeadLetterProducer | None = None,
        on_destroyed: OnDestroyed | None = None,
        ring: ReaderKeyRing | None = None,
    ) -> None:
        super().__init__(name=name, broker=broker, kafka=kafka, metrics=metrics, dead_letters=dead_letters)
        self._sessions = sessions
        self._readers = set(readers)
        self._on_destroyed = on_destroyed
        self._ring = ring

    def read(self, record: Record) -> KeyChange | Invalid:
        """A wrapped key for one of this service's readers, or a tombstone."""
        return read_key_record(record, self._readers)

    def type_of(self, record: Record, item: KeyChange | None = None) -> str:
        """``key.destroyed`` or ``key.received``."""
        return "key.destroyed" if isinstance(item, KeyDestroyed) or record.value is None else "key.received"

    async def apply_together(self, work: Sequence[tuple[Record, KeyChange]]) -> list[bool]:
        """Keep and delete in order, in one transaction (then ``ring`` forgets the destroyed keys)."""
        async with self._sessions() as session, session.begin():
            applied = [await self._apply(session, change) for _, change in work]
        self._forget([change for _, change in work])
        return applied

    async def apply_alone(self, record: Record, item: KeyChange) -> bool:
        """Keep or delete one key."""
        async with self._sessions() as session, session.begin():
            applied = await self._apply(session, item)
        self._forget([item])
        return applied

    def _forget(self, changes: Sequence[KeyChange]) -> None:
        if self._ring is not None:
            for change in changes:
                if isinstance(change, KeyDestroyed):
                    self._ring.forget(change.key_id)

    async def _apply(self, session: AsyncSession, change: KeyChange) -> bool:
        if isinstance(change, KeyDestroyed):
            await session.execute(delete(ReaderKeyRecord).where(ReaderKeyRecord.key_id == change.key_id))  # type: ignore[arg-type]
            if self._on_destroyed is not None:
                await self._on_destroyed(session, change.key_id)
            _logger.info("%s: key %s destroyed", self.name, change.key_id)
            return True
        wrapped = change.wrapped
        statement = (
            insert(ReaderKeyRecord)
            .values(
                key_id=wrapped.key_id, reader=wrapped.reader, wrapped=wrapped.wrapped, received_at=datetime.now(UTC)
            )
            .on_conflict_do_nothing()
        )
        return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]


async def held_keys(session: AsyncSession) -> int:
    """How many citizens' keys this service holds."""
    return int(await session.scalar(text("SELECT count(*) FROM reader_keys")) or 0)
