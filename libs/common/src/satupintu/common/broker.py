"""The FastStream Kafka broker every service uses: one idempotent producer per process, ``acks=all``."""

from __future__ import annotations

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry

from satupintu.common.settings import KafkaSettings


def create_broker(settings: KafkaSettings, service: str, registry: CollectorRegistry | None = None) -> KafkaBroker:
    """The process's broker: an idempotent producer with ``acks=all`` and a short linger for batching; with a
    registry, FastStream's Prometheus middleware measures every message."""
    middlewares = [KafkaPrometheusMiddleware(registry=registry, app_name=service)] if registry is not None else []
    return KafkaBroker(
        settings.bootstrap_servers,
        middlewares=middlewares,
        client_id=f"satupintu-{service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        request_timeout_ms=30_000,
        logger=logging.getLogger(f"satupintu.{service}.broker"),
        graceful_timeout=15.0,
    )


async def broker_ready(broker: KafkaBroker) -> bool:
    """Whether the cluster answers a metadata request within two seconds."""
    try:
        return await broker.ping(timeout=2.0)
    except Exception:
        return False


async def raw_body(message: StreamMessage[Any]) -> Any:
    """A decoder that leaves the body as bytes: our handlers parse the CloudEvent themselves, so a malformed body
    reaches them (and the dead-letter topic) instead of failing inside FastStream."""
    return message.body
