"""Baselines A and B: one hop between Kafka topics, hand-written with aiokafka (and asyncpg for B).

A, raw hop: idempotent producer, ``acks=all``, ``linger_ms=5``, 1 KiB values; producer -> relay (consume,
produce) -> sink; the relay commits offsets per batch.
B, durable hop: A plus, for each message, one asyncpg transaction (inbox insert, state upsert, outbox insert)
before producing: the smallest program with Satu Pintu's guarantees.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

VALUE = os.urandom(512).hex().encode()  # 1 KiB

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (event_id text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS state (key text PRIMARY KEY, seen integer NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id bigserial PRIMARY KEY, key text NOT NULL, value bytea NOT NULL);
"""


def producer(bootstrap: str) -> AIOKafkaProducer:
    """The producer every baseline uses."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)


async def fill(bootstrap: str, topic: str, count: int) -> None:
    """Produce ``count`` 1 KiB messages with distinct keys, as a backlog."""
    sender = producer(bootstrap)
    await sender.start()
    try:
        pending = [await sender.send(topic, VALUE, key=str(uuid.uuid4()).encode()) for _ in range(count)]
        await asyncio.gather(*pending)
    finally:
        await sender.stop()


async def relay(bootstrap: str, source: str, target: str, count: int, database_url: str | None) -> None:
    """Consume ``count`` messages from ``source`` and produce each to ``target`` (through the database when given)."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"baseline-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    sender = producer(bootstrap)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2) if database_url else None
    if pool is not None:
        await pool.execute(SCHEMA)
    await consumer.start()
    await sender.start()
    relayed = 0
    try:
        while relayed < count:
            batches = await consumer.getmany(timeout_ms=500)
            pending = []
            for messages in batches.values():
                for message in messages:
                    key = (message.key or b"").decode()
                    if pool is not None:
                        async with pool.acquire() as connection, connection.transaction():
                            await connection.execute(
                                "INSERT INTO inbox VALUES ($1) ON CONFLICT DO NOTHING", f"{key}:{message.offset}"
                            )
                            await connection.execute(
                                "INSERT INTO state VALUES ($1, 1)"
                                " ON CONFLICT (key) DO UPDATE SET seen = state.seen + 1",
                                key,
                            )
                            await connection.execute(
                                "INSERT INTO outbox (key, value) VALUES ($1, $2)", key, message.value
                            )
                    pending.append(await sender.send(target, message.value, key=message.key))
                    relayed += 1
            await asyncio.gather(*pending)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
        await sender.stop()
        if pool is not None:
            await pool.close()


async def sink(bootstrap: str, topic: str, count: int, timeout: float = 300.0) -> float:
    """Wait until ``count`` messages reached ``topic``; the monotonic time the last one arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    received = 0
    deadline = time.monotonic() + timeout
    try:
        while received < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"sink saw {received}/{count} on {topic}")
            batches = await consumer.getmany(timeout_ms=500)
            received += sum(len(messages) for messages in batches.values())
        return time.monotonic()
    finally:
        await consumer.stop()


async def measure_hop(bootstrap: str, source: str, target: str, count: int, database_url: str | None) -> float:
    """Messages per second through one hop over a backlog of ``count``."""
    await fill(bootstrap, source, count)
    started = time.monotonic()
    sink_task = asyncio.create_task(sink(bootstrap, target, count))
    await relay(bootstrap, source, target, count, database_url)
    finished = await sink_task
    return count / (finished - started)
