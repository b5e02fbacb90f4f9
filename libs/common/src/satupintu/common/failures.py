"""Whether a failure says the database cannot be reached right now, read without importing a database driver (the
consumers' retry rule uses it, and an agency's worker runs that rule with no database library installed)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

_CONNECTION_FAILURES = frozenset(
    {
        "ConnectionDoesNotExistError",  # the server went away mid-query
        "CannotConnectNowError",  # starting up or shutting down
        "AdminShutdownError",  # terminated by the server's shutdown
        "CrashShutdownError",
        "ConnectionFailureError",
        "ClientCannotConnectError",
        "TooManyConnectionsError",
        "PostgresConnectionError",
    }
)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database server cannot be reached right now: connection
    refused or lost, the server starting or shutting down. Such a request may be retried later; other errors
    (a constraint violation, a bad query) may not."""
    for current in causes(error):
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if _invalidated_connection(current):
            return True
        if any(kind.__name__ in _CONNECTION_FAILURES for kind in type(current).__mro__):
            return True
    return False


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what caused it, innermost last (each once, however the chain loops)."""
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _invalidated_connection(error: BaseException) -> bool:
    """SQLAlchemy's word that the connection broke; such an error exists only where SQLAlchemy was imported."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)
