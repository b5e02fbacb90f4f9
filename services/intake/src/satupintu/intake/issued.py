"""The documents agencies issue, as intake keeps them for their public verification page and the tracking page:
``document.issued`` and ``document.revoked`` from the ``applications`` topic and ``document.collected`` from the
``mall`` topic recorded once each (inbox; a repeat changes nothing; a collection that arrives before its issue is
kept and shows once the issue arrives), the verification itself (valid, revoked or unknown, with only what a
verifier may see), and the documents as an application's tracking page lists them."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import UnitOfWork
from satupintu.contract.documents import DocumentCollected, DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.intake.domain import UnknownDocument
from satupintu.intake.schemas import DocumentCollection, DocumentVerification, IssuedDocumentStatus
from satupintu.intake.storage.repository import IssuedDocumentRepository
from satupintu.intake.storage.tables import DocumentCollectionRecord, IssuedDocumentRecord

VALIDITY_TIMEZONE = ZoneInfo("Asia/Jakarta")
"""Where a document's last valid day is a day: it expires when that day has ended in Jakarta."""
_logger = logging.getLogger(__name__)


class IssuedDocuments:
    """Records what agencies issue and revoke, for the verification page."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    async def on_issued(self, uow: UnitOfWork, event: Event[DocumentIssued]) -> None:
        """An agency issued a document: from now on its verification page says valid."""
        issued = event.payload
        recorded = await IssuedDocumentRepository(uow.session).record_issue(
            IssuedDocumentRecord(
                document_id=str(issued.document_id),
                application_id=issued.application_id,
                service_code=issued.service_code,
                agency=issued.agency,
                number=issued.number,
                issued_at=issued.issued_at,
                valid_until=issued.valid_until,
                sha256=issued.sha256,
                size_bytes=issued.size_bytes,
                pdf_name=issued.pdf.name,
                holder_initials=issued.holder_initials,
                holder_nik_masked=issued.holder_nik_masked,
                officer=issued.officer,
                collect_at_counter=issued.collect_at_counter,
                recorded_at=self._clock(),
            )
        )
        if not recorded:
            _logger.info("document %s was recorded before; its issue is kept as it was", issued.document_id)

    async def on_revoked(self, uow: UnitOfWork, event: Event[DocumentRevoked]) -> None:
        """The issuing agency revoked a document: its verification page says revoked, with the reason."""
        revoked = event.payload
        if not await IssuedDocumentRepository(uow.session).record_revocation(
            str(revoked.document_id), revoked.reason, revoked.revoked_at
        ):
            _logger.warning(
                "revocation of document %s changed nothing: it is not recorded here, or was revoked before",
                revoked.document_id,
            )

    async def on_collected(self, uow: UnitOfWork, event: Event[DocumentCollected]) -> None:
        """The original was collected at the mall's counter: the tracking page says when, and whether by the holder
        or a representative (the name of who took it is not kept). Recorded whether or not the issue has arrived."""
        collected = event.payload
        recorded = await IssuedDocumentRepository(uow.session).record_collection(
            DocumentCollectionRecord(
                document_id=str(collected.document_id),
                application_id=collected.application_id,
                number=collected.number,
                handed_over_by=collected.handed_over_by,
                collected_by_holder=collected.collected_by_holder,
                collected_at=collected.collected_at,
                recorded_at=self._clock(),
            )
        )
        if not recorded:
            _logger.info("the collection of document %s was recorded before; the first stands", collected.document_id)


async def documents_of(
    session: AsyncSession, application_id: str, catalogue: Catalogue, now: datetime
) -> list[IssuedDocumentStatus]:
    """The documents issued for the application as its tracking page shows them, each with its collection at the
    counter once recorded."""
    repository = IssuedDocumentRepository(session)
    issued = await repository.of_application(application_id)
    if not issued:
        return []
    collections = await repository.collections(application_id)
    shown: list[IssuedDocumentStatus] = []
    for document in issued:
        service = catalogue.service(document.service_code)
        template = service.document if service else None
        title = (
            template.title.model_dump(exclude_none=True)
            if template
            else (service.name.model_dump() if service else {"id": document.pdf_name})
        )
        collection = collections.get(document.document_id)
        shown.append(
            IssuedDocumentStatus(
                document_id=document.document_id,
                title=title,
                agency=document.agency,
                number=document.number,
                issued_at=document.issued_at,
                valid_until=document.valid_until,
                status="revoked"
                if document.revoked_at is not None
                else ("expired" if is_expired(document.valid_until, now) else "valid"),
                collect_at_counter=document.collect_at_counter,
                collected=DocumentCollection(
                    collected_at=collection.collected_at, by_holder=collection.collected_by_holder
                )
                if collection
                else None,
            )
        )
    return shown


def document_key(document_id: str) -> str | None:
    """The stored form of a document id as anyone may type or scan it (any UUID spelling); None when it is none."""
    try:
        return str(uuid.UUID(document_id.strip()))
    except ValueError:
        return None


def is_expired(valid_until: date | None, now: datetime) -> bool:
    """Whether a document valid until the end of ``valid_until`` (a day in Jakarta) has expired at ``now``."""
    return valid_until is not None and now.astimezone(VALIDITY_TIMEZONE).date() > valid_until


class VerificationService:
    """Answers whether a document is one an agency issued here, and whether it still stands."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue, clock: Clock = utc_now
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._clock = clock

    async def verify(self, document_id: str) -> DocumentVerification:
        """What a verifier may see of the document ``document_id``; raises :class:`UnknownDocument` for an id no
        issued document has, or one that is not an id."""
        key = document_key(document_id)
        if key is None:
            raise UnknownDocument(document_id)
        async with self._sessions() as session:
            document = await IssuedDocumentRepository(session).by_id(key)
        if document is None:
            raise UnknownDocument(document_id)
        agency = self._catalogue.agency(document.agency)
        return DocumentVerification(
            document_id=document.document_id,
            status="valid" if document.revoked_at is None else "revoked",
            expired=is_expired(document.valid_until, self._clock()),
            agency=document.agency,
            agency_name=agency.name.model_dump() if agency else {"id": document.agency, "en": document.agency},
            number=document.number,
            issued_at=document.issued_at,
            valid_until=document.valid_until,
            sha256=document.sha256,
            holder_initials=document.holder_initials,
            holder_nik=document.holder_nik_masked,
            revoked_at=document.revoked_at,
            revocation_reason=document.revocation_reason,
        )
