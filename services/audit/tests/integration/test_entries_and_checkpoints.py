"""One entry by its sequence number, past checkpoints page by page, and reads that take no checkpoint of their own:
on an audit service whose checkpoint interval is an hour, so every checkpoint a test sees was asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from satupintu.common.auth import Role
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from tests.conftest import running
from tests.support import produce, record_of, submitted_event

from .conftest import RunningAudit, start_audit

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()


@pytest.fixture(scope="module")
async def quiet_audit(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> AsyncIterator[RunningAudit]:
    """The audit service on the session's topics and database, taking a checkpoint at start-up and then hourly."""
    app, settings = await start_audit(kafka_settings, database_settings, checkpoint_interval_seconds=3600)
    async with running(app) as client:
        yield RunningAudit(app, client, settings)


async def checkpoints(audit: RunningAudit, **params: Any) -> Any:
    answer = await audit.client.get("/audit/checkpoints", params=params, headers=audit.auditor())
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_entry_is_answered_by_its_sequence_number_and_an_absent_one_is_a_problem(
    quiet_audit: RunningAudit,
) -> None:
    audit = quiet_audit
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    [row] = await audit.wait_for_rows("ce_id = :id", id=event.id)
    officer = {"Authorization": f"Bearer {audit.token(Role.OFFICER, subject='budi', agency='polres')}"}

    found = await audit.client.get(f"/audit/entries/{row.seq}", headers=audit.auditor())
    absent = await audit.client.get(f"/audit/entries/{2**62}", headers=audit.auditor())
    refused = await audit.client.get(f"/audit/entries/{row.seq}", headers=officer)
    anonymous = await audit.client.get(f"/audit/entries/{row.seq}")

    assert found.status_code == 200, found.text
    assert (found.json()["seq"], found.json()["ce_id"], found.json()["entry_hash"]) == (
        row.seq,
        event.id,
        row.entry_hash,
    )
    assert found.json()["prev_hash"] == row.prev_hash
    assert absent.status_code == 404
    assert absent.headers["content-type"] == "application/problem+json"
    assert f"no entry {2**62}" in absent.json()["detail"]
    assert (refused.status_code, anonymous.status_code) == (403, 401)


async def test_past_checkpoints_page_newest_first(quiet_audit: RunningAudit) -> None:
    audit = quiet_audit
    taken = []
    for _ in range(3):
        event = submitted_event()
        await produce(audit.kafka, APPLICATIONS, [record_of(event)])
        await audit.wait_for_rows("ce_id = :id", id=event.id)
        answer = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
        assert answer.status_code == 201, answer.text
        taken.append(answer.json())

    pages, cursor = [], None
    while len(pages) < 3:
        page = await checkpoints(audit, limit=1, **({"cursor": cursor} if cursor else {}))
        pages.append(page["items"])
        cursor = page["next_cursor"]
    everything = await checkpoints(audit)
    bad_cursor = await audit.client.get("/audit/checkpoints", params={"cursor": "nonsense"}, headers=audit.auditor())

    assert pages == [[checkpoint] for checkpoint in reversed(taken)]
    sizes = [item["tree_size"] for item in everything["items"]]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[:3] == [checkpoint["tree_size"] for checkpoint in reversed(taken)]
    assert everything["next_cursor"] is None
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"


async def test_reading_twice_without_new_entries_takes_no_new_checkpoint(quiet_audit: RunningAudit) -> None:
    audit = quiet_audit
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    [row] = await audit.wait_for_rows("ce_id = :id", id=event.id)
    taken = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
    assert taken.status_code == 201, taken.text

    first = await audit.client.get("/audit/export", params={"application_id": event.subject}, headers=audit.auditor())
    # the first export is itself logged (access.recorded about the application), so the log has grown
    await audit.wait_for_rows("subject = :id AND type = 'access.recorded'", 1, id=event.subject)
    second = await audit.client.get("/audit/export", params={"application_id": event.subject}, headers=audit.auditor())
    proved = await audit.client.get(f"/audit/proofs/inclusion/{row.seq}", headers=audit.auditor())
    latest = (await checkpoints(audit, limit=1))["items"]

    assert (first.status_code, second.status_code, proved.status_code) == (200, 200, 200)
    assert first.text.splitlines()[1] == second.text.splitlines()[1], "both exports end at the same checkpoint"
    assert '"kind":"checkpoint"' in first.text.splitlines()[1]
    assert proved.json()["tree_size"] == taken.json()["tree_size"]
    assert latest == [taken.json()]
