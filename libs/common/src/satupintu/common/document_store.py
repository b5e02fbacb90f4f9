"""Documents at rest, shared by intake (writes, re-seals and deletes them) and the agency desk (reads them): a
content-addressed directory, ``<root>/<sha[:2]>/<sha>`` under the SHA-256 of the document's plaintext, of files
sealed with AES-256-GCM under a documents key named in each file's header, so keys rotate
(docs/decisions/0006-personal-data-at-rest.md).

A sealed file is::

    magic (8 bytes) | format version (1 byte) | key id length (1 byte) | key id | nonce (12 bytes) | ciphertext + tag

sealed whole (documents are bounded by the upload limit) with a fresh nonce, its header and its address as associated
data: a file moved to another address, or given another key id, does not open. A file without the magic was stored
before documents were sealed (an accepted document starts with ``%PDF-``, ``FF D8 FF`` or PNG's signature, never with
the magic): it is read as it is when its bytes hash to its address, and intake re-seals it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from satupintu.common.crypto import LOCAL_KEY_ID, load_or_create_secret, parse_key_spec

MAGIC = b"\x89SPDOC\r\n"
"""The first bytes of a sealed document (PNG-style: a high byte, then CR LF to catch a text-mode copy)."""
FORMAT_VERSION = 1
LOCAL_KEY_FILE = "documents-key-local1"
"""The development key's file in the auth keys directory: intake and a desk on the same machine share it."""

SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NONCE_BYTES = 12


class DocumentUnreadable(Exception):
    """A stored document that cannot be given back as its plaintext."""


class DamagedDocument(DocumentUnreadable):
    """The stored file does not authenticate, or its plaintext does not hash to its address: it was tampered with,
    corrupted, or put under the wrong address."""


class UnknownDocumentKey(DocumentUnreadable):
    """The file is sealed with a key this process does not hold (a key rotated in before the reader had it)."""


def sealed_key_id(stored: bytes) -> str | None:
    """The key id a stored file names; None for a file stored before documents were sealed (no magic)."""
    if not stored.startswith(MAGIC):
        return None
    try:
        version, length = stored[len(MAGIC)], stored[len(MAGIC) + 1]
        key_id = stored[len(MAGIC) + 2 : len(MAGIC) + 2 + length].decode("ascii")
    except (IndexError, UnicodeDecodeError) as malformed:
        raise DamagedDocument("the sealed document's header is malformed") from malformed
    if version != FORMAT_VERSION or not _KEY_ID.fullmatch(key_id):
        raise DamagedDocument(f"unknown sealed document format {version} or key id")
    return key_id


@dataclass(frozen=True)
class DocumentCipher:
    """Seals documents with the current key; opens them with whichever key their header names."""

    keys: dict[str, bytes]
    current_key_id: str

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise ValueError(f"current key {self.current_key_id!r} is not among the keys")
        for key_id, key in self.keys.items():
            if len(key) != 32 or not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key {key_id!r} must be 32 bytes and its id 1 to 64 letters, digits, - or _")

    @classmethod
    def from_spec(cls, spec: str) -> DocumentCipher:
        """Keys from ``"kid:base64key,kid:base64key"`` (as the database fields' keys); the first seals, every one
        opens."""
        keys = parse_key_spec(spec)
        return cls(keys, next(iter(keys)))

    @classmethod
    def configured(cls, spec: str | None, keys_dir: Path) -> DocumentCipher:
        """The keys of a setting, or without one a development key in ``keys_dir`` (made the first time)."""
        if spec:
            return cls.from_spec(spec)
        return cls({LOCAL_KEY_ID: load_or_create_secret(keys_dir / LOCAL_KEY_FILE)}, LOCAL_KEY_ID)

    def seal(self, sha256: str, plaintext: bytes) -> bytes:
        """The sealed file of ``plaintext``, whose address (SHA-256) is ``sha256``."""
        key_id = self.current_key_id.encode("ascii")
        header = MAGIC + bytes([FORMAT_VERSION, len(key_id)]) + key_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(nonce, plaintext, header + sha256.encode("ascii"))
        return header + nonce + sealed

    def open(self, sha256: str, stored: bytes) -> bytes:
        """The plaintext of a stored file at address ``sha256``: a sealed one opened, one from before sealing as it
        is; either checked against its address."""
        key_id = sealed_key_id(stored)
        if key_id is None:
            plaintext = stored
        else:
            key = self.keys.get(key_id)
            if key is None:
                raise UnknownDocumentKey(f"document {sha256} is sealed with key {key_id!r}, which is not configured")
            header_length = len(MAGIC) + 2 + len(key_id)
            header, nonce = stored[:header_length], stored[header_length : header_length + _NONCE_BYTES]
            try:
                plaintext = AESGCM(key).decrypt(
                    nonce, stored[header_length + _NONCE_BYTES :], header + sha256.encode("ascii")
                )
            except (InvalidTag, ValueError) as tampered:
                raise DamagedDocument(f"document {sha256} does not authenticate") from tampered
        if hashlib.sha256(plaintext).hexdigest() != sha256:
            raise DamagedDocument(f"document {sha256} does not match its hash")
        return plaintext


