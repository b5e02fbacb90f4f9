r"""Signed checkpoints: an Ed25519 signature over a tree size, its root hash and the time it was taken.

The signed message is UTF-8 text of four lines, each ending in ``\n``::

    satupintu-audit-checkpoint/v1
    <tree size, decimal>
    <root hash, 64 lower-case hex digits>
    <time, RFC 3339 UTC with microseconds, e.g. 2026-11-03T02:15:00.123456Z>

The signature is stored and shown as standard base64; a key is named by its ``key_id``, the first 16 hex digits of
SHA-256 over the raw 32-byte public key. A checkpoint is checked against a :class:`KeyRing` (the current key and
the retired ones), by ``GET /audit/verify`` and by the offline verifier alike. No I/O except
:func:`load_or_create_signing_key`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from satupintu.audit.domain import utc_text

CHECKPOINT_FORMAT = "satupintu-audit-checkpoint/v1"


@dataclass(frozen=True)
class SignedCheckpoint:
    """A tree head the service vouches for: size, root, time, and who signed it how."""

    tree_size: int
    root_hash: str
    time: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_message(self.tree_size, self.root_hash, self.time)


def checkpoint_message(tree_size: int, root_hash: str, time: datetime) -> bytes:
    """The signed text of a checkpoint (see the module docstring)."""
    return f"{CHECKPOINT_FORMAT}\n{tree_size}\n{root_hash}\n{utc_text(time)}\n".encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """The short name of a public key: 16 hex digits of SHA-256 over its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError when it is something else."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)


def load_public_keys(pem_bundle: bytes) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key of a PEM bundle (any number of keys, one after the other; text between them is
    ignored, as in a CA bundle). ValueError on a block that is not an Ed25519 public key, a private key above all."""
    keys = []
    for block in _PEM_BLOCK.finditer(pem_bundle):
        label = block.group(1).decode()
        if label != "PUBLIC KEY":
            raise ValueError(f"a public key file holds a {label}, not only public keys")
        keys.append(load_public_key(block.group(0)))
    return keys


class CheckpointSigner:
    """Signs checkpoints with the audit service's Ed25519 private key."""

    def __init__(self, private_key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the checkpoint signing key must be an Ed25519 private key")
        self._private_key = key
        self.public_key = key.public_key()
        self.key_id = key_id(self.public_key)
        self.public_key_pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, tree_size: int, root_hash: str, time: datetime) -> SignedCheckpoint:
        """A checkpoint of the tree of ``tree_size`` leaves with ``root_hash`` (hex), taken at ``time``."""
        signature = self._private_key.sign(checkpoint_message(tree_size, root_hash, time))
        return SignedCheckpoint(
            tree_size=tree_size,
            root_hash=root_hash,
            time=time,
            key_id=self.key_id,
            signature=base64.b64encode(signature).decode(),
        )


def signature_valid(public_key: Ed25519PublicKey, checkpoint: SignedCheckpoint) -> bool:
    """Whether ``checkpoint``'s signature is ``public_key``'s over its size, root and time."""
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.message())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class KeyRing:
    """The public keys checkpoints may be signed with, by key id: the current key and the retired ones still
    trusted for the checkpoints they signed. ``described_as`` names the ring in messages."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey], *, described_as: str = "the key ring") -> None:
        self._keys = {key_id(public_key): public_key for public_key in public_keys}
        if not self._keys:
            raise ValueError("a key ring needs at least one public key")
        self.described_as = described_as

    @property
    def key_ids(self) -> list[str]:
        """The ids of the keys in the ring, sorted."""
        return sorted(self._keys)

    def problem(self, checkpoint: SignedCheckpoint) -> str | None:
        """None when ``checkpoint`` is signed by the key its ``key_id`` names and that key is in the ring; else what
        is wrong, naming the checkpoint by its tree size and key id."""
        name = f"the checkpoint of {checkpoint.tree_size} entries (key {checkpoint.key_id})"
        public_key = self._keys.get(checkpoint.key_id)
        if public_key is None:
            return (
                f"{name} is not signed by {self.described_as}: key {checkpoint.key_id} is not among its keys "
                f"({', '.join(self.key_ids)}), so the checkpoint is forged or its key was never trusted"
            )
        if not signature_valid(public_key, checkpoint):
            return f"{name} is not signed by {self.described_as}, or was altered: its signature does not verify"
        return None


def load_or_create_signing_key(path: Path) -> bytes:
    """The PEM private key kept in ``path``, created the first time (owner-readable only); for local development
    and single-host deployments. Several processes starting together end up with the same key."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as draft_file:
            draft_file.write(pem)
        try:  # link() fails if another process created the key first; then everyone uses that one
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes()
