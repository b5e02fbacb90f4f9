"""The infrastructure going away under load: the broker stopped for 20 s (intake keeps accepting into its outbox,
and every relay catches up once it is back), and PostgreSQL stopped for 10 s (intake answers 503 problem+json with
``Retry-After``, and nothing a refused request sent is half-written). Each drill ends with every accepted
application completed once and every record in the audit log once.

These drills stop servers, so they run on a broker and a PostgreSQL server of their own (other ports, their own
run directory, started and removed by the module's fixture), never on the shared local stack.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from satupintu.common.database import ensure_database
from satupintu.common.migrations import migrate, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from tests.chaos.harness import (
    APPLICATIONS,
    LEDGER_DATABASE,
    Stack,
    assert_every_application_final_and_audited_once,
    drill_timeout,
    resubmit,
    submit,
)
from tests.chaos.infrastructure import DedicatedStack

pytestmark = pytest.mark.chaos

SERVICES = ("intake", "routing", "notification", "audit")
BROKER_OUTAGE_SECONDS = 20.0
DATABASE_OUTAGE_SECONDS = 10.0


@pytest.fixture(scope="module")
async def outage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Stack, DedicatedStack]]:
    """The services on a broker and a database server of this module's own."""
    # Outside pytest's private temporary directory: the database server runs as another user when we are root.
    servers = DedicatedStack.create(Path(tempfile.mkdtemp(prefix="satupintu-chaos-")))
    stack: Stack | None = None
    try:
        await servers.start()
        kafka = KafkaSettings(bootstrap_servers=servers.kafka.address, topic_prefix="chaos.", partitions=3)
        # The services connect as a role with only rows; their databases are migrated by the server's user.
        owner_url = servers.postgres.address
        url = make_url(owner_url).set(username="chaos_service", password="chaos-service")
        database = DatabaseSettings(
            url=url.render_as_string(hide_password=False), owner_url=owner_url, name_prefix="chaos_", pool_size=5
        )
        await ensure_database(owner_url, database.database_name(LEDGER_DATABASE))
        for name in SERVICES:
            schema = registered_schema(name)
            assert schema is not None, f"{name} is not installed"
            await migrate(schema, database)
        stack = Stack(kafka, database, tmp_path_factory.mktemp("chaos-outages"))
        await stack.start(*SERVICES)
        await stack.start("worker")
        yield stack, servers
    finally:
        if stack is not None:
            stack.stop_all()
        await servers.remove()


async def pending_submissions(database: DatabaseSettings) -> int:
    """``application.submitted`` events in intake's outbox, not yet relayed."""
    connection = await asyncpg.connect(database.service_url("intake", driver="postgresql"))
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'application.submitted'")
    finally:
        await connection.close()
    return count


async def intake_readiness(stack: Stack) -> int:
    """The status of intake's ``/readyz``."""
    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=10) as client:
        return (await client.get("/readyz")).status_code


async def outage_until(began: float, seconds: float) -> None:
    """The rest of an outage of ``seconds`` that began at ``began`` (the scenario's length, not a wait for a
    result)."""
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))


@pytest.mark.timeout(drill_timeout() + BROKER_OUTAGE_SECONDS)
async def test_broker_stopped_20s_under_load_intake_keeps_accepting_and_the_relays_catch_up(
    outage: tuple[Stack, DedicatedStack],
) -> None:
    stack, servers = outage
    third = APPLICATIONS // 3
    before = await submit(stack, third, marker="before-broker-stop")

    await servers.kafka.stop()  # while the first third is still on its way through the services
    stopped = time.monotonic()
    assert servers.kafka.is_down()
    during = await submit(stack, third, marker="broker-down")
    held = await pending_submissions(stack.database)
    ready_while_down = await intake_readiness(stack)
    await outage_until(stopped, BROKER_OUTAGE_SECONDS)
    assert servers.kafka.is_down(), "the broker came back before the drill restarted it"
    await servers.kafka.start()

    after = await submit(stack, APPLICATIONS - 2 * third, marker="after-broker-restart")
    assert [len(load.accepted) for load in (before, during, after)] == [third, third, APPLICATIONS - 2 * third]
    assert [load.refused for load in (before, during, after)] == [[], [], []]
    assert held >= third, f"only {held} submissions waited in the outbox while the broker was down"
    assert ready_while_down == 200
    await assert_every_application_final_and_audited_once(stack, before.accepted | during.accepted | after.accepted)
    assert await pending_submissions(stack.database) == 0


@pytest.mark.timeout(drill_timeout() + DATABASE_OUTAGE_SECONDS)
async def test_postgres_stopped_10s_intake_answers_503_with_retry_after_and_nothing_is_half_written(
    outage: tuple[Stack, DedicatedStack],
) -> None:
    stack, servers = outage
    half = APPLICATIONS // 2
    before = await submit(stack, half, marker="before-database-stop")

    await servers.postgres.stop()
    stopped = time.monotonic()
    assert servers.postgres.is_down()
    during = await submit(
        stack,
        0,
        marker="database-down",
        concurrency=2,
        pace=0.5,
        until=lambda: time.monotonic() - stopped >= DATABASE_OUTAGE_SECONDS,
    )
    ready_while_down = await intake_readiness(stack)
    await outage_until(stopped, DATABASE_OUTAGE_SECONDS)
    assert servers.postgres.is_down(), "the database came back before the drill restarted it"
    await servers.postgres.start()

    assert len(during.refused) >= 5, "intake refused (almost) nothing while its database was down"
    for answer in during.refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert int(answer.headers["retry-after"]) > 0
        assert answer.json()["type"].endswith("/unavailable")
    assert ready_while_down == 503
    # Retried with their keys, refused requests are created afresh (never replayed): none was half-written.
    retried = await resubmit(stack, during.refused_keys)
    assert len(retried.accepted) == len(during.refused), [answer.text for answer in retried.refused[:3]]
    after = await submit(stack, APPLICATIONS - half, marker="after-database-restart")
    assert [load.refused for load in (before, after)] == [[], []]
    accepted = before.accepted | during.accepted | retried.accepted | after.accepted
    assert len(accepted) == APPLICATIONS + len(during.accepted) + len(retried.accepted)
    await assert_every_application_final_and_audited_once(stack, accepted)

    connection = await asyncpg.connect(stack.database.service_url("intake", driver="postgresql"))
    try:
        stored = {row["id"] for row in await connection.fetch("SELECT id FROM applications")}
    finally:
        await connection.close()
    assert stored == set(stack.accepted), "intake stored applications it did not accept, or lost accepted ones"
