"""``/supervisor/tasks`` and ``/tasks/{task_id}/reassign``: the supervisor view's JSON API, for an officer whose token
also holds the ``supervisor`` role. Anyone else is refused 403 and the refusal recorded; another agency's task is
answered 404 (recorded as denied access), as on the rest of the desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from satupintu.agency.api.dependencies import desk_service, problem_of
from satupintu.agency.api.refusals import officer_to
from satupintu.agency.domain import DeskError
from satupintu.agency.schemas import ReassignCreate, ReassignRead, SupervisedTask
from satupintu.agency.services import DeskService
from satupintu.common.auth import Principal
from satupintu.common.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(tags=["supervisor"])

Supervisor = Annotated[Principal, Depends(officer_to("supervise"))]
Reassigner = Annotated[Principal, Depends(officer_to("reassign"))]
Desk = Annotated[DeskService, Depends(desk_service)]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


_AUTH: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token."),
    403: _problem(
        "The token is not a supervisor's (an officer holding the `supervisor` role); the refusal is recorded."
    ),
}


@router.get(
    "/supervisor/tasks",
    summary="Your agency's tasks still to be done, most urgent first, with who holds each claim",
    responses=_AUTH,
)
async def supervised_tasks(supervisor: Supervisor, desk: Desk) -> list[SupervisedTask]:
    """Open tasks (claimed or not), tasks whose decision waits for routing and tasks waiting for the citizen's
    answer, of the caller's agency only: overdue (`breached`) first, then `due_soon`, then `on_time`, each by due
    date; with the claim's holder and until when."""
    now = desk.now()
    try:
        return [SupervisedTask.at(view, now) for view in await desk.supervised_tasks(supervisor)]
    except DeskError as error:
        raise problem_of(error) from error


@router.post(
    "/tasks/{task_id}/reassign",
    summary="Give an open task's claim to another officer of your agency",
    responses={
        **_AUTH,
        404: _problem("No such task for your agency (also for another agency's task; the attempt is recorded)."),
        409: _problem("The task is not open (its decision waits for routing, it was decided or withdrawn, ...)."),
        422: _problem("`officer` is empty or not a user name."),
    },
)
async def reassign_task(task_id: str, body: ReassignCreate, supervisor: Reassigner, desk: Desk) -> ReassignRead:
    """Set the claim to `officer` with a fresh claim lifetime, whoever held it; `task.claimed` is published (the new
    officer, the supervisor as actor) and the move recorded as `access.recorded` naming the supervisor, the previous
    holder and the new one. The new holder finds it among their claims; the previous one can no longer decide it."""
    try:
        return ReassignRead.of(await desk.reassign(supervisor, task_id, body.officer))
    except DeskError as error:
        raise problem_of(error) from error
