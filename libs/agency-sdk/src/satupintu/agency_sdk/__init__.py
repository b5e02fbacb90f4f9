"""The worker SDK an agency's own system imports: receive typed tasks from the agency's tasks topic and answer on
its decisions topic, at least once, with idempotent decisions.

    async def decide(task: Task) -> Outcome | None:
        return approve({"member_number": "0001234567890"})

    ledger = PostgresLedger("postgresql://worker@db.bpjs.example/worker", agency="bpjs-kes", worker="worker")
    worker = AgencyWorker("bpjs-kes", KafkaSettings(), decide, ledger=ledger)
    await worker.run()   # until SIGTERM/SIGINT or cancelled; finishes the task in hand first

Idempotent decisions, in two layers:

- A decision's ``ce_id`` is derived from the *assignment* it answers (the ``task.assigned`` event's id), so a
  redelivered task, a second worker instance, or an officer at the desk answering the same assignment all yield the
  same decision id, which routing's inbox applies once. It is derived from the assignment and not from the task id on
  purpose: after an information request routing re-assigns the same task with a new assignment event, and that new
  assignment must be decidable again.
- The worker keeps a ledger of the assignments it has decided (in memory by default; :class:`PostgresLedger` to
  survive restarts) and does not publish again for one it has seen, so a redelivered task publishes no second
  decision. Only a crash between publishing and writing the ledger publishes
  twice, and then with the same id.

A task stays uncommitted until its decision is on the broker: if publishing fails the record is redelivered.

Routing answers every decision on the tasks topic: ``task.decision_accepted``, or ``task.decision_refused`` with the
reason (the task is then back on the officers' desk). The worker skips both; it logs a refusal at warning and counts
it (``decisions_refused``).
"""

from satupintu.agency_sdk.ledger import (
    LEDGER_SCHEMA_LOCK_KEY,
    DecisionLedger,
    ManagedLedger,
    MemoryLedger,
    PostgresLedger,
)
from satupintu.agency_sdk.tasks import (
    DECISION_NAMESPACE,
    Decide,
    ForeignTaskError,
    Outcome,
    Task,
    approve,
    consumer_group,
    decision_event_id,
    reject,
    request_information,
)
from satupintu.agency_sdk.worker import AgencyWorker

__all__ = [
    "DECISION_NAMESPACE",
    "LEDGER_SCHEMA_LOCK_KEY",
    "AgencyWorker",
    "Decide",
    "DecisionLedger",
    "ForeignTaskError",
    "ManagedLedger",
    "MemoryLedger",
    "Outcome",
    "PostgresLedger",
    "Task",
    "approve",
    "consumer_group",
    "decision_event_id",
    "reject",
    "request_information",
]
