"""Tasks, claims and decisions as officers see them, built from the desk's rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from satupintu.agency.domain import DeskTaskState, SlaState, sla_state
from satupintu.agency.services.base import DeskBase, personal_context
from satupintu.agency.storage.tables import DeskTask
from satupintu.common.key_ring import KeyNotHeld
from satupintu.contract.applications import JsonScalar
from satupintu.contract.base import Decision, DocumentRef

NOT_READABLE = "(tidak dapat dibaca / not readable)"
"""What a sealed value reads as when its citizen key is not held (not yet arrived, or destroyed by an erasure)."""


@dataclass(frozen=True)
class FieldView:
    """One application field an agency may see, with its label from the catalogue."""

    name: str
    label: str
    value: JsonScalar


@dataclass(frozen=True)
class TaskView:
    """A task as an officer sees it; ``fields`` and ``answers`` only when the task is shown on its own."""

    task_id: str
    application_id: str
    agency: str
    service_code: str
    service_name: str
    action: str
    stage_index: int
    stage_name: str
    state: DeskTaskState
    due_at: datetime
    assigned_at: datetime
    sla_state: SlaState
    timezone: str
    claimed_by: str | None
    claimed_at: datetime | None
    claim_expires_at: datetime | None
    decision: str | None
    decided_at: datetime | None
    refusal_reason: str | None
    refused_at: datetime | None
    documents: tuple[DocumentRef, ...]
    previous_outputs: Mapping[str, Mapping[str, JsonScalar]]
    fields: tuple[FieldView, ...] = ()
    answers: Mapping[str, JsonScalar] = field(default_factory=dict)
    document_labels: Mapping[str, str] = field(default_factory=dict)

    def claimed_by_other(self, officer: str, now: datetime) -> bool:
        """Whether a colleague holds a live claim."""
        return self.claim_live(now) and self.claimed_by != officer

    def claim_live(self, now: datetime) -> bool:
        """Whether somebody holds a claim that has not expired."""
        return self.claimed_by is not None and self.claim_expires_at is not None and self.claim_expires_at > now


@dataclass(frozen=True)
class ClaimView:
    """A claim an officer holds."""

    task_id: str
    officer: str
    claimed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class DecisionView:
    """A decision the desk published."""

    task_id: str
    decision: Decision
    decided_at: datetime
    event_id: str


class TaskViews(DeskBase):
    """Tasks as officers see them: labels from the catalogue, the SLA state in the agency's calendar, personal data
    opened only when a task is shown on its own."""

    def _view(self, row: DeskTask, now: datetime, *, personal: bool = False) -> TaskView:
        calendar = self.calendar_for(row.agency)
        service = self._catalogue.service(row.service_code)
        service_name, stage_name, action = row.service_code, f"{row.stage_index + 1}", ""
        labels: dict[str, str] = {}
        document_labels: dict[str, str] = {}
        if service is not None:
            service_name = service.name.id
            labels = {definition.name: definition.label.id for definition in service.fields}
            document_labels = {document.name: document.label.id for document in service.documents_for("business")}
            if row.stage_index < len(service.stages):
                stage = service.stages[row.stage_index]
                stage_name = stage.name
                action = next((t.action.id for t in stage.tasks if t.agency == row.agency), "")
        fields: tuple[FieldView, ...] = ()
        answers: dict[str, JsonScalar] = {}
        if personal:
            data = json.loads(self._cipher.decrypt(row.personal_data, personal_context(row.task_id)))
            fields = tuple(FieldView(name, labels.get(name, name), value) for name, value in data["fields"].items())
            answers = data["answers"]
        return TaskView(
            task_id=row.task_id,
            application_id=row.application_id,
            agency=row.agency,
            service_code=row.service_code,
            service_name=service_name,
            action=action,
            stage_index=row.stage_index,
            stage_name=stage_name,
            state=DeskTaskState(row.state),
            due_at=row.due_at,
            assigned_at=row.assigned_at,
            sla_state=sla_state(
                row.due_at,
                now,
                calendar,
                breached=row.sla_breached_at is not None,
                due_soon_working_days=self._due_soon_working_days,
            ),
            timezone=calendar.timezone,
            claimed_by=row.claimed_by,
            claimed_at=row.claimed_at,
            claim_expires_at=row.claim_expires_at,
            decision=row.decision,
            decided_at=row.decided_at,
            refusal_reason=row.refusal_reason,
            refused_at=row.refused_at,
            documents=tuple(DocumentRef.model_validate(document) for document in row.documents),
            previous_outputs=row.previous_outputs,
            fields=fields,
            answers=answers,
            document_labels=document_labels,
        )

    async def _opened(self, view: TaskView) -> TaskView:
        """``view`` with its sealed fields and answers opened with the agency's citizen keys (decision 0016); a value
        whose key has not arrived yet, or was destroyed by an erasure, reads as :data:`NOT_READABLE`."""
        keys = self._keys
        if keys is None:
            return view

        async def opened(name: str, value: JsonScalar) -> JsonScalar:
            try:
                result: JsonScalar = await keys.open(value, subject=view.application_id, field=name)
            except KeyNotHeld:
                return NOT_READABLE
            return result

        fields = tuple([replace(item, value=await opened(item.name, item.value)) for item in view.fields])
        answers = {name: await opened(name, value) for name, value in view.answers.items()}
        return replace(view, fields=fields, answers=answers)
