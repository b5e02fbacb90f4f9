"""Originals collected at the counter: the mall keeps the issued documents whose catalogue says the holder collects
the original at the counter (``document.issued`` with ``collect_at_counter``), marks them revoked
(``document.revoked``: no longer handed over), and a clerk records the pickup, which publishes ``document.collected``
once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.auth import Principal
from satupintu.common.clock import Clock
from satupintu.common.consumer import UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.outbox import Outbox
from satupintu.contract.documents import DocumentCollected, DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.mall.domain import DocumentAlreadyCollected, DocumentNotAtCounter, DocumentWasRevoked
from satupintu.mall.services import new_event
from satupintu.mall.storage.repository import ApplicationRepository, CounterDocumentRepository
from satupintu.mall.storage.tables import CounterDocument

_COLLECTED_BY = "counter_documents.collected_by"
DocumentState = Literal["waiting", "collected", "revoked"]


@dataclass(frozen=True)
class WaitingDocument:
    """A document at the counter as the clerk sees it (who took it decrypted, once collected)."""

    document_id: str
    application_id: str
    tracking_code: str | None
    number: str
    service_code: str
    agency: str
    issued_at: datetime
    valid_until: date | None
    collected_at: datetime | None
    handed_over_by: str | None
    collected_by: str | None
    collected_by_holder: bool | None
    revoked_at: datetime | None
    revocation_reason: str | None

    @property
    def state(self) -> DocumentState:
        """``waiting``, ``collected`` or ``revoked`` (a revocation after the pickup leaves it ``collected``)."""
        if self.collected_at is not None:
            return "collected"
        return "revoked" if self.revoked_at is not None else "waiting"


@dataclass(frozen=True)
class Pickup:
    """Who takes the original: the name on their identity card, and whether they are the holder."""

    collected_by: str
    collected_by_holder: bool


class PickupService:
    """Keeps the documents waiting at the counter and records their pickups."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, *, cipher: FieldCipher, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._clock = clock

    def _plain(self, document: CounterDocument, tracking_code: str | None) -> WaitingDocument:
        collected_by = document.collected_by_ciphertext
        return WaitingDocument(
            document_id=document.document_id,
            application_id=document.application_id,
            tracking_code=tracking_code,
            number=document.number,
            service_code=document.service_code,
            agency=document.agency,
            issued_at=document.issued_at,
            valid_until=document.valid_until,
            collected_at=document.collected_at,
            handed_over_by=document.handed_over_by,
            collected_by=None if collected_by is None else self._cipher.decrypt(collected_by, _COLLECTED_BY),
            collected_by_holder=document.collected_by_holder,
            revoked_at=document.revoked_at,
            revocation_reason=document.revocation_reason,
        )

    async def on_issued(self, uow: UnitOfWork, event: Event[DocumentIssued]) -> None:
        """Keep a document whose original is collected at the counter (once, however often the issue arrives)."""
        issued = event.payload
        if not issued.collect_at_counter:
            return
        await CounterDocumentRepository(uow.session).add_once(
            CounterDocument(
                document_id=str(issued.document_id),
                application_id=issued.application_id,
                number=issued.number,
                service_code=issued.service_code,
                agency=issued.agency,
                issued_at=issued.issued_at,
                valid_until=issued.valid_until,
            )
        )

    async def on_revoked(self, uow: UnitOfWork, event: Event[DocumentRevoked]) -> None:
        """A revoked document is no longer handed over (one the mall does not keep, not collected here, is not its
        business)."""
        revoked = event.payload
        document = await CounterDocumentRepository(uow.session).get(str(revoked.document_id), for_update=True)
        if document is None or document.revoked_at is not None:
            return
        document.revoked_at, document.revocation_reason = revoked.revoked_at, revoked.reason

    async def waiting(self, agency: str | None = None) -> list[WaitingDocument]:
        """The documents waiting for their holders (of one issuing agency), oldest first."""
        async with self._sessions() as session:
            rows = await CounterDocumentRepository(session).waiting(agency=agency)
        return [self._plain(document, code) for document, code in rows]

    async def find(
        self, *, document_id: str | None = None, number: str | None = None, tracking_code: str | None = None
    ) -> list[WaitingDocument]:
        """The document at the counter with that id, those with that number, or those of the application with that
        tracking code, whatever their state, newest first."""
        async with self._sessions() as session:
            rows = await CounterDocumentRepository(session).find(
                document_id=document_id, number=number, tracking_code=tracking_code
            )
        return [self._plain(document, code) for document, code in rows]

    async def record(self, document_id: str, pickup: Pickup, clerk: Principal) -> WaitingDocument:
        """Record that ``clerk`` handed the original over, and publish ``document.collected`` in the same
        transaction; a document collected already (a double click, a retry) or revoked is refused, nothing published."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = CounterDocumentRepository(session)
            document = await repository.get(document_id, for_update=True)
            if document is None:
                raise DocumentNotAtCounter(document_id)
            if document.collected_at is not None:
                raise DocumentAlreadyCollected(document.number, document.collected_at, document.handed_over_by or "")
            if document.revoked_at is not None:
                raise DocumentWasRevoked(document.number, document.revoked_at)
            document.collected_at, document.handed_over_by = now, clerk.actor()
            document.collected_by_ciphertext = self._cipher.encrypt(pickup.collected_by, _COLLECTED_BY)
            document.collected_by_holder = pickup.collected_by_holder
            await self._outbox.add(
                session,
                new_event(
                    DocumentCollected(
                        document_id=document.document_id,
                        application_id=document.application_id,
                        agency=document.agency,
                        number=document.number,
                        handed_over_by=clerk.actor(),
                        collected_by=pickup.collected_by,
                        collected_by_holder=pickup.collected_by_holder,
                        collected_at=now,
                    ),
                    document.application_id,
                    clerk.actor(),
                ),
            )
            application = await ApplicationRepository(session).get(document.application_id)
        return self._plain(document, application.tracking_code if application else None)
