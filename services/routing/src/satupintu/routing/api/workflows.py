"""``/workflows``: what routing knows of an application, for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.common.catalogue import Catalogue
from satupintu.common.problems import Problem, documented_problems
from satupintu.routing.api import dependencies
from satupintu.routing.schemas import StageRead, TaskRead, WorkflowRead
from satupintu.routing.storage.repository import WorkflowRepository

router = APIRouter(tags=["workflows"])


@router.get(
    "/workflows/{application_id}",
    summary="An application's workflow: stages, tasks and due dates",
    responses=documented_problems({404: "Routing has no workflow for this application (problem+json `not-found`)."}),
)
async def read_workflow(
    application_id: str,
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(dependencies.sessions)],
    catalogue: Annotated[Catalogue, Depends(dependencies.catalogue)],
    _operator: Annotated[Principal, Depends(require_roles(Role.OPERATOR))],
) -> WorkflowRead:
    """The workflow instance of ``application_id``."""
    async with sessions() as session:
        repository = WorkflowRepository(session)
        workflow = await repository.workflow(application_id)
        if workflow is None:
            raise Problem(404, "not-found", f"no workflow for application {application_id}")
        tasks = await repository.tasks(application_id)
    service = catalogue.service(workflow.service_code)
    stage_names = [stage.name for stage in service.stages] if service else []
    return WorkflowRead(
        application_id=workflow.application_id,
        service_code=workflow.service_code,
        catalogue_version=workflow.catalogue_version,
        state=workflow.state,
        current_stage=workflow.current_stage,
        due_at=workflow.due_at,
        sla_breached=workflow.sla_breached_at is not None,
        outputs=workflow.outputs,
        stages=[
            StageRead(
                index=index,
                name=name,
                tasks=[
                    TaskRead(
                        task_id=task.task_id,
                        agency=task.agency,
                        stage_index=task.stage_index,
                        state=task.state,
                        due_at=task.due_at,
                        sla_breached=task.sla_breached_at is not None,
                        updated_at=task.updated_at,
                    )
                    for task in tasks
                    if task.stage_index == index
                ],
            )
            for index, name in enumerate(stage_names)
        ],
    )
