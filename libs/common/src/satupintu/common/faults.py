"""Named fault-injection points, for tests that prove what survives a crash at an awkward moment.

A point is armed in-process with :func:`arm` (it raises :class:`InjectedFault`, or runs a given action), or for a
whole process with ``SATUPINTU_FAULTS=point[,point...]``, which ends the process at once as ``kill -9`` would.
Unarmed points cost one dictionary lookup.
"""

from __future__ import annotations

import os
from collections.abc import Callable

EXIT_CODE = 86

_armed: dict[str, Callable[[], None]] = {}


class InjectedFault(RuntimeError):
    """Raised by an armed fault point."""


def _raise(point: str) -> Callable[[], None]:
    def action() -> None:
        raise InjectedFault(f"fault injected at {point}")

    return action


def arm(point: str, action: Callable[[], None] | None = None) -> None:
    """Make ``point`` fail (by raising :class:`InjectedFault` unless another action is given)."""
    _armed[point] = action or _raise(point)


def disarm(point: str | None = None) -> None:
    """Disarm ``point``, or every point."""
    if point is None:
        _armed.clear()
    else:
        _armed.pop(point, None)


def fault_point(point: str, where: str = "") -> None:
    """Fail here if ``point`` is armed, or ``point:where`` (one record, one key); otherwise do nothing."""
    action = _armed.get(point) or (_armed.get(f"{point}:{where}") if where and _armed else None)
    if action is not None:
        action()
    if point in _process_faults():
        os._exit(EXIT_CODE)


def _process_faults() -> frozenset[str]:
    return frozenset(name.strip() for name in os.environ.get("SATUPINTU_FAULTS", "").split(",") if name.strip())
