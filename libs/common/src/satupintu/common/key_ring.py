"""A reader's citizens' keys without a database (docs/decisions/0016-personal-data-where-needed.md): what a key
topic's record says, the ring that opens sealed values with the keys a reader holds, and that ring in memory (an
agency's worker keeps its keys so). The ring a service keeps in its database is :mod:`satupintu.common.citizen_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from satupintu.common.consuming import Invalid, Record, TransientError
from satupintu.common.sealing import (
    CitizenKey,
    WrappedKey,
    is_sealed,
    load_or_create_reader_key,
    load_private_key,
    open_sealed,
    reader_key_file,
    sealed_key_id,
    unwrap,
)


class KeyNotHeld(TransientError):
    """A sealed value whose key has not arrived yet (it passes: retried, parked) or was destroyed (erasure)."""


@dataclass(frozen=True)
class KeyReceived:
    """A key topic's record: a key wrapped for this reader."""

    wrapped: WrappedKey


@dataclass(frozen=True)
class KeyDestroyed:
    """A key topic's tombstone: the key is gone for good."""

    key_id: str


class KeyRing:
    """Opens sealed values with the citizens' keys a reader holds; where they are kept is the subclass's."""

    async def key(self, key_id: str) -> CitizenKey | None:
        """The citizen key ``key_id``, if it arrived and was not destroyed."""
        raise NotImplementedError

    async def open(
        self, value: Any, *, subject: str, field: str, found: dict[str, CitizenKey | None] | None = None
    ) -> Any:
        """The value a sealed ``value`` holds (anything else as it is); :class:`KeyNotHeld` without its key.
        ``found`` keeps the keys looked up for the values opened together, so each is looked up once."""
        if not is_sealed(value):
            return value
        key_id = sealed_key_id(value)
        if found is None or key_id not in found:
            key = await self.key(key_id)
            if found is not None:
                found[key_id] = key
        else:
            key = found[key_id]
        if key is None:
            raise KeyNotHeld(f"the key {key_id} of {subject}/{field} is not held (not yet arrived, or destroyed)")
        return open_sealed(value, key, subject=subject, field=field)

    async def open_fields(self, values: Mapping[str, Any], *, subject: str) -> dict[str, Any]:
        """Every value of ``values`` opened (sealed by its field's name), each key looked up once."""
        found: dict[str, CitizenKey | None] = {}
        return {
            name: await self.open(value, subject=subject, field=name, found=found) for name, value in values.items()
        }


KeyChange = KeyReceived | KeyDestroyed


class MemoryKeyRing(KeyRing):
    """Keys kept in memory (an agency's worker, which has no database of ours): filled from the start of the key
    topic each time the worker starts."""

    def __init__(self, reader: str, private_key: rsa.RSAPrivateKey) -> None:
        self.reader = reader
        self._private_key = private_key
        self._keys: dict[str, CitizenKey] = {}

    async def key(self, key_id: str) -> CitizenKey | None:
        """The citizen key ``key_id``, if it arrived and was not destroyed."""
        return self._keys.get(key_id)

    def keep(self, change: KeyChange) -> bool:
        """Keep an arrived key (unwrapped) or forget a destroyed one; whether anything changed."""
        if isinstance(change, KeyDestroyed):
            return self._keys.pop(change.key_id, None) is not None
        wrapped = change.wrapped
        known = wrapped.key_id in self._keys
        self._keys[wrapped.key_id] = unwrap(wrapped.key_id, wrapped.wrapped, self._private_key)
        return not known


def load_reader_keys(
    readers: Sequence[str], private_keys_dir: Path | None, development_keys_dir: Path
) -> dict[str, rsa.RSAPrivateKey]:
    """The readers' private keys from ``private_keys_dir``, or in development the local pairs, made when missing."""
    if private_keys_dir is not None:
        return {reader: load_private_key(reader_key_file(private_keys_dir, reader).read_bytes()) for reader in readers}
    return {reader: load_or_create_reader_key(development_keys_dir, reader) for reader in readers}


def read_key_record(record: Record, readers: set[str] | frozenset[str]) -> KeyChange | Invalid:
    """What a key topic's record is: a key wrapped for one of ``readers``, a tombstone, or not a key record."""
    if record.value is None:
        if not record.key:
            return Invalid("a tombstone without a key")
        return KeyDestroyed(record.key.decode("utf-8", errors="replace"))
    try:
        wrapped = WrappedKey.from_json(record.value)
    except (ValueError, KeyError, UnicodeDecodeError, RecursionError) as unreadable:
        return Invalid(f"not a wrapped key: {unreadable!r}"[:300])
    if wrapped.reader not in readers:
        return Invalid(f"a key wrapped for {wrapped.reader}, not for {sorted(readers)}")
    return KeyReceived(wrapped)
