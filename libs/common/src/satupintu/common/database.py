"""PostgreSQL plumbing: one pooled async engine per process, each service in its own database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from satupintu.common.settings import DatabaseSettings


def create_engine(settings: DatabaseSettings, service: str) -> AsyncEngine:
    """The process's one pooled engine for ``service``'s own database."""
    engine = create_async_engine(
        settings.service_url(service),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, an idle timeout): the pool replaces it.

    Instead of SQLAlchemy's ``pool_pre_ping``, which on asyncpg costs three round trips (BEGIN, a query, ROLLBACK)
    per checkout, every transaction of every service (a quarter of a consumer's database time in the live flow,
    docs/performance.md): asyncpg notices a socket the server closed, so asking it costs nothing. What it cannot
    notice (a peer gone without closing) fails the first statement, which SQLAlchemy then treats as a disconnect,
    invalidating the pool's older connections; the callers retry it as transient."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ensure_database(server_url: str, name: str) -> bool:
    """Create database ``name`` on the server unless it exists; True if it was created."""
    url = make_url(server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await connection.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await connection.close()


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` (used by test sessions to clean up after themselves)."""
    url = make_url(server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def database_ready(engine: AsyncEngine) -> bool:
    """Whether the database answers a trivial query."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def create_tables(engine: AsyncEngine, tables: Sequence[type[SQLModel]]) -> None:
    """Create the given tables if they do not exist: for databases without a migration environment (the plumbing's
    own tests); a service's tables come from its migrations (``satupintu-<service> migrate``)."""
    async with engine.begin() as connection:
        # Two instances starting together must not race on CREATE TABLE IF NOT EXISTS.
        await connection.execute(text("SELECT pg_advisory_xact_lock(7261001)"))
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[model.__table__ for model in tables],  # type: ignore[attr-defined]
        )
