"""Personal data at rest: AES-GCM encryption with a key id per value (so keys rotate), and keyed hashes for
look-ups (so a NIK can be found without being readable)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"

LOCAL_KEY_ID = "local1"
"""The id of a key created locally for development when none is configured."""


class DecryptionError(ValueError):
    """A ciphertext that is malformed, was made with an unknown key, or was tampered with."""


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts values with the current key; decrypts with whichever key id a value names."""

    keys: dict[str, bytes]
    current_key_id: str

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise ValueError(f"current key {self.current_key_id!r} is not among the keys")
        for key_id, key in self.keys.items():
            if len(key) != 32 or "." in key_id:
                raise ValueError(f"key {key_id!r} must be 32 bytes and its id must not contain '.'")

    def encrypt(self, plaintext: str, context: str) -> str:
        """``v1.<key id>.<base64(nonce + ciphertext)>``; ``context`` (e.g. the column) is authenticated too."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{self.current_key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext of a value made by :meth:`encrypt` with the same ``context``."""
        try:
            version, key_id, body = token.split(".", 2)
            raw = base64.urlsafe_b64decode(body)
            key = self.keys[key_id]
        except (ValueError, KeyError) as malformed:
            raise DecryptionError("malformed ciphertext or unknown key id") from malformed
        if version != _VERSION:
            raise DecryptionError(f"unknown ciphertext version {version!r}")
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as tampered:
            raise DecryptionError("ciphertext does not authenticate") from tampered

    @classmethod
    def from_spec(cls, spec: str) -> FieldCipher:
        """Keys from ``"kid:base64key,kid:base64key"``; the first is current, the rest still decrypt."""
        keys = parse_key_spec(spec)
        return cls(keys, next(iter(keys)))


def parse_key_spec(spec: str) -> dict[str, bytes]:
    """The keys of ``"kid:base64key,kid:base64key"``, in the order given (the first is the current one)."""
    keys: dict[str, bytes] = {}
    for item in spec.split(","):
        key_id, _, encoded = item.strip().partition(":")
        keys[key_id] = base64.b64decode(encoded)
    return keys


@dataclass(frozen=True)
class KeyedHasher:
    """HMAC-SHA256 of normalised values: equal inputs match, and nobody without the key can reverse or test them."""

    key: bytes

    def hash(self, value: str) -> str:
        """The hex keyed hash of ``value``."""
        return hmac.new(self.key, value.strip().encode(), hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """A random secret kept in ``path`` (mode 0600), created the first time; for local development."""
    if path.is_file():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(size)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(base64.b64encode(secret).decode())
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        secret = base64.b64decode(path.read_text().strip())
    finally:
        temporary.unlink(missing_ok=True)
    return secret
