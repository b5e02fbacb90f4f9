"""An agency's automatic worker for the chaos tests, run as its own process (so ``kill -9`` is real): it approves
every task of its agency through the worker SDK, remembering its decisions in a PostgreSQL ledger.

Configured like every worker, from ``KAFKA_*`` and ``DATABASE_*``; ``CHAOS_AGENCY`` names the agency,
``CHAOS_WORKER`` the worker (its consumer group), ``CHAOS_LEDGER_DATABASE`` the ledger's database (which exists).
"""

from __future__ import annotations

import asyncio
import logging
import os

from satupintu.agency_sdk import AgencyWorker, Outcome, PostgresLedger, Task, approve
from satupintu.common.logs import configure_logging
from satupintu.common.settings import DatabaseSettings, KafkaSettings


async def approve_every_task(task: Task) -> Outcome:
    """The decision: approved, with an output derived from the application so a retry yields the same."""
    return approve({"registration_number": f"REG-{task.application_id[:8]}"})


async def serve(agency: str, worker: str) -> None:
    """Run the worker until SIGTERM/SIGINT (or ``kill -9``)."""
    ledger_url = DatabaseSettings().service_url(os.environ["CHAOS_LEDGER_DATABASE"], driver="postgresql")
    await AgencyWorker(
        agency,
        KafkaSettings(),
        approve_every_task,
        worker_name=worker,
        ledger=PostgresLedger(ledger_url, agency=agency, worker=worker),
    ).run()


if __name__ == "__main__":
    chaos_agency, chaos_worker = os.environ["CHAOS_AGENCY"], os.environ.get("CHAOS_WORKER", "chaos-approver")
    configure_logging("chaos-approver", "info")  # its "consuming" line tells the harness the worker is up
    # The broker's line per message costs CPU the drills need.
    logging.getLogger(f"satupintu.agency-{chaos_agency}-{chaos_worker}.broker").setLevel(logging.WARNING)
    asyncio.run(serve(chaos_agency, chaos_worker))
