"""The FastStream Kafka broker every service uses: one idempotent producer per process, ``acks=all``."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
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


class DeadLetterProducer:
    """The producer of a process's dead letters: headers byte for byte (FastStream's ``publish`` takes them as text
    and adds its own), and not idempotent on purpose. An idempotent producer whose record the broker refuses (a dead
    letter too large for its topic) answers ``OutOfOrderSequenceNumber`` to every later send on that partition, and
    the services' own producer must never be the one a poison record can break. Started on the first dead letter."""

    def __init__(self, settings: KafkaSettings, service: str) -> None:
        self._settings = settings
        self._client_id = f"satupintu-{service}-dead-letters"
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def send(self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        """Put one record on ``topic`` and wait for the broker's acknowledgement (``acks=all``)."""
        producer = await self._started()
        await producer.send_and_wait(topic, value, key=key, headers=headers)

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._settings.bootstrap_servers,
                    client_id=self._client_id,
                    acks="all",
                    enable_idempotence=False,
                    request_timeout_ms=30_000,
                    **self._settings.client_options(),
                )
                await producer.start()
                self._producer = producer
            return self._producer

    async def stop(self) -> None:
        """Flush and close the producer, if it was ever started."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


async def readable_headers(records: Any, parse: Callable[[Any], Awaitable[StreamMessage[Any]]]) -> StreamMessage[Any]:
    """A parser for FastStream subscribers: FastStream reads every header as UTF-8 and fails a whole batch on one
    that is not (it never reaches the handler, which would dead-letter it). It gets records whose headers read as
    text, and the message keeps the records as they came, byte for byte, for the handler."""
    batch = records if isinstance(records, tuple | list) else (records,)
    if all(_reads_as_text(value) for record in batch for _, value in record.headers or ()):
        return await parse(records)
    readable = tuple(
        dataclasses.replace(record, headers=[(name, _as_text(value)) for name, value in record.headers or ()])
        for record in batch
    )
    message = await parse(readable if isinstance(records, tuple | list) else readable[0])
    message.raw_message = records
    return message


def _reads_as_text(value: bytes | None) -> bool:
    if value is None:
        return False
    if value.isascii():
        return True
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def _as_text(value: bytes | None) -> bytes:
    return (value or b"").decode("utf-8", errors="replace").encode()


async def raw_body(message: StreamMessage[Any]) -> Any:
    """A decoder that leaves the body as bytes: our handlers parse the CloudEvent themselves, so a malformed body
    reaches them (and the dead-letter topic) instead of failing inside FastStream."""
    return message.body
