"""Uploaded documents: checked by content, sealed and stored once by their sha256, referenced by that hash in events,
re-sealed under the current documents key, and deleted once no application refers to them for long enough."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import Counter
from sqlalchemy import Column, DateTime, Index, delete, exists, func, or_, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from starlette.datastructures import UploadFile

from satupintu.common.clock import Clock, utc_now
from satupintu.common.document_store import DocumentUnreadable, Resealed
from satupintu.common.web.uploads import UploadTooLarge, read_upload
from satupintu.intake.storage.repository import IssuedDocumentRepository
from satupintu.intake.storage.tables import ApplicationRecord

ACCEPTED_MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png")

ORIGINAL_NAME_MAX_LENGTH = 255

# Media types are told by these leading bytes alone; a name or a declared type never decides.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)

# Names some clients still send for the accepted types (older browsers, some scanners' software).
_DECLARED_ALIASES = {
    "application/x-pdf": "application/pdf",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
}

# Declared types that say nothing about the content: clients send them when they do not know (curl, some apps).
_UNINFORMATIVE_DECLARED_TYPES = frozenset({"", "application/octet-stream"})

_logger = logging.getLogger(__name__)


def sniff_media_type(head: bytes) -> str | None:
    """The accepted media type that ``head`` (the first bytes of a file) starts with, or None for anything else."""
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None


def clean_file_name(name: str) -> str:
    """A client's file name made safe to keep and show: control and format characters removed, trimmed, and cut to
    255 characters."""
    # Cf covers the bidirectional overrides (U+202E) used to disguise "exe.pdf" as "fdp.exe".
    kept = "".join(char for char in name if unicodedata.category(char) not in {"Cc", "Cf"})
    return kept.strip()[:ORIGINAL_NAME_MAX_LENGTH]


def sha256_hex(content: bytes) -> str:
    """The lowercase hex sha256 of ``content``: a document's address."""
    return hashlib.sha256(content).hexdigest()


class DocumentTooLarge(UploadTooLarge):
    """The document is larger than the service accepts (``max_bytes``)."""


class UnsupportedDocumentType(Exception):
    """The document's content is not of an accepted media type, or is not the type it was declared as."""

    def __init__(self, media_type: str | None, declared_type: str | None = None) -> None:
        accepted = ", ".join(ACCEPTED_MEDIA_TYPES)
        if media_type is None:
            message = f"The file's content is not of an accepted type; accepted are {accepted}."
        else:
            message = (
                f"The file was sent as {declared_type} but its content is {media_type}; "
                f"send it with its true type (accepted are {accepted})."
            )
        super().__init__(message)
        self.media_type = media_type
        self.declared_type = declared_type


class DocumentTypeNotAsked(Exception):
    """The document's content is of an accepted type, but not of one the requirement it is for asks for."""

    def __init__(self, media_type: str, asked: Collection[str]) -> None:
        super().__init__(f"The file's content is {media_type}; this document must be {', '.join(asked)}.")
        self.media_type = media_type


class EmptyDocument(Exception):
    """The document has no content."""

    def __init__(self) -> None:
        super().__init__("The file is empty; choose the file again and upload it.")


class DocumentStore(Protocol):
    """Where documents' bytes live, sealed, addressed by the SHA-256 of their plaintext (local disk now, object
    storage later): :class:`satupintu.common.document_store.LocalDocumentStore`."""

    async def put(self, sha256: str, content: bytes) -> str:
        """Seal ``content`` with the current key and store it under ``sha256``; the key's id."""
        ...

    async def read(self, sha256: str) -> bytes | None:
        """The plaintext stored under ``sha256``; None when there is none."""
        ...

    async def reseal(self, sha256: str) -> Resealed:
        """Seal the stored document with the current key unless it is already."""
        ...

    async def delete(self, sha256: str) -> bool:
        """Remove the stored document; False when there was none."""
        ...


