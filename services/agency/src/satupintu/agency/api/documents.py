"""``/documents/{sha256}``: a document, only to an officer whose agency holds a task referencing it."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from satupintu.agency.api.dependencies import desk_service, problem_of, token_or_session_officer
from satupintu.agency.documents import MEDIA_TYPES, SHA256_PATTERN
from satupintu.agency.domain import DeskError
from satupintu.agency.services import DeskService
from satupintu.common.auth import Principal
from satupintu.common.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(tags=["documents"])


@router.get(
    "/documents/{sha256}",
    summary="Read a document a task of your agency references",
    response_class=Response,
    responses={
        200: {
            "description": "The document: inline as PDF, JPEG or PNG (told by its content), or as an attachment of "
            "`application/octet-stream` when its content is none of those.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in MEDIA_TYPES},
        },
        401: {"description": "Neither a desk session nor a bearer token.", "content": {PROBLEM_MEDIA_TYPE: {}}},
        403: {
            "description": "The token is not an officer's (the refusal is recorded, against the applications the "
            "document belongs to).",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
        404: {
            "description": "No task of your agency references it (the attempt is recorded, against the applications "
            "whose tasks reference it), or it is not stored.",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
    },
)
async def read_document(
    sha256: Annotated[str, Path(pattern=SHA256_PATTERN, description="Lower-case hex sha256 of the content.")],
    officer: Annotated[Principal, Depends(token_or_session_officer)],
    desk: Annotated[DeskService, Depends(desk_service)],
) -> Response:
    """The bytes with the media type their content shows, `Content-Disposition: inline`; never cached."""
    try:
        document = await desk.document(officer, sha256)
    except DeskError as error:
        raise problem_of(error) from error
    name = re.sub(r"[^A-Za-z0-9_-]", "_", document.name)[:100] or "document"
    filename = f"{name}.{document.extension}" if document.extension else name
    disposition = "inline" if document.extension else "attachment"
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
