"""AsyncAPI documents generated from the code: a service's subscribers as FastStream registered them, plus one
documented publisher per event type the contract says the service produces (``events.contract.PRODUCED_BY``)."""

from __future__ import annotations

import json
from typing import Any, Literal

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field

from satupintu.contract.contract import PRODUCED_BY
from satupintu.contract.topics import KeyTopic

KEYS_PRODUCED_BY = {"intake": tuple(KeyTopic)}
"""Who writes the key topics (decision 0016): intake alone."""


class WrappedKeyRecord(BaseModel):
    """A record of a key topic (compacted; Kafka key: the key id): a citizen's key wrapped for one reader. A record
    whose value is null (a tombstone) destroys the key: the reader deletes its copy (an erasure, decision 0019)."""

    key_id: str = Field(description="The citizen key's id, named in every value sealed with it (`sealed.v1.<id>.`).")
    reader: str = Field(description="The reader it is wrapped for: `notification` or `agency.<code>`.")
    algorithm: Literal["RSA-OAEP-SHA256"] = Field(description="How it is wrapped, for the reader's RSA public key.")
    wrapped: str = Field(description="The 32-byte AES-256-GCM key, wrapped, in base64.")


def asyncapi_document(broker: KafkaBroker, service: str, title: str, version: str = "1") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``service`` whose subscribers are registered on ``broker``.

    Registers documentation-only publishers on ``broker``: call it on a broker built for this purpose, not on a
    running service's.
    """
    for payload in PRODUCED_BY.get(service, ()):
        topic = payload.topic.value  # per-agency topics keep their `{agency}` parameter
        broker.publisher(
            topic,
            title=f"{service}:{payload.event_type}",
            description=f"`{payload.event_type}` ({payload.dataschema()}): {(payload.__doc__ or '').strip()}",
            schema=payload,
        )
    for key_topic in KEYS_PRODUCED_BY.get(service, ()):
        broker.publisher(
            key_topic.value,
            title=f"{service}:citizen-key:{key_topic.value}",
            description=(WrappedKeyRecord.__doc__ or "").strip(),
            schema=WrappedKeyRecord,
        )
    specification = AsyncAPI(broker, title=title, version=version, schema_version="3.0.0").to_specification()
    document: dict[str, Any] = json.loads(specification.to_json())
    return document