class DocumentRecord(SQLModel, table=True):
    """A stored document: what it is, as its content showed; its bytes are sealed in the document store under its
    hash."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_used_at", "used_at"),)

    sha256: str = Field(primary_key=True, description="The lowercase hex sha256 of the content: its address.")
    media_type: str = Field(description="The media type its content showed (application/pdf, image/jpeg, image/png).")
    size_bytes: int = Field(description="The size of the content in bytes.")
    original_name: str = Field(
        max_length=ORIGINAL_NAME_MAX_LENGTH,
        description="The file name it was first uploaded with, without control characters; shown, never trusted.",
    )
    uploaded_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="When it was first uploaded."
    )
    used_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
        description=(
            "When it was last uploaded, or referred to by an application or an answer; unreferenced, it is deleted "
            "once this is older than INTAKE_UNREFERENCED_DOCUMENT_DAYS."
        ),
    )
    key_id: str | None = Field(
        default=None,
        description="The documents key its file is sealed with; null for a file stored before documents were sealed.",
    )


class DocumentRepository:
    """Every query intake makes of the ``documents`` table, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_upload(self, record: DocumentRecord) -> None:
        """Record an upload, or note a re-upload of the same bytes as a use; the row stays locked until the caller
        commits."""
        values = record.model_dump()
        await self._session.execute(
            insert(DocumentRecord)
            .values(**values)
            .on_conflict_do_update(index_elements=["sha256"], set_={"used_at": record.used_at})
        )

    async def set_key(self, sha256: str, key_id: str) -> None:
        """Record the key the document's file is now sealed with."""
        await self._session.execute(
            update(DocumentRecord)
            .where(col(DocumentRecord.sha256) == sha256)
            .values(key_id=key_id)
            .execution_options(synchronize_session=False)
        )

    async def get(self, sha256: str) -> DocumentRecord | None:
        """The document's row."""
        return await self._session.get(DocumentRecord, sha256, populate_existing=True)

    async def described(self, sha256s: Collection[str]) -> dict[str, DocumentRecord]:
        """The recorded documents among ``sha256s``, by hash."""
        result = await self._session.execute(select(DocumentRecord).where(col(DocumentRecord.sha256).in_(sha256s)))
        return {record.sha256: record for record in result.scalars()}

    async def mark_used(self, sha256s: Collection[str], at: datetime) -> set[str]:
        """Note that the documents are referred to now, locking their rows until the caller commits; the ones that
        are still recorded."""
        result = await self._session.execute(
            update(DocumentRecord)
            .where(col(DocumentRecord.sha256).in_(set(sha256s)))
            .values(used_at=at)
            .returning(col(DocumentRecord.sha256))
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def lock_unreferenced(self, unused_since: datetime, limit: int) -> list[str]:
        """Up to ``limit`` documents unused since before ``unused_since`` that no application refers to (its
        submission or an answer), locked; rows another transaction holds are skipped."""
        refers = col(ApplicationRecord.documents).op("@>")(
            func.jsonb_build_array(func.jsonb_build_object("sha256", col(DocumentRecord.sha256)))
        )
        statement = (
            select(col(DocumentRecord.sha256))
            .where(col(DocumentRecord.used_at) < unused_since, ~exists().where(refers))
            .order_by(col(DocumentRecord.used_at))
            .limit(limit)
            .with_for_update(skip_locked=True, of=DocumentRecord)
        )
        return list((await self._session.execute(statement)).scalars())

    async def lock_unreferenced_among(self, sha256s: Collection[str]) -> list[str]:
        """Those of ``sha256s`` no application refers to any more, locked (an erasure deletes them at once)."""
        if not sha256s:
            return []
        refers = col(ApplicationRecord.documents).op("@>")(
            func.jsonb_build_array(func.jsonb_build_object("sha256", col(DocumentRecord.sha256)))
        )
        statement = (
            select(col(DocumentRecord.sha256))
            .where(col(DocumentRecord.sha256).in_(set(sha256s)), ~exists().where(refers))
            .with_for_update(of=DocumentRecord)
        )
        return list((await self._session.execute(statement)).scalars())

    async def lock_not_sealed_with(self, key_id: str, limit: int, besides: Collection[str] = ()) -> list[str]:
        """Up to ``limit`` documents whose file is not sealed with ``key_id`` (an older key, or none), but those in
        ``besides``, locked; rows another transaction holds are skipped."""
        statement = (
            select(col(DocumentRecord.sha256))
            .where(or_(col(DocumentRecord.key_id).is_(None), col(DocumentRecord.key_id) != key_id))
            .order_by(col(DocumentRecord.uploaded_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if besides:
            statement = statement.where(col(DocumentRecord.sha256).not_in(besides))
        return list((await self._session.execute(statement)).scalars())

    async def delete(self, sha256s: Collection[str]) -> None:
        """Remove the documents' rows."""
        if sha256s:
            await self._session.execute(delete(DocumentRecord).where(col(DocumentRecord.sha256).in_(sha256s)))


def _normalised_declared_type(declared_type: str | None) -> str | None:
    if declared_type is None:
        return None
    media_type = declared_type.split(";", 1)[0].strip().lower()
    if media_type in _UNINFORMATIVE_DECLARED_TYPES:
        return None
    return _DECLARED_ALIASES.get(media_type, media_type)


class DocumentService:
    """Accepting documents: check their content, seal and store their bytes by hash and record what they are."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: DocumentStore,
        max_bytes: int,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._max_bytes = max_bytes
        self._clock = clock

    @property
    def max_bytes(self) -> int:
        """The largest document accepted, in bytes."""
        return self._max_bytes

    def check(self, declared_type: str | None, content: bytes) -> str:
        """The media type of ``content`` if it may be accepted; raises the domain error saying why not otherwise."""
        if not content:
            raise EmptyDocument
        if len(content) > self._max_bytes:
            raise DocumentTooLarge(self._max_bytes)
        media_type = sniff_media_type(content[:16])
        if media_type is None:
            raise UnsupportedDocumentType(None, declared_type)
        declared = _normalised_declared_type(declared_type)
        if declared is not None and declared != media_type:
            raise UnsupportedDocumentType(media_type, declared_type)
        return media_type

    async def receive(
        self, upload: UploadFile, *, max_bytes: int | None = None, media_types: Collection[str] | None = None
    ) -> DocumentRecord:
        """Read an uploaded file (never more than ``max_bytes``, nor than the service accepts), check it is of one
        of ``media_types`` when given, and keep it as :meth:`upload` does: the one reader of the API's and the
        pages' uploads."""
        limit = self._max_bytes if max_bytes is None else min(max_bytes, self._max_bytes)
        try:
            content = await read_upload(upload, limit)
        except UploadTooLarge as too_large:
            raise DocumentTooLarge(too_large.max_bytes) from too_large
        if media_types is not None:
            media_type = self.check(upload.content_type, content)
            if media_type not in media_types:
                raise DocumentTypeNotAsked(media_type, media_types)
        return await self.upload(upload.filename or "", upload.content_type, content)

    async def upload(self, filename: str, declared_type: str | None, content: bytes) -> DocumentRecord:
        """Check, seal, store and record a document; a re-upload of the same bytes answers the record already kept
        (and counts as a use, so the clean-up keeps it)."""
        media_type = self.check(declared_type, content)
        sha256 = sha256_hex(content)
        now = self._clock()
        # The row first, locked until the bytes are written and the transaction commits: the clean-up deletes a file
        # only under its row's lock, so it never takes the file of an upload in progress, and a committed row always
        # has its file. Bytes written by a transaction that then fails are harmless: no row points at them.
        async with self._sessions() as session, session.begin():
            documents = DocumentRepository(session)
            await documents.record_upload(
                DocumentRecord(
                    sha256=sha256,
                    media_type=media_type,
                    size_bytes=len(content),
                    original_name=clean_file_name(filename),
                    uploaded_at=now,
                    used_at=now,
                )
            )
            key_id = await self._store.put(sha256, content)
            await documents.set_key(sha256, key_id)
            record = await documents.get(sha256)
        if record is None:  # pragma: no cover - the row was just inserted or already there
            raise RuntimeError(f"document {sha256} vanished while it was being recorded")
        return record

    async def describe(self, sha256s: Sequence[str]) -> dict[str, DocumentRecord]:
        """The recorded documents among ``sha256s``, by hash; unknown hashes are simply absent."""
        wanted = set(sha256s)
        if not wanted:
            return {}
        async with self._sessions() as session:
            return await DocumentRepository(session).described(wanted)

    async def mark_used(self, session: AsyncSession, sha256s: Collection[str], at: datetime) -> set[str]:
        """Note, in the caller's transaction, that an application or an answer refers to the documents (so the
        clean-up, which skips rows locked meanwhile, cannot take them); the ones still recorded."""
        return await DocumentRepository(session).mark_used(sha256s, at) if sha256s else set()


class DocumentRetention:
    """Intake's periodic care of stored documents: deleting those no application refers to once unused for the
    configured time, and sealing every other with the current documents key (a file from before sealing, or under a
    key since rotated out of first place)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: DocumentStore,
        *,
        current_key_id: str,
        keep_unreferenced: timedelta,
        batch_size: int = 100,
        clock: Clock = utc_now,
        deleted: Counter | None = None,
        resealed: Counter | None = None,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._current_key_id = current_key_id
        self._keep_unreferenced = keep_unreferenced
        self.batch_size = batch_size
        self._clock = clock
        self._deleted = deleted
        self._resealed = resealed
        self._unsealable: set[str] = set()

    async def delete_unreferenced(self) -> int:
        """Delete a batch of documents (file and row) no application refers to and unused for longer than the
        limit; how many were deleted. Each file goes while its row is locked, before the row."""
        unused_since = self._clock() - self._keep_unreferenced
        async with self._sessions() as session, session.begin():
            documents = DocumentRepository(session)
            doomed = await documents.lock_unreferenced(unused_since, self.batch_size)
            removed: list[str] = []
            for sha256 in doomed:
                try:
                    await self._store.delete(sha256)
                except OSError:
                    _logger.exception("could not delete the file of unreferenced document %s; keeping its row", sha256)
                    continue
                removed.append(sha256)
            await documents.delete(removed)
        if removed:
            _logger.info("deleted %d documents no application refers to", len(removed))
            if self._deleted is not None:
                self._deleted.inc(len(removed))
        return len(removed)

    async def reseal(self) -> int:
        """Seal a batch of stored documents with the current key where they are not yet, the uploads and then the
        PDFs agencies issued (the desk writes them into the same store); how many were sealed. A document that cannot
        be opened (damaged, a key not configured, its file missing) is logged and left for an operator, and not
        tried again by this process."""
        resealed = 0
        async with self._sessions() as session, session.begin():
            documents = DocumentRepository(session)
            uploads = await documents.lock_not_sealed_with(
                self._current_key_id, self.batch_size, besides=self._unsealable
            )
            resealed += await self._reseal_each(uploads, documents.set_key)
            issued = IssuedDocumentRepository(session)
            pdfs = await issued.lock_pdfs_not_sealed_with(
                self._current_key_id, max(self.batch_size - len(uploads), 0), besides=self._unsealable
            )
            resealed += await self._reseal_each(pdfs, issued.set_pdf_key)
        if resealed:
            _logger.info("sealed %d documents with the current key %s", resealed, self._current_key_id)
            if self._resealed is not None:
                self._resealed.inc(resealed)
        return resealed

    async def _reseal_each(self, sha256s: Sequence[str], set_key: Callable[[str, str], Awaitable[None]]) -> int:
        """Seal each file with the current key and record it with ``set_key``; how many needed sealing."""
        resealed = 0
        for sha256 in sha256s:
            try:
                outcome = await self._store.reseal(sha256)
            except (DocumentUnreadable, OSError):
                _logger.exception("could not seal document %s with the current key", sha256)
                self._unsealable.add(sha256)
                continue
            if outcome is Resealed.MISSING:
                _logger.error("document %s is recorded but its file is missing", sha256)
                self._unsealable.add(sha256)
                continue
            await set_key(sha256, self._current_key_id)
            if outcome is Resealed.RESEALED:
                resealed += 1
        return resealed
