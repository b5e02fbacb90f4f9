"""The keys a service reads from its settings, or, left unset for local development, creates once in its keys
directory: the cipher of personal fields, the keyed hasher of look-ups and the session-cookie secret."""

from __future__ import annotations

import base64
from pathlib import Path

from satupintu.common.crypto import LOCAL_KEY_ID, FieldCipher, KeyedHasher, load_or_create_secret

LOOKUP_KEY_FILE = "intake-lookup-key"
"""One development look-up key for every service: the pseudonyms intake sends must be what the mall finds a NIK by."""


def field_cipher(spec: str | None, keys_dir: Path, service: str) -> FieldCipher:
    """The cipher of ``spec`` (``id:base64,...``, the first current) or, unset, of ``service``'s local key."""
    if spec:
        return FieldCipher.from_spec(spec)
    local_key = load_or_create_secret(keys_dir / f"{service}-data-key-{LOCAL_KEY_ID}")
    return FieldCipher({LOCAL_KEY_ID: local_key}, LOCAL_KEY_ID)


def lookup_hasher(key: str | None, keys_dir: Path) -> KeyedHasher:
    """The keyed hasher of ``key`` (base64) or, unset, of the shared local look-up key."""
    if key:
        return KeyedHasher(base64.b64decode(key))
    return KeyedHasher(load_or_create_secret(keys_dir / LOOKUP_KEY_FILE))


def session_secret(secret: str | None, keys_dir: Path, service: str) -> str:
    """The secret that signs ``service``'s session cookies: ``secret`` or, unset, a local one."""
    if secret:
        return secret
    return load_or_create_secret(keys_dir / f"{service}-session-key").hex()
