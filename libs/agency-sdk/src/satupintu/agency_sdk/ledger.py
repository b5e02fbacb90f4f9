"""Where a worker remembers the assignments it has decided, so a redelivered task is not decided again: in memory
(:class:`MemoryLedger`, the default) or in PostgreSQL (:class:`PostgresLedger`, with the ``postgres`` extra)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import asyncpg


class DecisionLedger(Protocol):
    """Where a worker remembers the assignments it has decided, so a redelivered task is not decided again."""

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether a decision on ``assignment_id`` was published."""
        ...

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Remember that the decision ``decision_id`` on ``assignment_id`` was published."""
        ...


class MemoryLedger:
    """A :class:`DecisionLedger` in memory, bounded to the most recent ``capacity`` assignments; lost on restart."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._decided: OrderedDict[str, str] = OrderedDict()

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether ``assignment_id`` is among the remembered decisions."""
        return assignment_id in self._decided

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Remember the decision, forgetting the oldest beyond the capacity."""
        self._decided[assignment_id] = decision_id
        self._decided.move_to_end(assignment_id)
        while len(self._decided) > self._capacity:
            self._decided.popitem(last=False)


@runtime_checkable
class ManagedLedger(DecisionLedger, Protocol):
    """A :class:`DecisionLedger` holding connections: opened when its worker starts, closed when it stops."""

    async def open(self) -> None:
        """Connect (and prepare the store) unless already connected."""
        ...

    async def close(self) -> None:
        """Release the connections; a later use connects again."""
        ...


LEDGER_SCHEMA_LOCK_KEY = 0x5A7E_A6E1
"""The advisory lock under which a ledger creates its table, so workers starting together do not race."""


class PostgresLedger:
    """A :class:`ManagedLedger` in a PostgreSQL table, ``worker_decisions``, keyed by agency, worker and assignment.

    Survives restarts and is shared by the instances of one worker. Connects on first use (or when its worker
    starts), creating the table if it does not exist, through a pool of one or two connections.
    """

    def __init__(self, dsn: str, *, agency: str, worker: str) -> None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"the ledger needs a postgresql:// DSN (asyncpg), not {dsn.partition('://')[0]}://")
        self._dsn = dsn
        self.agency = agency.lower()
        self.worker = worker
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        """Create the pool and the table unless already open."""
        async with self._opening:
            if self._pool is not None:
                return
            import asyncpg  # noqa: PLC0415 (the postgres extra: a worker with another ledger has no driver)

            pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2)
            try:
                async with pool.acquire() as connection, connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_SCHEMA_LOCK_KEY)
                    await connection.execute(
                        "CREATE TABLE IF NOT EXISTS worker_decisions ("
                        " agency text NOT NULL, worker text NOT NULL, assignment_id text NOT NULL,"
                        " decided_at timestamptz NOT NULL DEFAULT now(),"
                        " PRIMARY KEY (agency, worker, assignment_id))"
                    )
            except BaseException:
                await pool.close()
                raise
            self._pool = pool

    async def close(self) -> None:
        """Close the pool (waiting for queries in flight)."""
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _connected(self) -> asyncpg.Pool:
        await self.open()
        assert self._pool is not None
        return self._pool

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether the table records a decision of this worker on ``assignment_id``."""
        pool = await self._connected()
        found = await pool.fetchval(
            "SELECT 1 FROM worker_decisions WHERE agency = $1 AND worker = $2 AND assignment_id = $3",
            self.agency,
            self.worker,
            assignment_id,
        )
        return found is not None

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Write the decision to the table (committed before this returns); recording it again changes nothing."""
        pool = await self._connected()
        await pool.execute(
            "INSERT INTO worker_decisions (agency, worker, assignment_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (agency, worker, assignment_id) DO NOTHING",
            self.agency,
            self.worker,
            assignment_id,
        )
