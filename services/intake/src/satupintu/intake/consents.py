"""The mall's consent ledger, as intake needs it: the citizen's grants and withdrawals, folded with the one rule of
``satupintu.common.consent`` (the ledger folds the same events with it). A field is reused for an agency only
under a grant; a withdrawal holds from the next application on. The same subscription to the ``mall`` topic records
the originals collected at the counter (``document.collected``) for the tracking page."""

from __future__ import annotations

import logging
from typing import Any

from satupintu.common.consent import ConsentBook, ConsentDecision
from satupintu.common.consumer import UnitOfWork
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.documents import DocumentCollected
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ConsentGranted, ConsentWithdrawn
from satupintu.contract.topics import Topic
from satupintu.intake.issued import IssuedDocuments
from satupintu.intake.storage.repository import ConsentRepository, StatusRepository

_logger = logging.getLogger(__name__)


class ConsentProjection:
    """Applies grants and withdrawals to the citizen found through the application named in the event."""

    async def _apply(self, uow: UnitOfWork, event: Event[Any], *, withdrawn: bool) -> None:
        payload = event.payload
        application = await StatusRepository(uow.session).application(payload.application_id)
        if application is None:
            _logger.info("ignoring %s for an application intake does not know", event.type)
            return
        at = payload.withdrawn_at if withdrawn else payload.granted_at
        repository = ConsentRepository(uow.session)
        book = ConsentBook(await repository.lines(application.nik_hash))
        await repository.store(application.nik_hash, book.apply(ConsentDecision.of(payload)), at)

    async def on_granted(self, uow: UnitOfWork, event: Event[ConsentGranted]) -> None:
        """Consent given (again): the fields may be reused for the agency (or every agency)."""
        await self._apply(uow, event, withdrawn=False)

    async def on_withdrawn(self, uow: UnitOfWork, event: Event[ConsentWithdrawn]) -> None:
        """Consent withdrawn: the fields are not reused for the agency (or any) from the next application on."""
        await self._apply(uow, event, withdrawn=True)


def subscribe(runtime: ServiceRuntime, projection: ConsentProjection, issued: IssuedDocuments) -> None:
    """Consume the consent ledger's grants and withdrawals, and the counter's collections of issued documents, from
    the ``mall`` topic (one consumer group: the Kafka ACLs name it)."""
    runtime.consume(
        Topic.MALL.name_for(),
        name="intake-consent",
        handlers={
            ConsentGranted: projection.on_granted,
            ConsentWithdrawn: projection.on_withdrawn,
            DocumentCollected: issued.on_collected,
        },
    )
