"""Pytest plugin (entry point ``satupintu``): fixtures that give every test the real Kafka broker and the real
PostgreSQL server, chosen by the selection order, with a topic prefix and database names of its own test module:
an app a module leaves running (or a consumer it forgets) can never consume another module's events.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from satupintu.common.database import drop_database, ensure_database
from satupintu.common.localstack.selection import Endpoint, select_kafka, select_postgres
from satupintu.common.settings import DatabaseSettings, KafkaSettings, ServiceSettings
from satupintu.common.topics_admin import delete_topics

S = TypeVar("S", bound=ServiceSettings)


@pytest.fixture(scope="session")
def test_session_id() -> str:
    """Short unique id of this test session; names its topics and databases so runs never collide."""
    return uuid.uuid4().hex[:8]


_modules = itertools.count(1)


@pytest.fixture(scope="module")
def test_module_id(test_session_id: str) -> str:
    """Short unique id of this test module within the session; names its topics and databases."""
    return f"{test_session_id}m{next(_modules)}"


@pytest.fixture(scope="session")
def kafka_endpoint() -> Iterator[Endpoint]:
    """The real Kafka broker for this session (started if needed, stopped afterwards if this session started it)."""
    endpoint = select_kafka()
    yield endpoint
    endpoint.release()


@pytest.fixture(scope="session")
def postgres_endpoint() -> Iterator[Endpoint]:
    """The real PostgreSQL server for this session (started if needed, stopped afterwards if started here)."""
    endpoint = select_postgres()
    yield endpoint
    endpoint.release()


@pytest.fixture(scope="module")
async def kafka_settings(kafka_endpoint: Endpoint, test_module_id: str) -> AsyncIterator[KafkaSettings]:
    """Kafka settings for services under test: the real broker, and a topic prefix of this test module (whose
    topics are deleted at its end, so a broker shared by many sessions does not pile up partitions)."""
    settings = KafkaSettings(bootstrap_servers=kafka_endpoint.address, topic_prefix=f"t{test_module_id}.", partitions=3)
    yield settings
    await delete_topics(settings.bootstrap_servers, settings.topic_prefix)


@pytest.fixture(scope="module")
async def database_settings(postgres_endpoint: Endpoint, test_module_id: str) -> AsyncIterator[DatabaseSettings]:
    """Database settings for services under test, with database names of this test module; databases created
    through :func:`service_database` under its prefix are dropped at the module's end.
    """
    settings = DatabaseSettings(url=postgres_endpoint.address, name_prefix=f"t{test_module_id}_", pool_size=5)
    yield settings
    for name in [name for name in _created_databases if name.startswith(settings.name_prefix)]:
        await drop_database(settings.server_url(), name)
        _created_databases.remove(name)


_created_databases: list[str] = []


async def service_database(settings: DatabaseSettings, service: str) -> str:
    """Create (once) the database of ``service`` for this test session and return its name."""
    name = settings.database_name(service)
    if await ensure_database(settings.server_url(), name):
        _created_databases.append(name)
    return name


@pytest.fixture
def make_settings(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> Callable[..., Awaitable[Any]]:
    """Build a service's settings on this session's broker and database server (creating its database)."""

    async def build(settings_class: type[S], service: str, **overrides: Any) -> S:
        await service_database(database_settings, service)
        return settings_class(kafka=kafka_settings, database=database_settings, **overrides)

    return build
