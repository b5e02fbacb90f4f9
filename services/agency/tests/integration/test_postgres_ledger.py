"""The worker's PostgreSQL ledger on the real server: a decision recorded before a restart is still known after it,
and each worker of each agency remembers only its own decisions."""

from __future__ import annotations

import uuid

import pytest

from satupintu.agency_sdk import PostgresLedger

pytestmark = pytest.mark.integration


async def test_the_ledger_remembers_decisions_across_restarts(ledger_dsn: str) -> None:
    worker = f"ledger-{uuid.uuid4().hex[:6]}"
    first = PostgresLedger(ledger_dsn, agency="bpjs-kes", worker=worker)
    await first.record("assignment-1", "task-1", "decision-1")
    await first.record("assignment-1", "task-1", "decision-1")  # a second record of the same decision is harmless
    await first.close()

    restarted = PostgresLedger(ledger_dsn, agency="bpjs-kes", worker=worker)
    try:
        assert await restarted.already_decided("assignment-1")
        assert not await restarted.already_decided("assignment-2")
    finally:
        await restarted.close()


async def test_a_worker_does_not_see_the_decisions_of_another_worker_or_agency(ledger_dsn: str) -> None:
    worker = f"ledger-{uuid.uuid4().hex[:6]}"
    ledgers = [
        PostgresLedger(ledger_dsn, agency="bpjs-kes", worker=worker),
        PostgresLedger(ledger_dsn, agency="bpjs-kes", worker=f"{worker}-other"),
        PostgresLedger(ledger_dsn, agency="dlh", worker=worker),
    ]
    try:
        await ledgers[0].record("assignment-1", "task-1", "decision-1")
        seen = [await ledger.already_decided("assignment-1") for ledger in ledgers]
    finally:
        for ledger in ledgers:
            await ledger.close()

    assert seen == [True, False, False]
