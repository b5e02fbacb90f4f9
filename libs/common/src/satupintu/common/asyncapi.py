"""AsyncAPI documents generated from the code: a service's subscribers as FastStream registered them, plus one
documented publisher per event type the contract says the service produces (``events.contract.PRODUCED_BY``)."""

from __future__ import annotations

import json
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from satupintu.common.events.contract import PRODUCED_BY


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
    specification = AsyncAPI(broker, title=title, version=version, schema_version="3.0.0").to_specification()
    document: dict[str, Any] = json.loads(specification.to_json())
    return document
