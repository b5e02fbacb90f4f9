"""Every checkpoint's signature is checked by ``GET /audit/verify`` against the key ring (the current key and the
retired ones configured), whatever key id it names. Someone who can write the database (the owner, triggers
switched off) swaps a genuine checkpoint for one with a forged key id, one signed by a retired key, or one whose
signature does not verify under the key it names; the first and the last fail naming the checkpoint, the retired
key's passes. Each test puts the genuine checkpoint back. The service runs on a database and topics of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from satupintu.audit.signing import CheckpointSigner, SignedCheckpoint
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from tests.conftest import running
from tests.support import produce, record_of, submitted_event

from .conftest import RunningAudit, start_audit

pytestmark = pytest.mark.integration


def private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Keys:
    """The service's current checkpoint key, a retired key it is configured to trust, and a key it never knew."""

    def __init__(self, directory: Path) -> None:
        current, retired = private_pem(), private_pem()
        self.current_path = directory / "checkpoint-ed25519.pem"
        self.current_path.write_bytes(current)
        self.current = CheckpointSigner(current)
        self.retired = CheckpointSigner(retired)
        self.retired_path = directory / "retired-public-keys.pem"
        self.retired_path.write_text(f"# retired in 2026\n{self.retired.public_key_pem}")
        self.stranger = CheckpointSigner(private_pem())


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("checkpoint-keys"))


@pytest.fixture(scope="module")
async def keyed_audit(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, keys: Keys
) -> AsyncIterator[RunningAudit]:
    """An audit service with a database and topics of its own, signing with ``keys.current`` and trusting
    ``keys.retired`` too."""
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}ring."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}ring_"})
    app, settings = await start_audit(
        kafka,
        database,
        checkpoint_key_path=keys.current_path,
        checkpoint_retired_keys_path=keys.retired_path,
    )
    async with running(app) as client:
        yield RunningAudit(app, client, settings)


async def fresh_checkpoint(audit: RunningAudit) -> SignedCheckpoint:
    """A checkpoint of the log grown by one application, as the service signed it."""
    event = submitted_event()
    await produce(audit.kafka, Topic.APPLICATIONS.name_for(), [record_of(event)])
    await audit.wait_for_rows("ce_id = :id", id=event.id)
    answer = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return SignedCheckpoint(
        tree_size=body["tree_size"],
        root_hash=body["root_hash"],
        time=datetime.fromisoformat(body["time"]),
        key_id=body["key_id"],
        signature=body["signature"],
    )


async def _put_checkpoint(audit: RunningAudit, checkpoint: SignedCheckpoint) -> None:
    """Replace the stored checkpoint of ``checkpoint.tree_size`` entries by ``checkpoint``, as the database owner
    working around the append-only trigger."""
    values: dict[str, Any] = {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "time": checkpoint.time,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    owner = audit.owner()
    async with owner.begin() as connection:
        await connection.execute(text("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only"))
        await connection.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = :tree_size"), values)
        await connection.execute(
            text(
                "INSERT INTO audit_checkpoints (tree_size, root_hash, time, key_id, signature) "
                "VALUES (:tree_size, :root_hash, :time, :key_id, :signature)"
            ),
            values,
        )
        await connection.execute(text("ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only"))
    await owner.dispose()


@asynccontextmanager
async def checkpoint_replaced(
    audit: RunningAudit, genuine: SignedCheckpoint, replacement: SignedCheckpoint
) -> AsyncIterator[None]:
    """The stored ``genuine`` checkpoint swapped for ``replacement`` for the duration, then put back."""
    await _put_checkpoint(audit, replacement)
    try:
        yield
    finally:
        await _put_checkpoint(audit, genuine)


async def verification(audit: RunningAudit) -> dict[str, Any]:
    answer = await audit.client.get("/audit/verify", headers=audit.auditor())
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_checkpoint_inserted_with_a_forged_key_id_fails_verify_naming_it(
    keyed_audit: RunningAudit, keys: Keys
) -> None:
    audit = keyed_audit
    genuine = await fresh_checkpoint(audit)
    # what the old check let through: a key id other than the current one, its signature never looked at
    forged = keys.stranger.sign(genuine.tree_size, genuine.root_hash, genuine.time)

    before = await verification(audit)
    async with checkpoint_replaced(audit, genuine, forged):
        caught = await verification(audit)
    after = await verification(audit)

    assert genuine.key_id == keys.current.key_id
    assert before["ok"] is True, before
    assert caught["ok"] is False
    assert caught["bad_checkpoint"] == genuine.tree_size
    assert caught["first_bad_seq"] is None
    assert f"the checkpoint of {genuine.tree_size} entries (key {keys.stranger.key_id})" in caught["reason"]
    assert "not among its keys" in caught["reason"]
    assert after["ok"] is True, after


async def test_a_checkpoint_signed_by_a_retired_key_in_the_ring_passes(keyed_audit: RunningAudit, keys: Keys) -> None:
    audit = keyed_audit
    genuine = await fresh_checkpoint(audit)
    by_retired_key = keys.retired.sign(genuine.tree_size, genuine.root_hash, genuine.time)

    async with checkpoint_replaced(audit, genuine, by_retired_key):
        result = await verification(audit)
        owner = audit.owner()
        async with owner.connect() as connection:
            stored_key = await connection.scalar(
                text("SELECT key_id FROM audit_checkpoints WHERE tree_size = :size"), {"size": genuine.tree_size}
            )
        await owner.dispose()

    assert stored_key == keys.retired.key_id != keys.current.key_id
    assert result["ok"] is True, result
    assert result["bad_checkpoint"] is None
    assert result["checkpoints_checked"] >= 1


async def test_a_checkpoint_whose_signature_is_wrong_under_a_known_key_fails_naming_it(
    keyed_audit: RunningAudit, keys: Keys
) -> None:
    audit = keyed_audit
    genuine = await fresh_checkpoint(audit)
    signed_by_stranger = keys.stranger.sign(genuine.tree_size, genuine.root_hash, genuine.time)
    mislabelled = SignedCheckpoint(
        tree_size=genuine.tree_size,
        root_hash=genuine.root_hash,
        time=genuine.time,
        key_id=keys.current.key_id,
        signature=signed_by_stranger.signature,
    )

    async with checkpoint_replaced(audit, genuine, mislabelled):
        caught = await verification(audit)

    assert caught["ok"] is False
    assert caught["bad_checkpoint"] == genuine.tree_size
    assert f"the checkpoint of {genuine.tree_size} entries (key {keys.current.key_id})" in caught["reason"]
    assert "its signature does not verify" in caught["reason"]
