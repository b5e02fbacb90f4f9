"""Issuing and revoking documents (decision 0027). Routing's acceptance of the issuing agency's approval
(``task.decision_accepted``) issues the service's document in the transaction that closes the task: the agency's next
serial of the year, the PDF rendered, signed and written to the document store, the row, and ``document.issued`` in
the outbox, all or nothing; a redelivered acceptance finds the task closed (and the row there) and issues nothing.
An officer of the issuing agency revokes a document with a reason: ``document.revoked``, at once."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from satupintu.agency.domain import DeskError, FieldProblem, InvalidRequest
from satupintu.agency.issuing.issuer import Holder, Issue, issuing_template
from satupintu.agency.issuing.rendering import UnprintableText
from satupintu.agency.services.base import SOURCE, DeskBase, agency_of_officer, personal_context
from satupintu.agency.storage.issued import IssuedDocumentRepository
from satupintu.agency.storage.tables import DeskTask, IssuedDocument
from satupintu.common.auth import Principal
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.consuming import TransientError
from satupintu.common.key_ring import KeyNotHeld
from satupintu.contract.base import Decision, DocumentRef
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskDecisionAccepted

MAX_REVOCATION_REASON = 1000
_logger = logging.getLogger(__name__)


class IssuedDocumentNotFound(DeskError):
    """No document with that id issued by the caller's agency (also the answer for another agency's)."""

    status = 404
    problem_type = "issued-document-not-found"

    def __init__(self, document_id: str) -> None:
        super().__init__(f"Your agency issued no document {document_id}.")


class AlreadyRevoked(DeskError):
    """The document was revoked before."""

    problem_type = "document-already-revoked"

    def __init__(self, revoked_at: datetime | None) -> None:
        when = f" on {revoked_at.isoformat()}" if revoked_at else ""
        super().__init__(f"The document was already revoked{when}.")


class InvalidRevocation(InvalidRequest):
    """A revocation without a usable reason."""

    problem_type = "invalid-revocation"

    def __init__(self, message: str) -> None:
        super().__init__([FieldProblem("reason", message)], "The revocation is not valid")


@dataclass(frozen=True)
class IssuedView:
    """An issued document as the issuing agency's officers see it."""

    document_id: str
    application_id: str
    service_code: str
    number: str
    issued_at: datetime
    valid_until: date | None
    officer: str
    sha256: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: str | None

    @classmethod
    def of(cls, row: IssuedDocument) -> IssuedView:
        """The view of a row."""
        return cls(
            document_id=row.document_id,
            application_id=row.application_id,
            service_code=row.service_code,
            number=row.number,
            issued_at=row.issued_at,
            valid_until=row.valid_until,
            officer=row.officer,
            sha256=row.sha256,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            revocation_reason=row.revocation_reason,
        )


