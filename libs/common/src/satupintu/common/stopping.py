"""Stopping within a deadline: a service (or a worker) that is asked to stop exits, whatever a task does."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

_logger = logging.getLogger(__name__)


async def finish_by(deadline: float, what: str, *tasks: asyncio.Future[Any]) -> bool:
    """Wait for ``tasks`` until the loop time ``deadline``; cancel and log what is still running then (never wait
    for a task that ignores its cancellation). Whether everything finished in time."""
    if not tasks:
        return True
    timeout = max(0.0, deadline - asyncio.get_running_loop().time())
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        _logger.error(
            "stopping %s: %d task(s) still running at the deadline, cancelled and left behind: %s",
            what,
            len(pending),
            ", ".join(repr(task) for task in pending),
        )
    return not pending
