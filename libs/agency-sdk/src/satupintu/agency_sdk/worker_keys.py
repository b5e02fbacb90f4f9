"""An agency worker's citizens' keys (docs/decisions/0016-personal-data-where-needed.md): the worker has no database
of ours, so it reads its agency's key topic from the beginning each time it starts, keeps the keys in memory (unwrapped
with the agency's private key), forgets one when its tombstone arrives, and follows the topic while it runs.

A task's sealed fields and answers are opened before the agency's logic sees the task. Intake publishes a citizen's
key before the task that needs it, but this reader may lag behind the tasks topic: a task waits (up to
``key_wait_seconds``) for its key; a key that does not come (destroyed by an erasure) leaves the task to the officers'
desk, like a decision that keeps failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from cryptography.hazmat.primitives.asymmetric import rsa

from satupintu.common.consuming import Invalid
from satupintu.common.key_ring import MemoryKeyRing, read_key_record
from satupintu.common.sealing import is_sealed, load_or_create_reader_key, load_private_key, sealed_key_id
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import KeyTopic, agency_reader

_logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
"""How long a worker waits before reading its key topic again after the reading failed."""


def load_agency_key(agency: str, private_key: Path | rsa.RSAPrivateKey | None) -> rsa.RSAPrivateKey:
    """The agency's private reader key: given, read from a PEM file (``reader-agency.<code>.pem`` from ``make
    secrets``), or in development the local pair intake wraps for, made when missing."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key
    if private_key is not None:
        return load_private_key(private_key.read_bytes())
    return load_or_create_reader_key(AuthSettings().keys_dir, agency_reader(agency))


class WorkerKeys:
    """The citizens' keys wrapped for one agency, followed on its key topic while the worker runs."""

    def __init__(self, agency: str, kafka: KafkaSettings, private_key: rsa.RSAPrivateKey) -> None:
        self.reader = agency_reader(agency)
        self.ring = MemoryKeyRing(self.reader, private_key)
        self._kafka = kafka
        self._topic = kafka.topic_name(KeyTopic.AGENCY.name_for(agency))
        self._changed = asyncio.Event()
        self._following: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Read the key topic from its beginning, and keep following it (in the background: a worker whose keys
        lag still starts, and its tasks wait for their keys)."""
        self._following = asyncio.create_task(self._follow(), name=f"{self.reader} keys")

    async def stop(self) -> None:
        """Stop following the key topic; the keys in memory are dropped."""
        following, self._following = self._following, None
        if following is not None:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following

    async def _follow(self) -> None:
        while True:
            try:
                await self._read_from_beginning()
            except asyncio.CancelledError:
                raise
            except Exception:
                _logger.exception("%s: reading %s failed; reading it again shortly", self.reader, self._topic)
                await asyncio.sleep(RETRY_SECONDS)

    async def _read_from_beginning(self) -> None:
        consumer = AIOKafkaConsumer(
            self._topic,
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=f"satupintu-{self.reader}-keys-{uuid.uuid4().hex[:8]}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._kafka.client_options(),
        )
        try:
            await consumer.start()
            async for record in consumer:
                self._keep(record)
        finally:
            await consumer.stop()

    def _keep(self, record: Any) -> None:
        change = read_key_record(record, {self.reader})
        if isinstance(change, Invalid):
            _logger.warning("%s: skipping a record of %s: %s", self.reader, self._topic, change.reason)
            return
        self.ring.keep(change)
        self._changed.set()

    async def wait_for(self, values: Mapping[str, Any], seconds: float) -> bool:
        """Wait until the key of every sealed one of ``values`` is held; False when one is still missing at the end of
        ``seconds``."""
        needed = {sealed_key_id(value) for value in values.values() if is_sealed(value)}

        async def missing() -> bool:
            return any([await self.ring.key(key_id) is None for key_id in needed])

        try:
            async with asyncio.timeout(seconds):
                while True:
                    self._changed.clear()
                    if not await missing():
                        break
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True
