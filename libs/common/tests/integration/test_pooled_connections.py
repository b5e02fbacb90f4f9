"""The pool never hands out a connection the server closed (a restart, an administrator, an idle timeout): the next
transaction gets a fresh one and succeeds, without the per-checkout round trips of a pre-ping."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import event, text

from satupintu.common.database import create_engine
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration


async def test_connections_the_server_closed_are_replaced_before_a_transaction_uses_them(
    database_settings: DatabaseSettings,
) -> None:
    await service_database(database_settings, "pooltest")
    engine = create_engine(database_settings.owner(), "pooltest")
    statements: list[str] = []
    try:
        async with engine.connect() as first, engine.connect() as second:
            pids = [(await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in (first, second)]
            pooled = [(await c.get_raw_connection()).driver_connection for c in (first, second)]
        admin = await asyncpg.connect(database_settings.owner().service_url("pooltest", driver="postgresql"))
        try:
            for pid in pids:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

        async def noticed() -> bool:  # the event loop read the server's goodbye on the idle pooled sockets
            return all(connection is not None and connection.is_closed() for connection in pooled)

        await eventually(noticed, timeout=10, what="the pooled connections seen closed")

        def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        async with engine.begin() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    finally:
        await engine.dispose()
    assert pid not in pids
    assert statements == ["SELECT pg_backend_pid()"]  # no ping before it
