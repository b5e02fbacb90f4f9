"""Pytest plugin (entry point ``satupintu``): fixtures that give every test the real Kafka broker and the real
PostgreSQL server, chosen by the selection order, with a topic prefix and database names of its own test module:
an app a module leaves running (or a consumer it forgets) can never consume another module's events. Services under
test connect as the session's role, which may only read and write rows; their databases are migrated to head by the
server's user, as ``satupintu-<service> migrate`` does in a deployment. The secured broker's fixtures
(``secure_kafka``, ``make_secure_settings``: every service under its own Kafka user and the production ACLs) are in
:mod:`satupintu.devtools.testing.secure_kafka`; the local OpenID Connect provider's (``keycloak``) in
:mod:`satupintu.devtools.testing.keycloak`.
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from satupintu.common.database import drop_database, ensure_database
from satupintu.common.migrations import migrate, quote_identifier, quote_literal, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings, ServiceSettings
from satupintu.common.topics_admin import delete_topics
from satupintu.devtools.localstack.selection import Endpoint, select_kafka, select_postgres
from satupintu.devtools.testing.keycloak import keycloak
from satupintu.devtools.testing.promtool import promtool, pytest_collection_finish, pytest_sessionfinish
from satupintu.devtools.testing.secure_kafka import SecuredKafka, secure_kafka, secure_kafka_broker
from satupintu.devtools.testing.workers import pytest_configure, pytest_unconfigure

__all__ = [  # fixtures and hooks of other modules, found by pytest here
    "keycloak",
    "promtool",
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_sessionfinish",
    "pytest_unconfigure",
    "secure_kafka",
    "secure_kafka_broker",
]

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


@pytest.fixture(scope="session")
async def service_role(postgres_endpoint: Endpoint, test_session_id: str) -> AsyncIterator[DatabaseSettings]:
    """The session's database role, which may only read and write rows (``migrate`` grants it rows of each
    service database): settings whose ``url`` names it and ``owner_url`` the server's user. Dropped at the end, with
    whatever database of the session is left."""
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
    for name in list(_created_databases):
        await drop_database(server, name)
        _created_databases.remove(name)
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f"DROP ROLE IF EXISTS {quote_identifier(role)}")
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def database_settings(service_role: DatabaseSettings, test_module_id: str) -> AsyncIterator[DatabaseSettings]:
    """Database settings for services under test: the session's role (``url``) and the server's user
    (``owner_url``), with database names of this test module; the databases created through
    :func:`service_database` under its prefix are dropped at the module's end."""
    settings = service_role.model_copy(update={"name_prefix": f"t{test_module_id}_"})
    yield settings
    for name in [name for name in _created_databases if name.startswith(settings.name_prefix)]:
        await drop_database(settings.owner().server_url(), name)
        _created_databases.remove(name)
        _migrated_databases.discard(name)


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


@pytest.fixture
def make_secure_settings(
    secure_kafka: SecuredKafka, database_settings: DatabaseSettings
) -> Callable[..., Awaitable[Any]]:
    """Build a service's settings on the secured broker, connecting as the service's own Kafka user, and this
    session's database server (creating its database)."""

    async def build(settings_class: type[S], service: str, **overrides: Any) -> S:
        await service_database(database_settings, service)
        return settings_class(kafka=secure_kafka.service(service), database=database_settings, **overrides)

    return build
