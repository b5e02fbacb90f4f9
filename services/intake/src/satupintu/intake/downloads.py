"""Downloading an issued document's signed PDF, with exactly the checks of tracking: the tracking code and the
applicant's NIK (a wrong NIK counts against the tracking code's limit, like answering an agency), or a citizen
signed in whose verified NIK is the application's. Anything else is one answer, "no such document", whichever it
was. Each download is recorded in the audit log as a read of personal data by the citizen."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.clock import Clock, utc_now
from satupintu.common.document_store import LocalDocumentStore
from satupintu.common.outbox import Outbox
from satupintu.intake.citizens import CitizenService, Identified
from satupintu.intake.domain import SOURCE, ApplicationNotFound, DocumentUnavailable, NotTheApplicant, pdf_filename
from satupintu.intake.issued import document_key
from satupintu.intake.storage.repository import IssuedDocumentRepository
from satupintu.intake.tracking import TrackingService

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Download:
    """A signed PDF as the citizen receives it."""

    filename: str
    content: bytes
    revoked: bool


class DownloadService:
    """Hands an issued document's PDF to its applicant only."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        store: LocalDocumentStore,
        *,
        tracking: TrackingService,
        citizens: CitizenService,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._tracking = tracking
        self._citizens = citizens
        self._access = AccessLog(outbox, SOURCE, clock)

    async def by_tracking_code(self, tracking_code: str, nik: str, document_id: str, resource: str) -> Download:
        """The document ``document_id`` of the application ``tracking_code`` when ``nik`` is its applicant's.
        Raises DocumentUnavailable otherwise, and LockedOut past the tracking code's limit of wrong NIKs."""
        try:
            application_id = await self._tracking.check_applicant(
                tracking_code, nik, resource=resource, action="download"
            )
        except (ApplicationNotFound, NotTheApplicant) as refused:
            raise DocumentUnavailable(document_id) from refused
        return await self._download(application_id, document_id, "citizen", resource)

    async def for_citizen(self, citizen: Identified, application_id: str, document_id: str, resource: str) -> Download:
        """The document ``document_id`` of the signed-in citizen's own application ``application_id``. Raises
        DocumentUnavailable otherwise (someone else's application: the refusal is recorded against it)."""
        try:
            await self._citizens.tracking_code(citizen, application_id, resource)
        except ApplicationNotFound as refused:
            raise DocumentUnavailable(document_id) from refused
        return await self._download(application_id, document_id, citizen.actor, resource)

    async def _download(self, application_id: str, document_id: str, actor: str, resource: str) -> Download:
        key = document_key(document_id)
        async with self._sessions() as session, session.begin():
            document = await IssuedDocumentRepository(session).by_id(key) if key else None
            if document is None or document.application_id != application_id:
                raise DocumentUnavailable(document_id)
            content = await self._store.read(document.sha256)
            if content is None:
                _logger.error(
                    "document %s (%s) is recorded but its PDF %s is not in the document store",
                    document.document_id,
                    document.number,
                    document.sha256,
                )
                raise DocumentUnavailable(document_id)
            await self._access.record(
                session, actor, subject_id=application_id, resource=resource, action="download", outcome="granted"
            )
        return Download(pdf_filename(document.number), content, revoked=document.revoked_at is not None)
