"""The one consent rule for reusing profile data (issue 17, decision 0018): a field goes to an agency again only
under an explicit, recorded grant for that agency and field, or for that field and every agency (``*``), given by
the citizen in the mall's consent ledger. Intake (which reuses) and the ledger (which records and shows, and says
whether a use was consented) both fold the same ``consent.granted`` and ``consent.withdrawn`` events with
:class:`ConsentBook` and ask it :meth:`ConsentBook.allows`; neither has a rule of its own.

The rule: of the decisions that cover an (agency, field), the latest wins; nothing is allowed before a grant. A
withdrawal therefore holds from the next application on, and a grant for every agency after a withdrawal for one
allows that one again (and the other way round).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from satupintu.common.catalogue import ServiceDefinition
from satupintu.contract.mall import ConsentGranted, ConsentWithdrawn

ALL_AGENCIES = "*"
"""The agency of a grant or withdrawal for every agency."""

Line = tuple[str, str]
"""An (agency, field) pair; the agency may be :data:`ALL_AGENCIES`."""


@dataclass(frozen=True)
class ConsentDecision:
    """A grant or a withdrawal of some fields, for one agency or for every agency."""

    agency: str
    fields: tuple[str, ...]
    granted: bool

    @classmethod
    def of(cls, payload: ConsentGranted | ConsentWithdrawn) -> ConsentDecision:
        """The decision an event records."""
        return cls(payload.agency, tuple(payload.fields), isinstance(payload, ConsentGranted))


class ConsentBook:
    """One citizen's consent, as stored lines (agency, field) → granted; built from what a service stored, changed
    only through :meth:`apply`, so every service keeps the same lines from the same events."""

    def __init__(self, lines: Mapping[Line, bool] | None = None) -> None:
        self._lines: dict[Line, bool] = dict(lines or {})

    @property
    def lines(self) -> Mapping[Line, bool]:
        """Every stored line."""
        return dict(self._lines)

    def apply(self, decision: ConsentDecision) -> dict[Line, bool]:
        """Record ``decision``; the lines it changed (new or different), which the caller stores. A decision for
        every agency also sets the lines of single agencies for its fields, so the latest decision wins."""
        changed: dict[Line, bool] = {}
        for field in dict.fromkeys(decision.fields):
            covered: Iterable[Line] = [(decision.agency, field)]
            if decision.agency == ALL_AGENCIES:
                covered = [*covered, *(line for line in self._lines if line[1] == field and line[0] != ALL_AGENCIES)]
            for line in covered:
                if self._lines.get(line) != decision.granted:
                    self._lines[line] = decision.granted
                    changed[line] = decision.granted
        return changed

    def allows(self, agency: str, field: str) -> bool:
        """Whether ``field`` may go to ``agency`` again: its own line if it has one, else the line for every
        agency, else not."""
        own = self._lines.get((agency, field))
        if own is not None:
            return own
        return self._lines.get((ALL_AGENCIES, field), False)


def receiving_agencies(service: ServiceDefinition, field: str) -> list[str]:
    """The agencies a value of ``field`` reaches on an application for ``service``: those whose tasks see it, or
    the owning agency when none does. A reused value needs consent for each of them."""
    agencies = sorted({task.agency for stage in service.stages for task in stage.tasks if field in task.visible_fields})
    return agencies or [service.agency]


def may_reuse(book: ConsentBook, service: ServiceDefinition, field: str) -> bool:
    """Whether ``field`` may be reused on an application for ``service``: allowed for every agency it reaches."""
    return all(book.allows(agency, field) for agency in receiving_agencies(service, field))
