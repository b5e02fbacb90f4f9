"""Serving documents to officers: only those a task of their agency references; every read and refusal is
recorded against the application the document belongs to."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from satupintu.agency.documents import sniff
from satupintu.agency.domain import DeskError, DocumentUnavailable
from satupintu.agency.services.base import DeskBase, agency_of_officer
from satupintu.agency.storage.repository import TaskRepository
from satupintu.common.auth import Principal
from satupintu.common.document_store import DamagedDocument, UnknownDocumentKey

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentContent:
    """A document's bytes and how to serve them."""

    sha256: str
    name: str
    media_type: str
    extension: str | None
    content: bytes


class DocumentDamaged(DeskError):
    """The stored document does not authenticate or does not match its hash."""

    status = 500
    problem_type = "document-damaged"

    def __init__(self) -> None:
        super().__init__("The stored document is damaged; tell the operators.")


class DocumentKeyMissing(DeskError):
    """The stored document is sealed with a documents key the desk does not hold."""

    status = 500
    problem_type = "document-key-missing"

    def __init__(self) -> None:
        super().__init__(
            "The document is sealed with a key this desk does not have yet; tell the operators "
            "(AGENCY_DOCUMENT_KEYS must hold every key intake seals documents with)."
        )


class DocumentReads(DeskBase):
    """Serves the documents a task of the officer's agency references."""

    async def document(self, officer: Principal, sha256: str) -> DocumentContent:
        """A document a task of the officer's agency references; the read (or the refusal) is recorded."""
        agency = agency_of_officer(officer)
        async with self._sessions() as session, session.begin():
            row = await TaskRepository(session).task_with_document(agency, sha256)
            if row is None:
                await self._record_refusal(
                    session,
                    officer.actor(),
                    "read",
                    f"no task of agency {agency} references the document",
                    document=sha256,
                )
            else:
                await self.access.record(
                    session,
                    officer.actor(),
                    subject_id=row.application_id,
                    resource=f"document/{sha256}",
                    action="read",
                    outcome="granted",
                )
        if row is None:
            raise DocumentUnavailable
        try:
            content = await self._documents.read(sha256)
        except UnknownDocumentKey as unknown:
            _logger.error("%s", unknown)
            raise DocumentKeyMissing from unknown
        except DamagedDocument as damaged:
            _logger.error("%s", damaged)
            raise DocumentDamaged from damaged
        if content is None:
            _logger.warning("document %s of task %s is not in the document store", sha256, row.task_id)
            raise DocumentUnavailable
        media_type, extension = sniff(content)
        name = next((d["name"] for d in row.documents if d["sha256"] == sha256), "document")
        return DocumentContent(sha256, name, media_type, extension, content)
