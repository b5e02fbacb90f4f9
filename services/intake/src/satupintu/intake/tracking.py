"""The citizen's side of an application: its status page and answering an agency's question."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.identity import public_nik
from satupintu.common.lockout import Lockout
from satupintu.common.outbox import Outbox
from satupintu.common.sealing import seal_fields
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import DocumentRef, TaskState
from satupintu.contract.envelope import Event
from satupintu.intake.bills import bill_of, qris_png
from satupintu.intake.citizen_keys import CitizenKeys, readers_of
from satupintu.intake.domain import (
    SOURCE,
    ApplicationNotFound,
    FieldError,
    InformationAlreadyProvided,
    InvalidApplication,
    NoInformationRequested,
    NoOpenBill,
    NotTheApplicant,
)
from satupintu.intake.forms import partial_form_model, validated_values
from satupintu.intake.issued import documents_of
from satupintu.intake.schemas import (
    ApplicationStatus,
    InformationAccepted,
    InformationAnswer,
    TaskStatus,
    TimelineItem,
)
from satupintu.intake.services import DocumentCatalog, refer_to_documents
from satupintu.intake.storage.repository import ApplicationRepository, StatusRepository
from satupintu.intake.storage.tables import ApplicationRecord

PUBLIC_DETAIL = frozenset(
    {"stage_index", "stage_name", "agencies", "state", "questions", "outputs", "reason", "due_at"}
)
"""What a timeline entry's detail may show the public: never an internal id (a task's, the application's)."""


def public_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a timeline entry's detail a citizen may see (entries recorded before kept task ids too)."""
    return {key: value for key, value in detail.items() if key in PUBLIC_DETAIL}


