"""Pytest plugin (entry point ``satupintu``): session fixtures that give every test the real Kafka broker and the
real PostgreSQL server, chosen by the selection order, with a topic prefix and database names of its own session.
Services under test connect as the session's role, which may only read and write rows; their databases are migrated
to head by the server's user, as ``satupintu-<service> migrate`` does in a deployment.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from satupintu.common.database import drop_database, ensure_database
from satupintu.common.localstack.selection import Endpoint, select_kafka, select_postgres
from satupintu.common.migrations import migrate, quote_identifier, quote_literal, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings, ServiceSettings
from satupintu.common.topics_admin import delete_topics

S = TypeVar("S", bound=ServiceSettings)


@pytest.fixture(scope="session")
def test_session_id() -> str:
    """Short unique id of this test session; names its topics and databases so runs never collide."""
    return uuid.uuid4().hex[:8]


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


@pytest.fixture(scope="session")
async def kafka_settings(kafka_endpoint: Endpoint, test_session_id: str) -> AsyncIterator[KafkaSettings]:
    """Kafka settings for services under test: the real broker, and a topic prefix of this session (whose topics
    are deleted at the end, so a broker shared by many sessions does not pile up partitions)."""
    settings = KafkaSettings(
        bootstrap_servers=kafka_endpoint.address, topic_prefix=f"t{test_session_id}.", partitions=3
    )
    yield settings
    await delete_topics(settings.bootstrap_servers, settings.topic_prefix)


@pytest.fixture(scope="session")
async def database_settings(postgres_endpoint: Endpoint, test_session_id: str) -> AsyncIterator[DatabaseSettings]:
    """Database settings for services under test: ``url`` names this session's role, which may only read and write
    rows (created here; ``migrate`` grants it rows of each service database), ``owner_url`` the server's user. The
    databases created through :func:`service_database`, and the role, are dropped at the end of the session.
    """
    owner_url = postgres_endpoint.address
    role = f"t{test_session_id}_service"
    password = secrets.token_urlsafe(16)
    url = make_url(owner_url).set(username=role, password=password).render_as_string(hide_password=False)
    settings = DatabaseSettings(url=url, owner_url=owner_url, name_prefix=f"t{test_session_id}_", pool_size=5)
    server = settings.owner().server_url()
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(
            f"CREATE ROLE {quote_identifier(role)} LOGIN PASSWORD {quote_literal(password)} "
            "NOSUPERUSER NOCREATEDB NOCREATEROLE"
        )
    finally:
        await connection.close()
    yield settings
    for name in _created_databases:
        await drop_database(server, name)
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f"DROP ROLE IF EXISTS {quote_identifier(role)}")
    finally:
        await connection.close()


_created_databases: list[str] = []
_migrated_databases: set[str] = set()


async def empty_database(settings: DatabaseSettings, service: str) -> str:
    """Create (once) ``service``'s database for this test session without migrating it, and return its name (for
    tests of the migrations themselves); it is dropped at the end of the session."""
    name = settings.database_name(service)
    if await ensure_database(settings.owner().server_url(), name):
        _created_databases.append(name)
    return name


async def service_database(settings: DatabaseSettings, service: str) -> str:
    """Create (once) the database of ``service`` for this test session and return its name; when ``service`` is an
    installed service, also migrate it to head and grant the session's role rows, as ``satupintu-<service>
    migrate`` does (once per database)."""
    name = await empty_database(settings, service)
    schema = registered_schema(service)
    if schema is not None and name not in _migrated_databases:
        await migrate(schema, settings)
        _migrated_databases.add(name)
    return name


@pytest.fixture
def make_settings(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> Callable[..., Awaitable[Any]]:
    """Build a service's settings on this session's broker and database server (creating its database)."""

    async def build(settings_class: type[S], service: str, **overrides: Any) -> S:
        await service_database(database_settings, service)
        return settings_class(kafka=kafka_settings, database=database_settings, **overrides)

    return build
