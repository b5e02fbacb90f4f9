"""Opening sealed values in tests as a reader would (decision 0016): the reader's keys as they are on its key topic,
unwrapped with its development private key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from satupintu.common.sealing import (
    CitizenKey,
    WrappedKey,
    is_sealed,
    load_or_create_reader_key,
    open_sealed,
    sealed_key_id,
    unwrap,
)
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.topics import NOTIFICATION_READER, Topic, reader_topic
from satupintu.devtools.testing.kafka import read_to_end


async def reader_keys(kafka: KafkaSettings, keys_dir: Path, reader: str = NOTIFICATION_READER) -> dict[str, CitizenKey]:
    """The citizens' keys on ``reader``'s key topic now (tombstoned ones left out), unwrapped with its development
    private key in ``keys_dir``."""
    private = load_or_create_reader_key(keys_dir, reader)
    found: dict[str, CitizenKey] = {}
    for record in await read_to_end(kafka.bootstrap_servers, kafka.topic_name(reader_topic(reader))):
        key_id = (record.key or b"").decode()
        if not record.value:
            found.pop(key_id, None)
            continue
        wrapped = WrappedKey.from_json(record.value)
        found[key_id] = unwrap(wrapped.key_id, wrapped.wrapped, private)
    return found


def opened(value: Any, keys: dict[str, CitizenKey], *, subject: str, field: str) -> Any:
    """``value`` opened with whichever of ``keys`` sealed it (as it is when it is not sealed)."""
    if not is_sealed(value):
        return value
    return open_sealed(value, keys[sealed_key_id(value)], subject=subject, field=field)


async def delivered_notices(kafka: KafkaSettings, keys_dir: Path, event_type: str) -> list[dict[str, Any]]:
    """The payloads of ``event_type`` on the notifications topic, in order, their sealed values opened as
    notification opens them (for the verification or reset each belongs to): what notification delivers. One whose
    citizen's key is not on notification's key topic yet is left out, as notification holds it (:func:`openable`)."""
    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(Topic.NOTIFICATIONS.name_for()))
    payloads = [json.loads(record.value) for record in records if record.header("ce_type") == event_type]
    keys = await reader_keys(kafka, keys_dir)  # read after the notices, so a key sent before its notice is here
    return [
        opened_payload(payload, keys, subject=payload.get("verification_id") or payload["reset_id"])
        for payload in payloads
        if openable(payload, keys)
    ]


def openable(payload: dict[str, Any], keys: dict[str, CitizenKey]) -> bool:
    """Whether every top-level sealed value of ``payload`` is sealed with one of ``keys``. A reader holds an event
    until its citizen's key arrives: the key is published before the event, but a retried produce to the key
    topic's partition can land after it, so a test reading both topics skips what it cannot open yet."""
    return all(sealed_key_id(value) in keys for value in payload.values() if is_sealed(value))


def opened_payload(payload: dict[str, Any], keys: dict[str, CitizenKey], *, subject: str) -> dict[str, Any]:
    """A payload (JSON) with each of its top-level sealed values opened (sealed by its own name, for ``subject``)."""
    return {name: opened(value, keys, subject=subject, field=name) for name, value in payload.items()}


def opened_submission(payload: ApplicationSubmitted, keys: dict[str, CitizenKey]) -> ApplicationSubmitted:
    """An ``application.submitted`` with its applicant (a business's NPWP too) and form fields opened."""
    subject = payload.application_id
    applicant = payload.applicant.model_copy(
        update={
            name: opened(getattr(payload.applicant, name), keys, subject=subject, field=f"applicant/{name}")
            for name in ("nik", "name", "email", "phone")
        }
    )
    business = payload.applicant.business
    if business is not None:
        npwp = opened(business.npwp, keys, subject=subject, field="applicant/business/npwp")
        applicant = applicant.model_copy(update={"business": business.model_copy(update={"npwp": npwp})})
    data = {name: opened(value, keys, subject=subject, field=name) for name, value in payload.data.items()}
    return payload.model_copy(update={"applicant": applicant, "data": data})