class TrackingService:
    """Status pages and answers to agencies' questions."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        catalogue: Catalogue,
        documents: DocumentCatalog,
        cipher: FieldCipher,
        hasher: KeyedHasher,
        keys: CitizenKeys,
        wrong_niks: Lockout,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._documents = documents
        self._cipher = cipher
        self._hasher = hasher
        self._wrong_niks = wrong_niks
        self._access = AccessLog(outbox, SOURCE, clock)
        self._clock = clock

    async def status(self, tracking_code: str) -> ApplicationStatus:
        """The application's state, tasks and timeline."""
        async with self._sessions() as session:
            application = await ApplicationRepository(session).by_tracking_code(tracking_code)
            if application is None:
                raise ApplicationNotFound(tracking_code)
            status = StatusRepository(session)
            tasks = await status.tasks(application.id)
            timeline = await status.timeline(application.id)
            documents = await documents_of(session, application.id, self._catalogue, self._clock())
            bill = await bill_of(session, application.id, application.tracking_code, self._catalogue)
        service = self._catalogue.service(application.service_code)
        return ApplicationStatus(
            tracking_code=application.tracking_code,
            service_code=application.service_code,
            service_name=service.name.model_dump() if service else {"id": application.service_code, "en": ""},
            status=application.status,
            applicant_nik=public_nik(application.nik_masked),
            applicant_initials=application.name_initials,
            business_name=application.business_name,
            submitted_at=application.submitted_at,
            updated_at=application.updated_at,
            due_at=application.due_at,
            sla_breached=application.sla_breached,
            current_stage=application.current_stage,
            stage_count=application.stage_count,
            tasks=[
                TaskStatus(
                    agency=task.agency,
                    agency_name=self._agency_name(task.agency),
                    stage_index=task.stage_index,
                    state=task.state,
                    due_at=task.due_at,
                    questions=task.questions
                    if task.state == TaskState.INFORMATION_REQUESTED and task.information_answered_at is None
                    else [],
                )
                for task in tasks
            ],
            outputs=application.outputs,
            reason=application.outcome_reason,
            timeline=[
                TimelineItem(at=entry.at, kind=entry.kind, agency=entry.agency, detail=public_detail(entry.detail))
                for entry in timeline
            ],
            documents=documents,
            bill=bill,
        )

    async def bill_qr_code(self, tracking_code: str) -> bytes:
        """The QRIS code of the application's bill as a PNG, while the bill is still to pay: ApplicationNotFound
        for an unknown code, NoOpenBill when it has no bill or its bill is paid, expired or withdrawn."""
        async with self._sessions() as session:
            application = await ApplicationRepository(session).by_tracking_code(tracking_code)
            if application is None:
                raise ApplicationNotFound(tracking_code)
            bill = await bill_of(session, application.id, application.tracking_code, self._catalogue)
        if bill is None or bill.status != "awaiting_payment":
            raise NoOpenBill(tracking_code)
        return qris_png(bill.qris)

    def _agency_name(self, code: str) -> dict[str, str]:
        agency = self._catalogue.agency(code)
        return agency.name.model_dump() if agency else {"id": code, "en": code}

    async def provide_information(self, tracking_code: str, answer: InformationAnswer) -> InformationAccepted:
        """Accept the applicant's answer to an open question and pass it on to the agency, once. Raises
        LockedOut when the tracking code had too many wrong NIKs (nothing is checked then)."""
        await self.check_applicant(
            tracking_code, answer.nik, resource="POST /applications/{tracking_code}/information", action="answer"
        )
        now = self._clock()
        async with self._sessions() as session, session.begin():
            application = await ApplicationRepository(session).by_tracking_code(tracking_code, for_update=True)
            if application is None:
                raise ApplicationNotFound(tracking_code)
            if not hmac.compare_digest(self._hasher.hash(answer.nik), application.nik_hash):
                raise NotTheApplicant(tracking_code)
            status = StatusRepository(session)
            asked = [t for t in await status.tasks(application.id) if t.state == TaskState.INFORMATION_REQUESTED]
            if answer.agency is not None:
                asked = [task for task in asked if task.agency == answer.agency]
            if answer.task_id is not None:
                asked = [task for task in asked if task.task_id == answer.task_id]
            open_questions = [task for task in asked if task.information_answered_at is None]
            if not open_questions:
                if asked:
                    raise InformationAlreadyProvided(tracking_code)
                raise NoInformationRequested(tracking_code)
            task = open_questions[0]
            changes = self._validated_answers(application, answer)
            await self._check_documents(application, answer)
            await refer_to_documents(self._documents, session, answer.documents, now)
            self._apply(application, changes, answer, now)
            task.information_answered_at = now
            answers: dict[str, Any] = dict(changes)
            if answer.message:
                answers["message"] = answer.message
            service = self._catalogue.service(application.service_code)
            key = await self._keys.shared_key(
                session, application.nik_hash, readers_of(service) if service else set(), now
            )
            await self._outbox.add(
                session,
                Event(
                    payload=ApplicationInformationProvided(
                        application_id=application.id,
                        task_id=task.task_id,
                        agency=task.agency,
                        answers=seal_fields(answers, set(answers), key, subject=application.id),
                        documents=tuple(DocumentRef(name=d.name, sha256=d.sha256) for d in answer.documents),
                        provided_at=now,
                    ),
                    source=SOURCE,
                    subject=application.id,
                    actor="citizen",
                ),
            )
        return InformationAccepted(
            tracking_code=tracking_code, agency=task.agency, status="information_provided", provided_at=now
        )

    async def check_applicant(self, tracking_code: str, nik: str, *, resource: str, action: str) -> str:
        """The application's id when ``nik`` is its applicant's, counting a wrong one against the tracking code (the
        same limit as the mall's consent ledger, for answering and downloading alike): ApplicationNotFound for an
        unknown code, NotTheApplicant for a wrong NIK; past the limit, LockedOut, and the lock is recorded in the
        audit log against ``action`` on ``resource``."""
        async with self._sessions() as session, session.begin():
            application = await ApplicationRepository(session).by_tracking_code(tracking_code)
            if application is None:
                raise ApplicationNotFound(tracking_code)
            attempt = await self._wrong_niks.attempt(tracking_code)
            if hmac.compare_digest(self._hasher.hash(nik), application.nik_hash):
                await attempt.succeeded()
                return application.id
            if attempt.failed():
                await self._access.record(
                    session,
                    "citizen",
                    subject_id=application.id,
                    resource=resource,
                    action=action,
                    outcome="denied",
                    reason="locked: too many wrong NIKs for this tracking code",
                )
        raise NotTheApplicant(tracking_code)

    def _validated_answers(self, application: ApplicationRecord, answer: InformationAnswer) -> dict[str, Any]:
        service = self._catalogue.service(application.service_code)
        if service is None:
            raise InvalidApplication([FieldError("tracking_code", "the application's service no longer exists")])
        if not answer.answers and not answer.message and not answer.documents:
            raise InvalidApplication([FieldError("answers", "give an answer, a message or a document", "missing")])
        return validated_values(partial_form_model(service), answer.answers, under="answers")

    async def _check_documents(self, application: ApplicationRecord, answer: InformationAnswer) -> None:
        if not answer.documents:
            return
        service = self._catalogue.service(application.service_code)
        names = {document.name for document in service.documents} if service else set()
        stored = await self._documents.describe([document.sha256 for document in answer.documents])
        errors = [
            FieldError(f"documents/{index}/name", f"{application.service_code} asks for no document {document.name!r}")
            for index, document in enumerate(answer.documents)
            if document.name not in names
        ] + [
            FieldError(f"documents/{index}/sha256", "no uploaded document has this hash", "unknown_document")
            for index, document in enumerate(answer.documents)
            if document.sha256 not in stored
        ]
        if errors:
            raise InvalidApplication(errors)

    def _apply(
        self, application: ApplicationRecord, changes: dict[str, Any], answer: InformationAnswer, now: datetime
    ) -> None:
        service = self._catalogue.service(application.service_code)
        personal_names = {field.name for field in service.fields if field.personal} if service else set()
        application.data = {**application.data, **{k: v for k, v in changes.items() if k not in personal_names}}
        personal_changes = {k: v for k, v in changes.items() if k in personal_names}
        if personal_changes:
            context = "applications.personal_data"
            current = (
                json.loads(self._cipher.decrypt(application.personal_data_ciphertext, context))
                if application.personal_data_ciphertext
                else {}
            )
            application.personal_data_ciphertext = self._cipher.encrypt(
                json.dumps({**current, **personal_changes}, ensure_ascii=False), context
            )
        application.documents = [*application.documents, *(d.model_dump() for d in answer.documents)]
        application.updated_at = now
