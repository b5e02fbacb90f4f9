"""Tamper evidence on the real database: a superuser who switches the trigger off and alters one byte of a stored
entry is caught by ``GET /audit/verify`` and by the offline verifier, both naming the entry; an export taken before
still verifies. The test runs on a database and topics of its own, since it breaks the log on purpose."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from tests.conftest import running
from tests.support import produce, record_of, submitted_event

from .conftest import RunningAudit, start_audit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def tampered_audit(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> AsyncIterator[RunningAudit]:
    """An audit service with a database and topics of its own."""
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}tamper."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}tamper_"})
    app, settings = await start_audit(kafka, database)
    async with running(app) as client:
        yield RunningAudit(app, client, settings)


async def export_to(audit: RunningAudit, path: Path, **filters: str) -> None:
    """An export holding every entry so far: a checkpoint first, as an export ends at the latest checkpoint."""
    taken = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
    assert taken.status_code == 201, taken.text
    answer = await audit.client.get("/audit/export", params=filters, headers=audit.auditor())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jsonl")
    await asyncio.to_thread(path.write_bytes, answer.content)


def offline_verify(export: Path, public_key: Path) -> subprocess.CompletedProcess[str]:
    """The console script, as an auditor runs it on their own machine."""
    script = shutil.which("satupintu-audit-verify", path=str(Path(sys.executable).parent))
    assert script is not None, "the satupintu-audit-verify console script is not installed"
    return subprocess.run(
        [script, str(export), "--public-key", str(public_key)], capture_output=True, text=True, timeout=60, check=False
    )


async def test_altering_one_byte_as_superuser_makes_verify_and_the_offline_verifier_name_the_entry(
    tampered_audit: RunningAudit, tmp_path: Path
) -> None:
    audit = tampered_audit
    events = [submitted_event() for _ in range(5)]
    await produce(audit.kafka, Topic.APPLICATIONS.name_for(), [record_of(event) for event in events])
    for event in events:
        await audit.wait_for_rows("ce_id = :id", id=event.id)
    [target] = await audit.rows("ce_id = :id", id=events[2].id)
    public_key = tmp_path / "audit.pub.pem"
    public_key.write_bytes((await audit.client.get("/audit/public-key")).content)
    before = tmp_path / "before.jsonl"
    await export_to(audit, before)
    intact = await audit.client.get("/audit/verify", headers=audit.auditor())

    owner = audit.owner()
    try:
        async with owner.begin() as connection:  # a superuser, working around the trigger
            await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            await connection.execute(
                text(
                    "UPDATE audit_log SET payload = replace(payload::text, '\"skck\"', '\"skcj\"')::json "
                    "WHERE seq = :seq"
                ),
                {"seq": target.seq},
            )
            await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    finally:
        await owner.dispose()
    [altered] = await audit.rows("seq = :seq", seq=target.seq)
    after = tmp_path / "after.jsonl"
    await export_to(audit, after)
    application_only = tmp_path / "application.jsonl"
    await export_to(audit, application_only, application_id=events[2].subject)
    broken = await audit.client.get("/audit/verify", headers=audit.auditor())

    assert altered.payload["service_code"] == "skcj"
    assert intact.status_code == 200
    assert intact.json()["ok"] is True, intact.text
    assert broken.status_code == 200
    assert broken.json()["ok"] is False
    assert broken.json()["first_bad_seq"] == target.seq
    assert f"entry {target.seq}" in broken.json()["reason"]
    still_good = offline_verify(before, public_key)
    assert still_good.returncode == 0, still_good.stderr
    assert still_good.stdout.startswith("OK: ")
    for export in (after, application_only):
        caught = offline_verify(export, public_key)
        assert caught.returncode == 1, (caught.stdout, caught.stderr)
        assert f"entry {target.seq} (ce_id {events[2].id})" in caught.stderr
