"""``/complaints``: a citizen files and follows a complaint; the agency's complaint desk reads and answers it;
auditors and operators see every desk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.common.problems import documented_problems
from satupintu.mall.api.dependencies import mall
from satupintu.mall.api.limits import RATE_LIMITED, WriteGroup, limit
from satupintu.mall.domain import ComplaintState
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import ComplaintCreate, ComplaintRead, ComplaintReceipt, ComplaintResolve
from satupintu.mall.services.complaints import Complaint, NewComplaint

router = APIRouter(prefix="/complaints", tags=["complaints"])
Context = Annotated[MallContext, Depends(mall)]
Reader = Annotated[Principal, Depends(require_roles(Role.OFFICER, Role.AUDITOR, Role.OPERATOR))]
Desk = Annotated[Principal, Depends(require_roles(Role.OFFICER, Role.OPERATOR))]


def receipt(record: Complaint) -> ComplaintReceipt:
    """What the complainant sees."""
    return ComplaintReceipt(
        complaint_id=record.complaint_id,
        reference=record.reference,
        agency=record.agency,
        state=ComplaintState(record.state),
        due_at=record.due_at,
        response=record.response,
        resolved_at=record.resolved_at,
    )


def complaint_read(record: Complaint, context: MallContext) -> ComplaintRead:
    """What the desk, auditors and operators see."""
    now = context.complaints.now()
    return ComplaintRead(
        **receipt(record).model_dump(),
        application_id=record.application_id,
        tracking_code=record.tracking_code,
        service_code=record.service_code,
        category=record.category,
        description=record.description,
        contact=record.contact,
        filed_at=record.filed_at,
        overdue=ComplaintState(record.state).awaits_answer and record.due_at < now,
        sla_breached_at=record.sla_breached_at,
        resolved_by=record.resolved_by,
    )


@router.post(
    "",
    status_code=201,
    summary="File a complaint about an application or an agency",
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],
    responses=RATE_LIMITED,
)
async def file_complaint(body: ComplaintCreate, context: Context) -> ComplaintReceipt:
    """The complaint becomes a task on the agency's complaint desk, due in its category's working days (the
    catalogue's `complaint_categories`); the complainant, if they gave a contact, is told in their `language`."""
    record = await context.complaints.file(
        NewComplaint(
            category=body.category,
            description=body.description,
            tracking_code=body.tracking_code,
            agency=body.agency,
            contact=body.contact,
            language=body.language,
        )
    )
    return receipt(record)


@router.get(
    "/{complaint_id}/status",
    summary="A complaint's status, for the complainant",
    responses=documented_problems({404: "No such complaint."}),
)
async def complaint_status(complaint_id: str, context: Context) -> ComplaintReceipt:
    """Open or answered, its due date, and the desk's answer."""
    return receipt(await context.complaints.status(complaint_id))


@router.get("", summary="Complaints on the desks")
async def list_complaints(
    principal: Reader,
    context: Context,
    agency: Annotated[str | None, Query(description="One agency's desk (officers: their own only).")] = None,
    state: Annotated[ComplaintState | None, Query(description="open, in_progress or resolved.")] = None,
    overdue: Annotated[bool, Query(description="Only unanswered complaints past their due date.")] = False,
) -> list[ComplaintRead]:
    """By due date. Officers see their agency's desk; auditors and operators see every desk."""
    records = await context.complaints.listing(principal, agency=agency, state=state, overdue=overdue)
    return [complaint_read(record, context) for record in records]


@router.get(
    "/{complaint_id}",
    summary="One complaint, for its desk, auditors and operators",
    responses=documented_problems({404: "No such complaint."}),
)
async def read_complaint(complaint_id: str, principal: Reader, context: Context) -> ComplaintRead:
    """The complaint in full."""
    return complaint_read(await context.complaints.get(complaint_id, principal), context)


@router.post(
    "/{complaint_id}/take-up",
    summary="Take a complaint up (in progress)",
    responses=documented_problems({404: "No such complaint.", 409: "Taken up or answered already."}),
)
async def take_up_complaint(complaint_id: str, principal: Desk, context: Context) -> ComplaintRead:
    """An officer of the agency's desk takes the complaint up: `complaint.status_changed` (`in_progress`), and the
    complainant is told. Taken up or answered already: 409."""
    return complaint_read(await context.complaints.take_up(complaint_id, principal), context)


@router.post(
    "/{complaint_id}/resolve",
    summary="Answer and close a complaint",
    responses=documented_problems({404: "No such complaint.", 409: "Answered already."}),
)
async def resolve_complaint(
    complaint_id: str, body: ComplaintResolve, principal: Desk, context: Context
) -> ComplaintRead:
    """The agency's desk answers; `complaint.resolved` says whether it was within the due date."""
    return complaint_read(await context.complaints.resolve(complaint_id, body.response, principal), context)
