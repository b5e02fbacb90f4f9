"""Reading the documents intake stored: sealed files in its content-addressed directory, opened with the documents
keys intake seals them with (``satupintu.common.document_store``), and served with the type their content shows.

The desk only reads; intake writes. In a local deployment both point at the same directory; elsewhere the directory
is a read-only mount of intake's store (object storage is a later step for both).
"""

from __future__ import annotations

from satupintu.common.document_store import SHA256_PATTERN

__all__ = ["FALLBACK_MEDIA_TYPE", "MEDIA_TYPES", "SHA256_PATTERN", "sniff"]

# Media types are told by the content's leading bytes, as intake accepted them; never by a name.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
FALLBACK_MEDIA_TYPE = "application/octet-stream"
MEDIA_TYPES = (*(media_type for _, media_type, _ in _SIGNATURES), FALLBACK_MEDIA_TYPE)
"""Every media type a document is served with (what the OpenAPI document publishes)."""


def sniff(content: bytes) -> tuple[str, str | None]:
    """The media type and file extension ``content`` starts with; octet-stream (no extension) for anything else."""
    for signature, media_type, extension in _SIGNATURES:
        if content.startswith(signature):
            return media_type, extension
    return FALLBACK_MEDIA_TYPE, None