class Resealed(StrEnum):
    """What re-sealing a stored document did."""

    CURRENT = "current"
    """It was sealed with the current key already: left as it was."""
    RESEALED = "resealed"
    """It was in plaintext (from before sealing) or under an older key: sealed again with the current key."""
    MISSING = "missing"
    """No file is stored at its address."""


class LocalDocumentStore:
    """Sealed documents in a local (or mounted) directory, by the SHA-256 of their plaintext."""

    def __init__(self, root: Path, cipher: DocumentCipher) -> None:
        self.root = root
        self.cipher = cipher

    def path_of(self, sha256: str) -> Path:
        """Where the document ``sha256`` is kept; only a well-formed hash (it may come from a request) becomes a
        path."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    async def put(self, sha256: str, plaintext: bytes) -> str:
        """Seal ``plaintext`` (whose SHA-256 is ``sha256``) with the current key and write it atomically: to a
        temporary file beside the target, then renamed over it (a reader sees the old file or the new one). The id of
        the key it was sealed with."""
        path = self.path_of(sha256)
        await asyncio.to_thread(_write_atomically, path, self.cipher.seal(sha256, plaintext))
        return self.cipher.current_key_id

    async def exists(self, sha256: str) -> bool:
        """Whether a file is stored under ``sha256``."""
        return await asyncio.to_thread(self.path_of(sha256).is_file)

    async def read(self, sha256: str) -> bytes | None:
        """The document's plaintext, checked against its address; None when nothing is stored there. Raises
        :class:`DamagedDocument` or :class:`UnknownDocumentKey` when the file cannot be opened."""
        try:
            stored = await asyncio.to_thread(self.path_of(sha256).read_bytes)
        except FileNotFoundError:
            return None
        return self.cipher.open(sha256, stored)

    async def reseal(self, sha256: str) -> Resealed:
        """Seal the stored document with the current key unless it is already (a file from before sealing, or one
        under an older key, is opened, checked and written again)."""
        path = self.path_of(sha256)
        try:
            stored = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return Resealed.MISSING
        if sealed_key_id(stored) == self.cipher.current_key_id:
            return Resealed.CURRENT
        plaintext = self.cipher.open(sha256, stored)
        await asyncio.to_thread(_write_atomically, path, self.cipher.seal(sha256, plaintext))
        return Resealed.RESEALED

    async def delete(self, sha256: str) -> bool:
        """Remove the document's file; False when there was none."""
        try:
            await asyncio.to_thread(self.path_of(sha256).unlink)
        except FileNotFoundError:
            return False
        return True


def _write_atomically(target: Path, content: bytes) -> None:
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
