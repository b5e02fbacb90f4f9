"""Notification and citizens' keys (decision 0016), on the real broker and database: an applicant's sealed contact is
opened with the key that arrived for notification on its key topic and the citizen is told as before; when the key's
tombstone arrives (an erasure) the key, the contact and every address and content of the messages to that citizen are
gone, while operators still see that messages were sent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from services.notification.tests.integration.parties import Notification, Outside
from services.notification.tests.integration.test_notification_delivery import completed, publish, submitted
from sqlalchemy import text

from satupintu.common.sealing import CitizenKey, WrappedKey, load_or_create_reader_key, seal, wrap
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import NOTIFICATION_READER, reader_topic
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce

pytestmark = pytest.mark.integration


def sealed_submission(key: CitizenKey, email: str) -> Event[ApplicationSubmitted]:
    """An ``application.submitted`` as intake publishes it: the applicant's values sealed with their key."""
    plain = submitted(email=email)
    applicant = plain.payload.applicant
    subject = plain.payload.application_id
    sealed = {
        name: seal(getattr(applicant, name), key, subject=subject, field=f"applicant/{name}")
        for name in ("nik", "name", "email")
    }
    payload = plain.payload.model_copy(update={"applicant": applicant.model_copy(update=sealed)})
    return Event(payload=payload, source=plain.source, subject=plain.subject, actor=plain.actor, id=plain.id)


async def send_key(kafka: KafkaSettings, notification: Notification, key: CitizenKey | None, key_id: str) -> None:
    """The citizen's key wrapped for notification on its key topic, or (``key`` None) its tombstone."""
    reader = load_or_create_reader_key(notification.settings.auth.keys_dir, NOTIFICATION_READER)
    value: Any = (
        None if key is None else WrappedKey(key_id, NOTIFICATION_READER, wrap(key, reader.public_key())).to_json()
    )
    await produce(kafka, reader_topic(NOTIFICATION_READER), [(key_id.encode(), value, [])])


async def rows(notification: Notification, query: str, **values: str) -> list[Any]:
    async with notification.app.state.runtime.engine.connect() as connection:
        return list(await connection.execute(text(query), values))


async def test_a_sealed_contact_is_told_and_after_its_keys_tombstone_nothing_of_it_remains(
    notification: Notification, outside: Outside, kafka: KafkaSettings
) -> None:
    key = CitizenKey.new()
    email = f"siti.{uuid.uuid4().hex[:8]}@example.id"
    first = sealed_submission(key, email)
    await send_key(kafka, notification, key, key.key_id)
    await publish(kafka, first, completed(first))

    await notification.settled(first.subject, count=2 * 2)  # e-mail and the portal's webhook, for each event
    mails = outside.mail.to(email)
    assert len(mails) == 2
    assert mails[0].get_content().startswith("Yth. Siti,"), "the name was opened with the citizen's key"

    await send_key(kafka, notification, None, key.key_id)

    async def kept() -> tuple[int, int, list[Any]]:
        keys = await rows(notification, "SELECT 1 FROM reader_keys WHERE key_id = :k", k=key.key_id)
        contacts = await rows(notification, "SELECT 1 FROM contacts WHERE application_id = :a", a=first.subject)
        deliveries = await rows(
            notification,
            "SELECT recipient_ciphertext, content_ciphertext, recipient_masked, status FROM deliveries "
            "WHERE application_id = :a AND channel = 'email'",
            a=first.subject,
        )
        return len(keys), len(contacts), deliveries

    _, _, deliveries = await eventually(
        kept, lambda found: found[0] == 0 and found[1] == 0, what="the key and the contact erased"
    )
    assert [(row.recipient_ciphertext, row.content_ciphertext) for row in deliveries] == [("", "")] * 2
    assert {row.status for row in deliveries} == {"sent"}, "operators still see what was sent"
    assert all(email not in row.recipient_masked for row in deliveries)
