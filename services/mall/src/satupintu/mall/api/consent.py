"""``/consents``: the citizen's consent ledger, per agency and per field. The citizen identifies with a tracking
code of one of their applications and the NIK it was made with (in the body, never in the address)."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends

from satupintu.common.problems import documented_problems
from satupintu.mall.api.dependencies import mall
from satupintu.mall.api.limits import RATE_LIMITED, WriteGroup, limit
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import ConsentChange, ConsentIdentify, LedgerEventRead, LedgerLineRead, LedgerRead
from satupintu.mall.services.consent import LedgerView

router = APIRouter(
    prefix="/consents",
    tags=["consent"],
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],  # every route is a citizen's POST
    responses=RATE_LIMITED,
)
Context = Annotated[MallContext, Depends(mall)]
_NOT_THE_APPLICANT = documented_problems(
    {403: "The NIK is not the one the application was submitted with (a lock after too many: 429)."}
)


def ledger_read(view: LedgerView, context: MallContext) -> LedgerRead:
    """The JSON form of a ledger."""

    def agency_name(code: str) -> str:
        agency = context.catalogue.agency(code)
        return agency.name.id if agency else code

    return LedgerRead(
        ledger_id=view.ledger_id,
        lines=[
            LedgerLineRead(
                agency=line.agency,
                agency_name=agency_name(line.agency),
                field=line.field,
                granted=line.granted,
                changed_at=line.changed_at,
            )
            for line in view.lines
        ],
        history=[
            LedgerEventRead(
                kind=cast(Literal["granted", "withdrawn", "used"], entry.kind),
                agency=entry.agency,
                field=entry.field,
                consented=entry.consented,
                application_id=entry.application_id,
                event_id=entry.event_id,
                at=entry.at,
            )
            for entry in view.history
        ],
    )


@router.post(
    "/lookup",
    summary="Read one's consent ledger",
    responses=_NOT_THE_APPLICANT,
)
async def lookup(body: ConsentIdentify, context: Context) -> LedgerRead:
    """Every agency and profile field that can be reused, whether consent is given, and the ledger's history."""
    return ledger_read(await context.consent.ledger(body.tracking_code, body.nik), context)


@router.post(
    "/grants",
    summary="Allow an agency to receive profile fields again",
    responses=_NOT_THE_APPLICANT,
)
async def grant(body: ConsentChange, context: Context) -> LedgerRead:
    """Publishes `consent.granted` for the fields that were not granted yet."""
    view = await context.consent.grant(body.tracking_code, body.nik, body.agency, body.fields)
    return ledger_read(view, context)


@router.post(
    "/withdrawals",
    summary="Withdraw consent: stop an agency receiving profile fields again",
    responses=_NOT_THE_APPLICANT,
)
async def withdraw(body: ConsentChange, context: Context) -> LedgerRead:
    """Publishes `consent.withdrawn` for the fields that were granted; intake stops reusing them on receipt."""
    view = await context.consent.withdraw(body.tracking_code, body.nik, body.agency, body.fields)
    return ledger_read(view, context)
