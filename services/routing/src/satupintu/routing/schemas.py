"""Routing's HTTP response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TaskRead(BaseModel):
    """One agency's task as an operator sees it."""

    task_id: str = Field(description="The task's id.")
    agency: str = Field(description="Lower-case agency code.")
    stage_index: int = Field(description="The stage the task belongs to.")
    state: str = Field(description="The task's state.")
    due_at: datetime = Field(description="When the service standard says it must be done.")
    sla_breached: bool = Field(description="Whether it passed its due date undone.")
    updated_at: datetime = Field(description="When it last changed.")


class StageRead(BaseModel):
    """A stage of the workflow and its tasks."""

    index: int = Field(description="Position of the stage, from 0.")
    name: str = Field(description="The stage's name in the catalogue.")
    tasks: list[TaskRead] = Field(description="Its tasks (empty until the stage starts).")


class WorkflowRead(BaseModel):
    """An application's workflow instance."""

    application_id: str = Field(description="The application's id.")
    service_code: str = Field(description="The catalogue service.")
    catalogue_version: str = Field(description="The catalogue version it runs under.")
    state: str = Field(description="The application's state.")
    current_stage: int = Field(description="The running (or last) stage.")
    due_at: datetime = Field(description="When the whole application must be done.")
    sla_breached: bool = Field(description="Whether the application passed its due date undone.")
    stages: list[StageRead] = Field(description="Every stage of the service, in order.")
    outputs: dict[str, Any] = Field(description="Outputs so far, by agency.")
