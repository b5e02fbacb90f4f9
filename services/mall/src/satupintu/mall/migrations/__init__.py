"""Mall's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-mall migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n mall revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.common.migrations import ServiceSchema
from satupintu.common.oidc.sessions import SignInTokens
from satupintu.mall.storage.tables import (
    ApplicationRecord,
    AppointmentRecord,
    AppointmentSlot,
    ComplaintRecord,
    ConsentEntry,
    ConsentLedger,
    ConsentLogEntry,
    CounterDocument,
    DailySequence,
    SurveyInvitation,
    SurveyResponse,
    TicketRecord,
)

SCHEMA = ServiceSchema(
    "mall",
    tables=[
        ApplicationRecord,
        DailySequence,
        TicketRecord,
        SurveyInvitation,
        SurveyResponse,
        ComplaintRecord,
        ConsentLedger,
        ConsentEntry,
        ConsentLogEntry,
        CounterDocument,
        SignInTokens,  # the clerks' tokens, to submit to intake as them (decision 0036)
        AppointmentSlot,
        AppointmentRecord,
    ],
    limits=True,
    sign_in=True,
)
"""Mall's tables (with outbox, inbox, the shared limits' counters and the staff's sign-in sessions) and who may do
what to them."""
