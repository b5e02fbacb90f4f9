"""Uploaded documents: checked by content, stored once by their sha256, and referenced by that hash in events."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from starlette.datastructures import UploadFile

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

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_UPLOAD_CHUNK_BYTES = 64 * 1024

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


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


class DocumentTooLarge(Exception):
    """The document is larger than the service accepts."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"The file is larger than the limit of {max_bytes} bytes; upload a smaller or compressed file."
        )
        self.max_bytes = max_bytes


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


class EmptyDocument(Exception):
    """The document has no content."""

    def __init__(self) -> None:
        super().__init__("The file is empty; choose the file again and upload it.")


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """An uploaded file's bytes; raises DocumentTooLarge as soon as more than ``max_bytes`` have been read (the API
    and the pages read uploads with this)."""
    if upload.size is not None and upload.size > max_bytes:
        raise DocumentTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_UPLOAD_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise DocumentTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


class DocumentStore(Protocol):
    """Where documents' bytes live, addressed by their sha256 (local disk now, object storage later)."""

    async def put(self, sha256: str, content: bytes) -> None:
        """Store ``content`` under ``sha256``; storing the same content again changes nothing."""
        ...

    async def exists(self, sha256: str) -> bool:
        """Whether content is stored under ``sha256``."""
        ...

    async def open(self, sha256: str) -> bytes:
        """The content stored under ``sha256``; raises FileNotFoundError when there is none."""
        ...


class LocalDiskStore:
    """A :class:`DocumentStore` on a local directory, as ``<root>/<sha[:2]>/<sha>``."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, sha256: str) -> Path:
        # The hash may come from a request: only a well-formed one may become a path.
        if not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self._root / sha256[:2] / sha256

    async def put(self, sha256: str, content: bytes) -> None:
        """Write ``content`` atomically: to a temporary file beside the target, then renamed over it."""
        await asyncio.to_thread(self._write, self._path(sha256), content)

    async def exists(self, sha256: str) -> bool:
        """Whether a file is stored under ``sha256``."""
        return await asyncio.to_thread(self._path(sha256).is_file)

    async def open(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; raises FileNotFoundError when there are none."""
        return await asyncio.to_thread(self._path(sha256).read_bytes)

    @staticmethod
    def _write(target: Path, content: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as temporary_file:
                temporary_file.write(content)
                temporary_file.flush()
                os.fsync(temporary_file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class DocumentRecord(SQLModel, table=True):
    """A stored document: what it is, as its content showed; its bytes are in the document store under its hash."""

    __tablename__ = "documents"

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


def _normalised_declared_type(declared_type: str | None) -> str | None:
    if declared_type is None:
        return None
    media_type = declared_type.split(";", 1)[0].strip().lower()
    if media_type in _UNINFORMATIVE_DECLARED_TYPES:
        return None
    return _DECLARED_ALIASES.get(media_type, media_type)


class DocumentService:
    """Accepting documents: check their content, store their bytes by hash and record what they are."""

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

    async def upload(self, filename: str, declared_type: str | None, content: bytes) -> DocumentRecord:
        """Check, store and record a document; a re-upload of the same bytes answers the record already kept."""
        media_type = self.check(declared_type, content)
        sha256 = sha256_hex(content)
        # Bytes first: a row must never point at content that is not stored; stray bytes without a row are harmless.
        await self._store.put(sha256, content)
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(DocumentRecord)
                .values(
                    sha256=sha256,
                    media_type=media_type,
                    size_bytes=len(content),
                    original_name=clean_file_name(filename),
                    uploaded_at=self._clock(),
                )
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
            record = await session.get(DocumentRecord, sha256)
        if record is None:  # pragma: no cover - the row was just inserted or already there
            raise RuntimeError(f"document {sha256} vanished while it was being recorded")
        return record

    async def describe(self, sha256s: Sequence[str]) -> dict[str, DocumentRecord]:
        """The recorded documents among ``sha256s``, by hash; unknown hashes are simply absent."""
        wanted = set(sha256s)
        if not wanted:
            return {}
        async with self._sessions() as session:
            result = await session.execute(select(DocumentRecord).where(col(DocumentRecord.sha256).in_(wanted)))
            return {record.sha256: record for record in result.scalars()}
