"""``/tasks``: the JSON API behind the desk, for officers with a bearer token. Another agency's task is answered
404 (as if it did not exist, so ids of other agencies' tasks are not confirmed) and recorded as denied access."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from satupintu.agency.api.dependencies import desk_service, problem_of
from satupintu.agency.api.refusals import officer_to
from satupintu.agency.domain import DecisionInput, DeskError
from satupintu.agency.schemas import ClaimRead, DecisionCreate, DecisionRead, TaskRead, TaskSummary
from satupintu.agency.services import DeskService
from satupintu.common.auth import Principal
from satupintu.common.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(prefix="/tasks", tags=["tasks"])

Lister = Annotated[Principal, Depends(officer_to("list"))]
Reader = Annotated[Principal, Depends(officer_to("read"))]
Claimer = Annotated[Principal, Depends(officer_to("claim"))]
Decider = Annotated[Principal, Depends(officer_to("decide"))]
Desk = Annotated[DeskService, Depends(desk_service)]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


_NOT_FOUND = _problem("No such task for your agency (also for another agency's task; the attempt is recorded).")
_AUTH: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token."),
    403: _problem("The token is not an officer's (the refusal is recorded, against the task's application)."),
}


@router.get(
    "", summary="Your agency's open tasks and those waiting for routing, with due dates and SLA state", responses=_AUTH
)
async def list_tasks(officer: Lister, desk: Desk) -> list[TaskSummary]:
    """Open tasks of the caller's agency that nobody else holds a live claim on (`refusal_reason` says why routing
    refused a decision on one), and tasks whose decision waits for routing (`decision_sent`): the caller's own
    claims first, then by due date."""
    return [TaskSummary.of(view) for view in await desk.open_tasks(officer)]


@router.get(
    "/{task_id}",
    summary="One task with the fields and documents your agency may see",
    responses={**_AUTH, 404: _NOT_FOUND},
)
async def read_task(task_id: str, officer: Reader, desk: Desk) -> TaskRead:
    """The task, with the application fields, documents and earlier outputs the agency may see (the read is
    recorded as `access.recorded`)."""
    try:
        return TaskRead.of(await desk.task(officer, task_id))
    except DeskError as error:
        raise problem_of(error) from error


@router.post(
    "/{task_id}/claim",
    summary="Claim a task: colleagues no longer see it until the claim expires",
    responses={
        **_AUTH,
        404: _NOT_FOUND,
        409: _problem(
            "A colleague holds a live claim, or the task is no longer open (e.g. its decision waits for routing)."
        ),
    },
)
async def claim_task(task_id: str, officer: Claimer, desk: Desk) -> ClaimRead:
    """Claim the task (or renew your own claim) and publish `task.claimed`; of two officers racing, one wins and
    the other gets 409."""
    try:
        return ClaimRead.of(await desk.claim(officer, task_id))
    except DeskError as error:
        raise problem_of(error) from error


@router.post(
    "/{task_id}/decision",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Decide a task you hold a claim on",
    responses={
        **_AUTH,
        404: _NOT_FOUND,
        409: _problem("You hold no live claim on the task, a colleague does, or it is no longer open."),
        422: _problem("The decision is incomplete (a rejection without reason, a question without text, ...)."),
    },
)
async def decide_task(task_id: str, body: DecisionCreate, officer: Decider, desk: Desk) -> DecisionRead:
    """Publish `task.decided` on the agency's decisions topic; the task waits for routing (`decision_sent`), which
    moves the application on and closes the task, or refuses the decision: then the task is open again with
    `refusal_reason`."""
    proposed = DecisionInput(body.decision, body.outputs, body.reason, tuple(body.questions))
    try:
        return DecisionRead.of(await desk.decide(officer, task_id, proposed))
    except DeskError as error:
        raise problem_of(error) from error