class DocumentIssuance(DeskBase):
    """Issues the document an accepted approval calls for, and revokes issued ones."""

    async def _issue_if_due(
        self,
        uow: UnitOfWork,
        task: DeskTask,
        event: Event[TaskDecisionAccepted],
        officer: str | None,
        officer_name: str | None = None,
    ) -> None:
        """Issue the service's document when ``event`` accepts the approval of the task that issues it."""
        accepted = event.payload
        if accepted.decision is not Decision.APPROVED or self._issuer is None:
            return
        service = self._catalogue.service(task.service_code)
        template = issuing_template(service, task.agency, task.stage_index)
        if service is None or template is None:
            return
        repository = IssuedDocumentRepository(uow.session)
        if await repository.for_application(task.application_id, service.code) is not None:
            return  # issued by an earlier acceptance
        holder = await self._holder(task, template.holder_field)
        if holder is None:
            _logger.warning(
                "application %s: no document issued, its task %s does not say whom it is for (assigned before "
                "routing passed the holder)",
                task.application_id,
                task.task_id,
            )
            return
        agency = self._catalogue.agency(task.agency)
        issue = Issue(
            service=service,
            template=template,
            agency=task.agency,
            application_id=task.application_id,
            outputs=accepted.outputs,
            previous_outputs=task.previous_outputs,
            holder=holder,
            officer=officer or f"system:{task.agency}",
            officer_name=officer_name,
            issued_at=self._clock(),
            timezone=agency.timezone if agency else "Asia/Jakarta",
        )
        year = issue.issued_on.year
        serial = await repository.next_serial(task.agency, year)
        number = template.number(agency=task.agency, year=year, serial=serial)
        try:
            signed = await self._issuer.sign(issue, number)
        except UnprintableText as unprintable:
            problem = f"document of application {task.application_id} cannot be printed: {unprintable}"
            raise RejectEvent(problem) from None
        await self._documents.put(signed.sha256, signed.pdf)
        repository.add(
            IssuedDocument(
                document_id=signed.document_id,
                application_id=task.application_id,
                service_code=service.code,
                agency=task.agency,
                task_id=task.task_id,
                number=number,
                year=year,
                serial=serial,
                sha256=signed.sha256,
                size_bytes=len(signed.pdf),
                officer=issue.officer,
                issued_at=issue.issued_at,
                valid_until=issue.valid_until,
            )
        )
        issued = DocumentIssued(
            document_id=signed.document_id,
            application_id=task.application_id,
            agency=task.agency,
            service_code=service.code,
            number=number,
            issued_at=issue.issued_at,
            valid_until=issue.valid_until,
            sha256=signed.sha256,
            size_bytes=len(signed.pdf),
            pdf=DocumentRef(name=service.code, sha256=signed.sha256),
            holder_initials=holder.initials,
            holder_nik_masked=holder.masked_nik,
            officer=issue.officer,
            collect_at_counter=template.collect_at_counter,
        )
        await uow.emit(event.caused(issued, source=SOURCE, actor=issue.officer))
        _logger.info("application %s: issued %s (document %s)", task.application_id, number, signed.document_id)

    async def _holder(self, task: DeskTask, holder_field: str | None) -> Holder | None:
        """Whom the task's document is for, opened with the citizen's key; :class:`TransientError` while the key has
        not arrived (the acceptance is retried, then parked)."""
        personal: dict[str, Any] = json.loads(self._cipher.decrypt(task.personal_data, personal_context(task.task_id)))
        sealed = personal.get("holder")
        if not sealed:
            return None
        try:
            name = await self._open(task, sealed["name"], "applicant/name")
            nik = await self._open(task, sealed["nik"], "applicant/nik")
            if holder_field is not None and personal["fields"].get(holder_field):
                name = await self._open(task, personal["fields"][holder_field], holder_field)
        except KeyNotHeld as missing:
            raise TransientError(f"cannot issue the document of application {task.application_id}: {missing}") from None
        business = sealed.get("business")
        if business:  # a business's document names the business, not the representative who applied for it
            return Holder(name=str(business["name"]), nik=str(nik), nib=str(business["nib"]))
        return Holder(name=str(name), nik=str(nik))

    async def _open(self, task: DeskTask, value: Any, field: str) -> Any:
        if self._keys is None:
            return value
        return await self._keys.open(value, subject=task.application_id, field=field)

    async def issued_documents(self, officer: Principal) -> list[IssuedView]:
        """The officer's agency's latest issued documents, newest first."""
        async with self._sessions() as session:
            rows = await IssuedDocumentRepository(session).of_agency(agency_of_officer(officer))
        return [IssuedView.of(row) for row in rows]

    async def revoke(self, officer: Principal, document_id: str, reason: str) -> IssuedView:
        """Revoke a document the officer's agency issued: ``document.revoked`` with the reason, which the public
        verification page shows from then on."""
        reason = reason.strip()
        if not reason:
            raise InvalidRevocation("say why the document is revoked; the public verification page shows it")
        if len(reason) > MAX_REVOCATION_REASON:
            raise InvalidRevocation(f"at most {MAX_REVOCATION_REASON} characters")
        agency = agency_of_officer(officer)
        now = self._clock()
        refusal: DeskError | None = None
        async with self._sessions() as session, session.begin():
            repository = IssuedDocumentRepository(session)
            row = await repository.get(document_id)
            if row is None or row.agency != agency:
                refusal = IssuedDocumentNotFound(document_id)
                if row is not None:
                    await self.access.record(
                        session,
                        officer.actor(),
                        subject_id=row.application_id,
                        resource=f"issued-document/{document_id}",
                        action="revoke",
                        outcome="denied",
                        reason=f"document issued by another agency than {agency}",
                    )
            elif not await repository.revoke(document_id, agency, reason=reason, actor=officer.actor(), at=now):
                refusal = AlreadyRevoked(row.revoked_at)
            else:
                await self._outbox.add(
                    session,
                    Event(
                        payload=DocumentRevoked(
                            document_id=row.document_id,
                            application_id=row.application_id,
                            agency=agency,
                            reason=reason,
                            revoked_at=now,
                        ),
                        source=SOURCE,
                        subject=row.application_id,
                        actor=officer.actor(),
                    ),
                )
                await session.refresh(row)
        if refusal is not None or row is None:
            raise refusal or IssuedDocumentNotFound(document_id)
        return IssuedView.of(row)
