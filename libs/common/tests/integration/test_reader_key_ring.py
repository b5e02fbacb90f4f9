"""A service's ring of citizens' keys on the real database: each key is unwrapped once however many values and
events it opens, and a destroyed key is never served from memory, whichever replica deleted it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common import citizen_keys
from satupintu.common.broker import create_broker
from satupintu.common.citizen_keys import KeyTopicConsumer, ReaderKeyRecord, ReaderKeyRing, open_applicant
from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.key_ring import KeyDestroyed, KeyNotHeld, KeyReceived
from satupintu.common.sealing import CitizenKey, WrappedKey, seal, unwrap, wrap
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import Applicant
from satupintu.devtools.testing.kafka import consumer_record
from satupintu.devtools.testing.plugin import service_database

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
READER = "keyringtest"
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APPLICANT = Applicant(
    nik="3171015506900002", name="Siti Rahayu", email="siti@example.id", phone="+6281234567890", language="id"
)


@pytest.fixture
def unwrapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the keys the rings unwrap, in order."""
    seen: list[str] = []

    def counted(key_id: str, wrapped: str, reader: rsa.RSAPrivateKey) -> CitizenKey:
        seen.append(key_id)
        return unwrap(key_id, wrapped, reader)

    monkeypatch.setattr(citizen_keys, "unwrap", counted)
    return seen


@pytest.fixture
async def sessions(database_settings: DatabaseSettings) -> AsyncIterator[Sessions]:
    await service_database(database_settings, "keyringtest")
    engine = create_engine(database_settings.owner(), "keyringtest")
    await create_tables(engine, [ReaderKeyRecord])
    yield session_factory(engine)
    await engine.dispose()


def key_consumer(kafka: KafkaSettings, sessions: Sessions, ring: ReaderKeyRing) -> KeyTopicConsumer:
    """The key topic's consumer of the replica whose ring is ``ring`` (handed records directly, never started)."""
    return KeyTopicConsumer(
        name="keyringtest-keys",
        sessions=sessions,
        readers=[READER],
        broker=create_broker(kafka, "keyringtest"),
        kafka=kafka,
        ring=ring,
    )


def arrived(key: CitizenKey) -> KeyReceived:
    return KeyReceived(WrappedKey(key.key_id, READER, wrap(key, PRIVATE_KEY.public_key())))


def sealed_applicant(key: CitizenKey, application_id: str) -> Applicant:
    names = ("nik", "name", "email", "phone")
    field = "applicant/{}".format
    return APPLICANT.model_copy(
        update={name: seal(getattr(APPLICANT, name), key, subject=application_id, field=field(name)) for name in names}
    )


async def test_a_citizens_key_is_unwrapped_once_for_all_the_values_of_several_events(
    kafka_settings: KafkaSettings, sessions: Sessions, unwrapped: list[str]
) -> None:
    ring = ReaderKeyRing(sessions, {READER: PRIVATE_KEY})
    key = CitizenKey.new()
    record = consumer_record("keys", b"", [], key=key.key_id.encode())
    await key_consumer(kafka_settings, sessions, ring).apply_alone(record, arrived(key))

    opened = [
        await open_applicant(ring, sealed_applicant(key, application_id), subject=application_id)
        for application_id in ("app-1", "app-2", "app-3")
    ]

    assert opened == [APPLICANT] * 3
    assert unwrapped == [key.key_id]


async def test_a_destroyed_key_is_not_served_from_memory_whichever_replica_deleted_it(
    kafka_settings: KafkaSettings, sessions: Sessions, unwrapped: list[str]
) -> None:
    here = ReaderKeyRing(sessions, {READER: PRIVATE_KEY})
    elsewhere = ReaderKeyRing(sessions, {READER: PRIVATE_KEY})  # another replica: the tombstone reaches only one
    consumer = key_consumer(kafka_settings, sessions, here)
    key = CitizenKey.new()
    record = consumer_record("keys", b"", [], key=key.key_id.encode())
    await consumer.apply_together([(record, arrived(key))])
    value = seal("Siti", key, subject="app-1", field="applicant/name")
    before = [await ring.open(value, subject="app-1", field="applicant/name") for ring in (here, elsewhere)]
    remembered_before = [here.remembers(key.key_id), elsewhere.remembers(key.key_id)]

    await consumer.apply_together([(record, KeyDestroyed(key.key_id))])
    remembered_after_tombstone = [here.remembers(key.key_id), elsewhere.remembers(key.key_id)]
    for ring in (here, elsewhere):
        with pytest.raises(KeyNotHeld):
            await ring.open(value, subject="app-1", field="applicant/name")

    assert before == ["Siti", "Siti"]
    assert remembered_before == [True, True]
    assert remembered_after_tombstone == [False, True]  # the other replica still holds it in memory...
    assert not elsewhere.remembers(key.key_id)  # ...but never served it, and forgot it on the first look
    assert unwrapped == [key.key_id, key.key_id]  # once per replica
