"""A small catalogue and a driver for routing's workflow, in memory: what each unit test starts from.

``permit`` runs three stages (the owner checks, two agencies review in parallel, the owner issues its document with
both reviews' outputs); ``letter`` is one agency, one stage. ``paid-letter`` is a letter whose fee is paid before
its first stage, ``paid-permit`` a permit whose fee is paid before issuing. Task ids are ``task-1``, ``task-2``, ...
in creation order.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from satupintu.common.catalogue import Catalogue
from satupintu.common.working_days import WorkingCalendar
from satupintu.contract.applications import ApplicationInformationProvided, ApplicationSubmitted
from satupintu.contract.base import Decision, DocumentRef, EventPayload
from satupintu.contract.tasks import TaskClaimed, TaskDecided
from satupintu.routing.domain import Planning, Task, Workflow

MONDAY = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
"""10:00 WIB on an ordinary Monday."""


def task_definition(
    agency: str, fields: list[str], days: int, *, documents: list[str] | None = None, needs: list[str] | None = None
) -> dict[str, Any]:
    """A task definition of the test catalogue."""
    return {
        "agency": agency,
        "action": {"id": "Periksa", "en": "Check"},
        "visible_fields": fields,
        "visible_documents": documents or [],
        "needs_outputs_from": needs or [],
        "sla_working_days": days,
    }


_LETTER: dict[str, Any] = {
    "code": "letter",
    "name": {"id": "Surat", "en": "Letter"},
    "description": {"id": "Surat", "en": "Letter"},
    "agency": "dpmptsp",
    "fields": [{"name": "purpose", "type": "string", "label": {"id": "Tujuan", "en": "Purpose"}}],
    "stages": [{"name": "Penerbitan", "tasks": [task_definition("dpmptsp", ["purpose"], 1)]}],
    "sla_working_days": 1,
    "cost": {"id": "Gratis", "en": "Free"},
    "product": {"id": "Surat", "en": "Letter"},
}
_PERMIT: dict[str, Any] = {
    "code": "permit",
    "name": {"id": "Izin", "en": "Permit"},
    "description": {"id": "Izin", "en": "Permit"},
    "agency": "dpmptsp",
    "fields": [
        {"name": "building_function", "type": "string", "label": {"id": "Fungsi", "en": "Function"}},
        {"name": "floors", "type": "integer", "label": {"id": "Lantai", "en": "Floors"}},
        {
            "name": "owner_address",
            "type": "string",
            "label": {"id": "Alamat", "en": "Address"},
            "personal": True,
        },
    ],
    "documents": [
        {"name": "ktp", "label": {"id": "KTP", "en": "ID card"}, "media_types": ["image/png"]},
        {"name": "site_plan", "label": {"id": "Denah", "en": "Plan"}, "media_types": ["image/png"]},
    ],
    "stages": [
        {
            "name": "Verifikasi",
            "tasks": [task_definition("dpmptsp", ["building_function", "owner_address"], 1)],
        },
        {
            "name": "Kajian teknis",
            "tasks": [
                task_definition("dinas-pupr", ["building_function", "floors"], 5, documents=["site_plan"]),
                task_definition("dlh", ["building_function"], 3),
            ],
        },
        {
            "name": "Penerbitan",
            "tasks": [task_definition("dpmptsp", ["building_function"], 2, needs=["dinas-pupr", "dlh"])],
        },
    ],
    "sla_working_days": 20,
    "cost": {"id": "Gratis", "en": "Free"},
    "product": {"id": "Izin", "en": "Permit"},
    "document": {"title": {"id": "Izin"}, "number_format": "IZIN/{year}/{serial:04d}"},
}

CATALOGUE = Catalogue.model_validate(
    {
        "version": "test.1",
        "agencies": [
            {
                "code": code,
                "name": {"id": code, "en": code},
                "timezone": zone,
                "escalation_target": f"kepala-{code}",
                "escalation_contact": {"email": f"kepala@{code}.example.go.id"},
            }
            for code, zone in [
                ("dpmptsp", "Asia/Jakarta"),
                ("dinas-pupr", "Asia/Jakarta"),
                ("dlh", "Asia/Makassar"),
            ]
        ],
        "services": [
            _PERMIT,
            _LETTER,
            {**_LETTER, "code": "paid-letter", "fee": {"amount": 30000, "kind": "pnbp"}},
            {**_PERMIT, "code": "paid-permit", "fee": {"amount": 250000, "kind": "retribusi", "pay_before": "issuing"}},
        ],
    }
)


PERMIT_DATA = {"building_function": "hunian", "floors": 2, "owner_address": "Jl. Melati 7"}


class Flow:
    """Drives workflows of the test catalogue: builds the events routing receives and hands them to the domain."""

    now = MONDAY
    catalogue = CATALOGUE

    def __init__(self, collective_leave: frozenset[date] = frozenset()) -> None:
        self.collective_leave = collective_leave
        counter = itertools.count(1)
        self.planning = Planning(self.calendar_for, lambda: f"task-{next(counter)}")

    def with_collective_leave(self, *days: date) -> Flow:
        """A driver whose calendars also skip ``days`` (the year's cuti bersama)."""
        return Flow(frozenset(days))

    def calendar_for(self, agency: str) -> WorkingCalendar:
        """The agency's calendar, as routing builds it from the catalogue."""
        found = CATALOGUE.agency(agency)
        return WorkingCalendar(found.timezone if found else "Asia/Jakarta", self.collective_leave)

    @staticmethod
    def submitted(
        service_code: str = "permit",
        data: dict[str, Any] | None = None,
        documents: tuple[DocumentRef, ...] = (),
        business: dict[str, str] | None = None,
    ) -> ApplicationSubmitted:
        """An application as intake submits it: by a person, or by ``business`` through Siti, its representative."""
        applicant: dict[str, Any] = {"nik": "3171015506900002", "name": "Siti", "email": "siti@example.id"}
        if business is not None:
            applicant |= {"kind": "business", "business": business}
        return ApplicationSubmitted.model_validate(
            {
                "application_id": str(uuid.uuid4()),
                "tracking_code": "SP-TEST",
                "service_code": service_code,
                "catalogue_version": "test.1",
                "applicant": applicant | {"language": "id"},
                "data": PERMIT_DATA if data is None else data,
                "documents": documents,
                "submitted_at": MONDAY,
            }
        )

    def start(self, service_code: str = "permit", *, now: datetime = MONDAY, **kwargs: Any) -> Workflow:
        """A started workflow (its start events dropped)."""
        return self.start_with_events(service_code, now=now, **kwargs)[0]

    def start_with_events(
        self, service_code: str = "permit", *, now: datetime = MONDAY, **kwargs: Any
    ) -> tuple[Workflow, list[EventPayload]]:
        """A started workflow and its start events."""
        service = CATALOGUE.service(service_code)
        assert service is not None
        return Workflow.start(
            self.submitted(service_code, **kwargs), service, correlation_id="corr-1", planning=self.planning, now=now
        )

    @staticmethod
    def decision(
        workflow: Workflow,
        task: Task,
        decision: Decision = Decision.APPROVED,
        *,
        agency: str | None = None,
        outputs: dict[str, Any] | None = None,
        reason: str | None = None,
        questions: tuple[str, ...] = (),
    ) -> TaskDecided:
        """An agency's decision on ``task`` (by the task's own agency unless ``agency`` says otherwise)."""
        return TaskDecided(
            application_id=workflow.application_id,
            task_id=task.task_id,
            agency=agency or task.agency,
            decision=decision,
            outputs=outputs or {},
            reason=reason,
            questions=questions,
            decided_at=MONDAY,
        )

    def decide(
        self,
        workflow: Workflow,
        task: Task,
        decision: Decision = Decision.APPROVED,
        *,
        topic_agency: str | None = None,
        now: datetime = MONDAY,
        **kwargs: Any,
    ) -> list[EventPayload]:
        """Hand ``workflow`` an agency's decision on ``task``, as it came on that agency's decisions topic."""
        return workflow.decide(
            self.decision(workflow, task, decision, **kwargs),
            decision_event_id="decision-1",
            topic_agency=topic_agency or kwargs.get("agency") or task.agency,
            service=CATALOGUE.service(workflow.service_code),
            planning=self.planning,
            now=now,
        )

    def approve_stage(self, workflow: Workflow, outputs: dict[str, dict[str, Any]] | None = None) -> None:
        """Approve every open task of the current stage (with ``outputs`` by agency)."""
        for open_task in [t for t in workflow.stage_tasks(workflow.current_stage) if t.is_open]:
            self.decide(workflow, open_task, outputs=(outputs or {}).get(open_task.agency))

    def ask(self, workflow: Workflow, task: Task, *questions: str, now: datetime = MONDAY) -> list[EventPayload]:
        """The agency of ``task`` asks the citizen ``questions``."""
        return self.decide(
            workflow, task, Decision.NEEDS_INFORMATION, questions=questions or ("Berapa lantai?",), now=now
        )

    @staticmethod
    def answered(
        workflow: Workflow, task: Task, answers: dict[str, Any], documents: tuple[DocumentRef, ...] = ()
    ) -> ApplicationInformationProvided:
        """The citizen's answer to the request of ``task``."""
        return ApplicationInformationProvided(
            application_id=workflow.application_id,
            task_id=task.task_id,
            agency=task.agency,
            answers=answers,
            documents=documents,
            provided_at=MONDAY,
        )

    def answer(
        self,
        workflow: Workflow,
        task: Task,
        answers: dict[str, Any],
        documents: tuple[DocumentRef, ...] = (),
        *,
        now: datetime = MONDAY,
    ) -> list[EventPayload]:
        """Hand ``workflow`` the citizen's answer to the request of ``task``."""
        return workflow.provide_information(
            self.answered(workflow, task, answers, documents),
            service=CATALOGUE.service(workflow.service_code),
            planning=self.planning,
            now=now,
        )

    def pay(self, workflow: Workflow, *, now: datetime = MONDAY) -> list[EventPayload]:
        """Hand ``workflow`` the confirmation that its fee was paid at ``now``."""
        return workflow.pay(
            paid_at=now, service=CATALOGUE.service(workflow.service_code), planning=self.planning, now=now
        )

    @staticmethod
    def expire(workflow: Workflow, *, now: datetime = MONDAY) -> list[EventPayload]:
        """Hand ``workflow`` the news that its bill expired unpaid at ``now``."""
        return workflow.expire_payment(expired_at=now, now=now)

    @staticmethod
    def types(events: list[EventPayload]) -> list[str]:
        """The event types, in order."""
        return [event.event_type for event in events]

    @staticmethod
    def task_of(workflow: Workflow, agency: str, stage: int | None = None) -> Task:
        """The task of ``agency`` in ``stage`` (the current one unless given)."""
        index = workflow.current_stage if stage is None else stage
        return next(t for t in workflow.stage_tasks(index) if t.agency == agency)

    @staticmethod
    def claimed(workflow: Workflow, task: Task, officer: str = "officer-1", agency: str | None = None) -> TaskClaimed:
        """An officer's claim of ``task``."""
        return TaskClaimed(
            application_id=workflow.application_id,
            task_id=task.task_id,
            agency=agency or task.agency,
            officer=officer,
            claimed_at=MONDAY,
            expires_at=MONDAY,
        )


@pytest.fixture
def flow() -> Flow:
    """A driver of workflows with no collective leave."""
    return Flow()
