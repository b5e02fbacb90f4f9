"""``/documents``: uploading a document, answered with the sha256 that applications and events refer to it by."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile, status
from pydantic import BaseModel, Field

from satupintu.common.problems import Problem
from satupintu.intake.api import dependencies
from satupintu.intake.documents import (
    DocumentService,
    DocumentTooLarge,
    EmptyDocument,
    UnsupportedDocumentType,
)

router = APIRouter(tags=["documents"])


class DocumentStored(BaseModel):
    """A document intake keeps: refer to it by its sha256."""

    sha256: str = Field(
        description="The lowercase hex sha256 of the content; applications refer to the document by it."
    )
    media_type: str = Field(description="The media type its content showed (application/pdf, image/jpeg, image/png).")
    size_bytes: int = Field(description="The size of the content in bytes.")


def _file_problem(status_code: int, problem_type: str, error: Exception) -> Problem:
    return Problem(status_code, problem_type, str(error), errors=[{"field": "file", "message": str(error)}])


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (PDF, JPEG or PNG) to refer to from an application",
    responses={
        413: {
            "description": "The file is larger than the limit (`document-too-large`), or the request body is: "
            "refused before it is read when its Content-Length says so, else as soon as it passes the limit "
            "(`payload-too-large`)."
        },
        415: {"description": "The file's content is not PDF, JPEG or PNG, or not the type it was sent as."},
        422: {"description": "The file is empty, or the request has no multipart field `file`."},
        429: {
            "description": "This client uploaded as many bytes as it may per hour; `Retry-After` says when to retry."
        },
        503: {"description": "Too many uploads in progress, or the database is unreachable; see `Retry-After`."},
    },
)
async def upload_document(
    file: UploadFile, service: Annotated[DocumentService, Depends(dependencies.document_service)]
) -> DocumentStored:
    """Check the file by its content, store it once by its sha256 and answer that hash."""
    return await store(file, service)


async def store(file: UploadFile, service: DocumentService) -> DocumentStored:
    """Receive one uploaded document (the public upload's and the counter's); problem+json naming `file` if not."""
    try:
        record = await service.receive(file)
    except DocumentTooLarge as too_large:
        raise _file_problem(status.HTTP_413_CONTENT_TOO_LARGE, "document-too-large", too_large) from too_large
    except UnsupportedDocumentType as unsupported:
        raise _file_problem(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "unsupported-document-type", unsupported
        ) from unsupported
    except EmptyDocument as empty:
        raise _file_problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "empty-document", empty) from empty
    return DocumentStored(sha256=record.sha256, media_type=record.media_type, size_bytes=record.size_bytes)
