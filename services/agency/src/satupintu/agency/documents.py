"""Reading the documents intake stored, by hash, from the content-addressed directory (``<root>/<sha[:2]>/<sha>``).

The desk only reads; intake writes. In a local deployment both point at the same directory; elsewhere the directory
is a read-only mount of intake's store (object storage is a later step for both).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)

# Media types are told by the content's leading bytes, as intake accepted them; never by a name.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
FALLBACK_MEDIA_TYPE = "application/octet-stream"


def sniff(content: bytes) -> tuple[str, str | None]:
    """The media type and file extension ``content`` starts with; octet-stream (no extension) for anything else."""
    for signature, media_type, extension in _SIGNATURES:
        if content.startswith(signature):
            return media_type, extension
    return FALLBACK_MEDIA_TYPE, None


class DamagedDocument(Exception):
    """The stored bytes do not hash to their address: the store was tampered with or corrupted."""


@dataclass(frozen=True)
class LocalDocuments:
    """Intake's content-addressed document directory, read only."""

    root: Path

    def path_of(self, sha256: str) -> Path:
        """Where the document ``sha256`` is kept; only a well-formed hash becomes a path."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    async def read(self, sha256: str) -> bytes | None:
        """The document's bytes, checked against their hash; None when it is not stored here."""
        try:
            content = await asyncio.to_thread(self.path_of(sha256).read_bytes)
        except FileNotFoundError:
            return None
        if hashlib.sha256(content).hexdigest() != sha256:
            raise DamagedDocument(f"document {sha256} does not match its hash")
        return content
