"""The FastStream Kafka broker every service uses: one idempotent producer per process, ``acks=all``."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry

from satupintu.common.settings import KafkaSettings


def create_broker(settings: KafkaSettings, service: str, registry: CollectorRegistry | None = None) -> KafkaBroker:
    """The process's broker: an idempotent producer with ``acks=all`` and a short linger for batching; with a
    registry, FastStream's Prometheus middleware measures every message."""
    middlewares = [KafkaPrometheusMiddleware(registry=registry, app_name=service)] if registry is not None else []
    return KafkaBroker(
        settings.bootstrap_servers,
        middlewares=middlewares,
        security=broker_security(settings),
        client_id=f"satupintu-{service}",
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        request_timeout_ms=30_000,
        logger=logging.getLogger(f"satupintu.{service}.broker"),
        graceful_timeout=15.0,
    )


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for the configured protocol (None for plaintext)."""
    context = settings.ssl_context()
    if settings.security_protocol.startswith("SASL"):
        password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        username = settings.sasl_username or ""
        scram = {"SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}.get(settings.sasl_mechanism or "", SASLScram512)
        return scram(username, password, ssl_context=context, use_ssl=context is not None)
    if context is not None:
        return BaseSecurity(ssl_context=context)
    return None


async def broker_ready(broker: KafkaBroker) -> bool:
    """Whether the cluster answers a metadata request within two seconds."""
    try:
        return await broker.ping(timeout=2.0)
    except Exception:
        return False


def raw_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """The broker's own aiokafka producer, for records that must keep their headers byte for byte (dead letters):
    FastStream's ``publish`` takes headers as text and adds a ``content-type``. The same idempotent producer, so
    nothing more to start or stop; reached through FastStream's internals (checked by the dead-letter tests)."""
    producer: AIOKafkaProducer = broker.config.producer._producer.producer  # type: ignore[attr-defined]
    return producer


async def raw_body(message: StreamMessage[Any]) -> Any:
    """A decoder that leaves the body as bytes: our handlers parse the CloudEvent themselves, so a malformed body
    reaches them (and the dead-letter topic) instead of failing inside FastStream."""
    return message.body
