"""Sealing the personal form fields of workflows stored before routing encrypted them: each run seals a batch of
such rows with the current data key, one transaction, rows claimed with SKIP LOCKED (safe with several instances).
New and changed workflows are sealed as they are written (:func:`satupintu.routing.services.store_form_data`); this
finds the rest, and rows an instance of an older version writes during a rolling upgrade."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.crypto import FieldCipher
from satupintu.common.runtime import run_periodically
from satupintu.routing.services import form_data, personal_field_names, store_form_data
from satupintu.routing.storage.repository import WorkflowRepository

_logger = logging.getLogger(__name__)


class PersonalDataSealing:
    """Seals, in batches, the personal form fields workflows still hold in clear."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        cipher: FieldCipher,
        *,
        interval: float = 3600.0,
        batch_size: int = 200,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._cipher = cipher
        self._interval = interval
        self._batch_size = batch_size

    async def run(self) -> None:
        """Seal every ``interval`` seconds (at once again while a run sealed a full batch) until cancelled."""
        await run_periodically("personal data sealing", self.seal_once, self._interval, self._batch_size)

    async def seal_once(self) -> int:
        """Seal up to a batch of workflows holding personal fields in clear; the number sealed."""
        sealed = 0
        async with self._sessions() as session, session.begin():
            repository = WorkflowRepository(session)
            for service in self._catalogue.services:
                names = sorted(personal_field_names(service))
                if not names or sealed >= self._batch_size:
                    continue
                for workflow in await repository.workflows_with_clear_fields(
                    service.code, names, self._batch_size - sealed
                ):
                    store_form_data(workflow, service, form_data(workflow, self._cipher), self._cipher)
                    sealed += 1
        if sealed:
            _logger.info("sealed the personal form fields of %d workflows", sealed)
        return sealed
