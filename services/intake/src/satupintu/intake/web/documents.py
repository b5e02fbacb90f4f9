"""The documents a form carries: files chosen are checked against their requirement and kept (once, by hash), files
kept from an earlier try come back by hash, and a refused upload is answered in the page's language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from satupintu.common.catalogue import DocumentRequirement
from satupintu.common.problems import problem_response
from satupintu.common.uploads import Refusal
from satupintu.intake.documents import (
    DocumentService,
    DocumentTooLarge,
    DocumentTypeNotAsked,
    EmptyDocument,
    UnsupportedDocumentType,
)
from satupintu.intake.i18n import Translator
from satupintu.intake.web.fields import FormErrors, KeptDocument, text
from satupintu.intake.web.messages import say
from satupintu.intake.web.rendering import page, translator

_SHA256 = re.compile(r"[0-9a-f]{64}")
_REFUSED_UPLOAD_TEXTS = {
    "too-large": ("too_large_title", "too_large_body"),
    "longer-than-declared": ("too_large_title", "too_large_body"),
    "volume": ("upload_volume_title", "upload_volume_body"),
}


async def _store_upload(
    requirement: DocumentRequirement, upload: UploadFile, documents: DocumentService, t: Translator
) -> KeptDocument | str:
    """Store a chosen file if its content meets ``requirement``: the document kept, or the message saying why not
    (a file refused is not stored)."""
    label = requirement.label.in_language(t.language)
    max_bytes = min(requirement.max_bytes, documents.max_bytes)
    try:
        record = await documents.receive(upload, max_bytes=max_bytes, media_types=requirement.media_types)
    except DocumentTooLarge:
        return say(t, "file_too_large", label, size=t.size(max_bytes))
    except (UnsupportedDocumentType, DocumentTypeNotAsked):
        return say(t, "file_type", label, types=t.media_types(requirement.media_types))
    except EmptyDocument:
        return say(t, "file_empty", label)
    return KeptDocument(record.sha256, record.original_name or upload.filename or "")


async def take_documents(
    requirements: Sequence[DocumentRequirement],
    form: FormData,
    documents: DocumentService,
    t: Translator,
    errors: FormErrors,
) -> dict[str, KeptDocument]:
    """Store the files chosen for ``requirements`` (any other file is left alone), and keep the ones uploaded with an
    earlier try of this form (sent back by hash)."""
    kept: dict[str, KeptDocument] = {}
    earlier: dict[str, str] = {}
    for requirement in requirements:
        name = f"document-{requirement.name}"
        upload = form.get(name)
        if isinstance(upload, UploadFile) and upload.filename:
            stored = await _store_upload(requirement, upload, documents, t)
            if isinstance(stored, KeptDocument):
                kept[requirement.name] = stored
            else:
                errors.add(name, stored)
        elif _SHA256.fullmatch(previous := text(form, f"{name}-kept")):
            earlier[requirement.name] = previous
    known = await documents.describe(list(earlier.values())) if earlier else {}
    for requirement in requirements:
        record = known.get(earlier.get(requirement.name, ""))
        if record is not None and record.media_type in requirement.media_types:
            kept[requirement.name] = KeptDocument(record.sha256, record.original_name)
    return kept


def require_documents(
    requirements: Sequence[DocumentRequirement], kept: Mapping[str, KeptDocument], t: Translator, errors: FormErrors
) -> None:
    """Report each required document neither chosen nor kept (unless its field already has an error)."""
    for requirement in requirements:
        name = f"document-{requirement.name}"
        if requirement.required and requirement.name not in kept and name not in errors.by_field:
            errors.add(name, say(t, "upload", requirement.label.in_language(t.language)))


def refused_upload(request: Request, refusal: Refusal) -> Response:
    """A refused form upload in the page's language: a page for a browser (it asks for HTML), else problem+json."""
    t = translator(request)
    title_key, body_key = _REFUSED_UPLOAD_TEXTS.get(refusal.reason, ("busy_title", "busy_body"))
    if "text/html" in request.headers.get("accept", ""):
        response = page(
            request, "notice.html", title=t(title_key), status_code=refusal.status, body=t(body_key), links=[]
        )
        response.headers.update(refusal.headers)
        return response
    return problem_response(
        request, refusal.status, refusal.problem_type, t(body_key), title=t(title_key), headers=dict(refusal.headers)
    )
