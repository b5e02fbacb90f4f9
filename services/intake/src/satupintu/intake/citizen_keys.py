"""Citizens' keys (docs/decisions/0016-personal-data-where-needed.md): intake makes a key the first time it meets a
NIK, keeps it under its own data keys, seals every personal value that leaves it with that key, and sends the key,
wrapped for each reader that needs it, on that reader's compacted key topic (through the outbox, with the event).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession

from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.crypto import FieldCipher
from satupintu.common.outbox import Outbox
from satupintu.common.sealing import CitizenKey, WrappedKey, load_or_create_reader_key, load_public_key, wrap
from satupintu.contract.topics import NOTIFICATION_READER, agency_reader, reader_topic
from satupintu.intake.storage.repository import CitizenKeyRepository
from satupintu.intake.storage.tables import CitizenKeyRecord

_KEY_COLUMN = "citizen_keys.secret"  # the AES-GCM context of the column, not a password


def readers_of(service: ServiceDefinition) -> set[str]:
    """Who needs the citizen's key for an application to ``service``: notification (the contact) and the agencies of
    its tasks (their visible personal fields, the answers to their questions)."""
    return {NOTIFICATION_READER} | {agency_reader(task.agency) for stage in service.stages for task in stage.tasks}


class ReaderKeys:
    """The public keys of the readers citizens' keys are wrapped for."""

    def __init__(self, public_keys: Mapping[str, rsa.RSAPublicKey]) -> None:
        self._public_keys = dict(public_keys)

    def public_key(self, reader: str) -> rsa.RSAPublicKey:
        """``reader``'s public key; KeyError when none is configured."""
        return self._public_keys[reader]

    @classmethod
    def from_directory(cls, directory: Path, readers: Iterable[str]) -> ReaderKeys:
        """Each reader's ``<reader>.pub.pem`` in ``directory`` (an installation's, from ``make secrets``)."""
        return cls({reader: load_public_key((directory / f"{reader}.pub.pem").read_bytes()) for reader in readers})

    @classmethod
    def for_development(cls, keys_dir: Path, readers: Iterable[str]) -> ReaderKeys:
        """Development only: the readers' pairs in the local keys directory, made when missing (the readers load
        their private halves from the same place)."""
        return cls({reader: load_or_create_reader_key(keys_dir, reader).public_key() for reader in readers})


class CitizenKeys:
    """Gives each citizen a key and sends it to the readers of their applications."""

    def __init__(self, cipher: FieldCipher, readers: ReaderKeys, outbox: Outbox) -> None:
        self._cipher = cipher
        self._readers = readers
        self._outbox = outbox

    async def key_for(self, session: AsyncSession, nik_hash: str, now: datetime) -> CitizenKey:
        """The citizen's key, made now if they have none (in the caller's transaction)."""
        repository = CitizenKeyRepository(session)
        found = await repository.key_of(nik_hash)
        if found is None:
            fresh = CitizenKey.new()
            sealed_secret = self._cipher.encrypt(base64.b64encode(fresh.secret).decode(), _KEY_COLUMN)
            record = CitizenKeyRecord(
                key_id=fresh.key_id, nik_hash=nik_hash, secret_ciphertext=sealed_secret, created_at=now
            )
            if await repository.add_key(record):
                return fresh
            found = await repository.key_of(nik_hash)  # a concurrent first application made one: use that
            assert found is not None
        return self._opened(found.key_id, found.secret_ciphertext)

    def _opened(self, key_id: str, secret_ciphertext: str) -> CitizenKey:
        """A stored key, its secret decrypted from under intake's data keys."""
        return CitizenKey(key_id, base64.b64decode(self._cipher.decrypt(secret_ciphertext, _KEY_COLUMN)))

    async def shared_key(
        self, session: AsyncSession, nik_hash: str, readers: Iterable[str], now: datetime
    ) -> CitizenKey:
        """The citizen's key (made now if they have none), sent to each of ``readers`` that does not have it yet, in
        the caller's transaction; for a known citizen the look-up and the grant are one statement."""
        wanted = sorted(set(readers))
        stored, granted = await CitizenKeyRepository(session).key_granted(nik_hash, wanted, now)
        if stored is None:
            key = await self.key_for(session, nik_hash, now)
            await self.share(session, key, wanted, now)
            return key
        key = self._opened(stored.key_id, stored.secret_ciphertext)
        await self._send(session, key, granted)
        return key

    async def _send(self, session: AsyncSession, key: CitizenKey, readers: Iterable[str]) -> None:
        """Put ``key``, wrapped for each of ``readers``, on that reader's key topic (through the outbox)."""
        for reader in readers:
            wrapped = WrappedKey(key.key_id, reader, wrap(key, self._readers.public_key(reader)))
            await self._outbox.add_record(session, reader_topic(reader), key.key_id, wrapped.to_json())

    async def share(self, session: AsyncSession, key: CitizenKey, readers: Iterable[str], now: datetime) -> None:
        """Send ``key``, wrapped for each of ``readers`` that does not have it yet, on that reader's key topic; in
        the caller's transaction, so it is published with (and before) the events that need it."""
        await self._send(session, key, await CitizenKeyRepository(session).grant(key.key_id, sorted(set(readers)), now))
