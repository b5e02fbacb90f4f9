"""Sealed personal fields (docs/decisions/0016-personal-data-where-needed.md): a personal value travels and rests as
``sealed.v1.<key id>.<base64(nonce ‖ ciphertext)>``, the JSON of the value under the citizen's own AES-256-GCM key,
authenticated with ``<subject>/<field>`` so it cannot be moved to another application or field. The key reaches
each reader wrapped for that reader alone (RSA-OAEP with SHA-256), on the reader's key topic; destroying it makes
every sealed value of the citizen unreadable everywhere.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX: Final = "sealed.v1."
WRAPPING: Final = "RSA-OAEP-SHA256"
READER_KEY_BITS: Final = 3072
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class SealError(ValueError):
    """A sealed value that is malformed, sealed for another place, or whose key is not (or no longer) held."""


@dataclass(frozen=True)
class CitizenKey:
    """A citizen's key: every personal value of theirs is sealed with it."""

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != 32 or "." in self.key_id:
            raise ValueError("a citizen key is 32 bytes and its id has no '.'")

    def __repr__(self) -> str:
        return f"CitizenKey({self.key_id!r})"

    @classmethod
    def new(cls) -> CitizenKey:
        """A fresh random key with a fresh id."""
        return cls(f"ck{uuid.uuid4().hex}", AESGCM.generate_key(bit_length=256))


def _aad(subject: str, field: str) -> bytes:
    return f"{subject}/{field}".encode()


def seal(value: Any, key: CitizenKey, *, subject: str, field: str) -> str:
    """``value`` (anything JSON can hold) sealed with ``key`` for ``field`` of ``subject`` (an application id)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key.secret).encrypt(nonce, json.dumps(value, ensure_ascii=False).encode(), _aad(subject, field))
    return f"{SEALED_PREFIX}{key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed value (anything else travels in clear)."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def sealed_key_id(token: str) -> str:
    """The id of the key ``token`` is sealed with."""
    if not is_sealed(token):
        raise SealError("not a sealed value")
    key_id, _, body = token.removeprefix(SEALED_PREFIX).partition(".")
    if not key_id or not body:
        raise SealError("malformed sealed value")
    return key_id


def open_sealed(token: str, key: CitizenKey, *, subject: str, field: str) -> Any:
    """The value ``token`` seals, if ``key`` sealed it for ``field`` of ``subject``."""
    if sealed_key_id(token) != key.key_id:
        raise SealError("sealed with another key")
    try:
        raw = base64.urlsafe_b64decode(token.removeprefix(SEALED_PREFIX).partition(".")[2])
        return json.loads(AESGCM(key.secret).decrypt(raw[:12], raw[12:], _aad(subject, field)))
    except (ValueError, InvalidTag) as broken:
        raise SealError("the sealed value does not open for this subject and field") from broken


def seal_fields(
    values: dict[str, Any], personal: set[str] | frozenset[str], key: CitizenKey, *, subject: str
) -> dict[str, Any]:
    """``values`` with every field named in ``personal`` sealed (by its own name), the others as they are."""
    return {
        name: seal(value, key, subject=subject, field=name) if name in personal and value is not None else value
        for name, value in values.items()
    }


# --- readers' keys --------------------------------------------------------------------------------------------------


def new_reader_key() -> rsa.RSAPrivateKey:
    """A reader's key pair: citizens' keys are wrapped for its public half."""
    return rsa.generate_private_key(public_exponent=65537, key_size=READER_KEY_BITS)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """A reader's private key as PKCS#8 PEM."""
    encoding, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, pkcs8, serialization.NoEncryption())


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    """The public half of a reader's key, as PEM."""
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@functools.lru_cache(maxsize=64)
def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """A reader's private key from PEM. Loading checks the key's numbers, tens of milliseconds for a reader's key,
    so each PEM is loaded once per process (the same bytes give the same immutable key object; other bytes, such as a
    rotated key's, are loaded and checked anew)."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("a reader's key must be an RSA key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    """A reader's public key from PEM."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("a reader's key must be an RSA key")
    return key


def reader_key_file(directory: Path, reader: str) -> Path:
    """Where a reader's private key is kept in a keys directory (its public half beside it, ``.pub.pem``)."""
    return directory / f"reader-{reader}.pem"


def load_or_create_reader_key(directory: Path, reader: str) -> rsa.RSAPrivateKey:
    """Development only: the reader's key pair in ``directory``, made the first time (both halves written, the
    private one mode 0600), so intake and the reader find the same pair without any setting."""
    private_path = reader_key_file(directory, reader)
    if not private_path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        key = new_reader_key()
        temporary = private_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(private_pem(key))
        temporary.chmod(0o600)
        try:
            os.link(temporary, private_path)  # the first process to get here wins; the others read its key
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
        public_path = private_path.with_suffix(".pub.pem")
        if not public_path.is_file():
            public_path.write_bytes(public_pem(load_private_key(private_path.read_bytes())))
    return load_private_key(private_path.read_bytes())


def wrap(key: CitizenKey, reader: rsa.RSAPublicKey) -> str:
    """``key`` wrapped for ``reader`` (base64), so only the holder of its private half can unwrap it."""
    return base64.b64encode(reader.encrypt(key.secret, _OAEP)).decode()


def unwrap(key_id: str, wrapped: str, reader: rsa.RSAPrivateKey) -> CitizenKey:
    """The citizen key ``wrapped`` holds, unwrapped with the reader's private key."""
    try:
        return CitizenKey(key_id, reader.decrypt(base64.b64decode(wrapped), _OAEP))
    except ValueError as wrong:
        raise SealError(f"key {key_id} was not wrapped for this reader") from wrong


@dataclass(frozen=True)
class WrappedKey:
    """A record of a key topic: a citizen's key wrapped for one reader (its value is this as JSON)."""

    key_id: str
    reader: str
    wrapped: str
    algorithm: str = WRAPPING

    def to_json(self) -> bytes:
        """The record's value."""
        return json.dumps(
            {"key_id": self.key_id, "reader": self.reader, "algorithm": self.algorithm, "wrapped": self.wrapped}
        ).encode()

    @classmethod
    def from_json(cls, value: bytes) -> WrappedKey:
        """A record's value read back; ValueError when it is not one."""
        document = json.loads(value)
        if not isinstance(document, dict) or document.get("algorithm") != WRAPPING:
            raise ValueError(f"not a key wrapped with {WRAPPING}")
        return cls(str(document["key_id"]), str(document["reader"]), str(document["wrapped"]))
