"""Processes dying under load: ``kill -9`` of routing, notification, audit or the agency worker while its consumer
group still has lag, then a restart; two instances of every consumer with one of each killed; poison records on
every topic a service consumes. Each drill ends with every accepted application completed once and every record
in the audit log once (:func:`tests.chaos.harness.assert_every_application_final_and_audited_once`).

One set of service processes serves the whole module (on the shared broker and database server, with a topic
prefix and databases of its own); each drill adds its load and its fault on top of what came before.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.chaos.harness import (
    AGENCY,
    APPLICATIONS,
    APPLICATIONS_TOPIC,
    DECISIONS_TOPIC,
    LEDGER_DATABASE,
    TASKS_TOPIC,
    WORKER,
    LagProbe,
    Seen,
    Stack,
    Submissions,
    TopicTail,
    assert_every_application_final_and_audited_once,
    audit_log,
    drill_timeout,
    kill_with_lag,
    run_with_fault,
    stop_with_backlog,
    submit,
)

pytestmark = pytest.mark.chaos

SERVICES = ("intake", "routing", "notification", "audit")
CONSUMERS = ("intake", "routing", "notification", "audit", "worker")


@pytest.fixture(scope="module")
async def stack(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Intake, routing, notification, audit and the approving DJP worker, as processes."""
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}kill."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}kill_"})
    for name in (*SERVICES, "agency", LEDGER_DATABASE):
        await service_database(database, name)
    stack = Stack(kafka, database, tmp_path_factory.mktemp("chaos-processes"))
    try:
        await stack.start(*SERVICES)
        await stack.start("worker")  # its topic exists once the services have created theirs
        yield stack
    finally:
        stack.stop_all()


async def at_least_accepted(submissions: Submissions, count: int) -> None:
    """Wait until intake has accepted ``count`` applications of this load."""

    async def accepted() -> int:
        return len(submissions.accepted)

    await eventually(accepted, lambda found: found >= count, timeout=120, what=f"{count} applications accepted")


@pytest.mark.timeout(drill_timeout())
@pytest.mark.parametrize("service", ["routing", "notification", "audit", "worker"])
async def test_kill_9_with_lag_then_restart_completes_everything_once(stack: Stack, service: str) -> None:
    lags: list[int] = []

    async def kill_and_restart(submissions: Submissions) -> None:
        await at_least_accepted(submissions, APPLICATIONS // 10)
        lags.append(await kill_with_lag(stack, service))
        assert lags[-1] > 0, f"{service} had caught up when it died: the drill proved nothing"
        await stack.restart(service)

    await run_with_fault(stack, kill_and_restart, marker=f"kill-{service}")
    assert len(lags) == 1
    assert lags[0] > 0


@pytest.mark.timeout(drill_timeout() + 120)
async def test_sigterm_while_consuming_a_backlog_exits_within_the_deadline_and_loses_nothing(stack: Stack) -> None:
    await service_database(stack.database, "mall")
    await stack.start("agency", "mall")
    stack.spawn("intake")  # a second intake: its status projection is stopped, the first one takes the load
    await stack.instance("intake", 1).ready(timeout=120)
    async with LagProbe(stack.kafka) as probe:
        await two_members(probe, stack.group("intake"))
    downstream = ("worker", "agency")  # they consume what routing makes of the backlog
    upstream = ("intake", "routing", "notification", "audit", "mall")
    stopped = []

    async def stop_every_consumer(submissions: Submissions) -> None:
        await at_least_accepted(submissions, APPLICATIONS // 10)
        for service in downstream:  # frozen now, so routing's tasks pile up for them while the others are stopped
            process = stack.instance(service)
            assert process.process is not None
            process.process.send_signal(signal.SIGSTOP)
        victims = {service: stack.instance(service, 1 if service == "intake" else 0) for service in upstream}
        stopped.extend(await stop_with_backlog(stack, victims))
        for service in upstream:
            if service != "intake":
                await stack.restart(service)
        stopped.extend(await stop_with_backlog(stack, {service: stack.instance(service) for service in downstream}))
        for service in downstream:
            await stack.restart(service)

    try:
        await run_with_fault(stack, stop_every_consumer, marker="sigterm")
    finally:
        for service in ("agency", "mall"):
            for process in list(stack.processes[service]):
                process.stop()
                stack.forget(process)
    outcomes = {outcome.service: (outcome.lag > 0, outcome.exit_code) for outcome in stopped}
    assert outcomes == dict.fromkeys((*upstream, *downstream), (True, 0)), stopped


async def two_members(probe: LagProbe, group: str) -> None:
    """Wait until ``group`` has two members and its rebalance is over."""

    async def members() -> tuple[str, int]:
        return await probe.members(group)

    await eventually(members, lambda found: found == ("Stable", 2), timeout=60, interval=0.2, what=f"{group} x2")


@pytest.mark.timeout(drill_timeout())
async def test_two_instances_of_each_consumer_one_killed_with_lag_the_other_takes_over(stack: Stack) -> None:
    for service in CONSUMERS:
        stack.spawn(service)
    await asyncio.gather(*(stack.instance(service, 1).ready(timeout=120) for service in CONSUMERS))
    async with LagProbe(stack.kafka) as probe:
        for service in CONSUMERS:
            await two_members(probe, stack.group(service))
    lags: dict[str, int] = {}

    async def kill_one_of_each(submissions: Submissions) -> None:
        await at_least_accepted(submissions, APPLICATIONS // 10)
        # Of intake, the second instance dies: the first one takes the load's requests.
        victims = {service: 1 if service == "intake" else 0 for service in CONSUMERS}
        killed = await asyncio.gather(*(kill_with_lag(stack, service, index=victims[service]) for service in CONSUMERS))
        lags.update(zip(CONSUMERS, killed, strict=True))

    await run_with_fault(stack, kill_one_of_each, marker="two-instances")
    assert {service: lag > 0 for service, lag in lags.items()} == dict.fromkeys(CONSUMERS, True), lags
    assert {service: len(stack.processes[service]) for service in CONSUMERS} == dict.fromkeys(CONSUMERS, 1)


@dataclass(frozen=True)
class Poison:
    """A record no consumer can process, and who must dead-letter it."""

    topic: str
    kind: str
    key: str
    headers: list[tuple[str, bytes]]
    value: bytes
    owners: frozenset[str]
    reason: str
    """A fragment of the ``dlq_reason`` the consumers give."""


POISON_KINDS = ("bad-json", "nested", "missing-ce-type", "ce-type-not-utf8", "invalid-payload")


def poisons() -> list[Poison]:
    """Bad JSON, JSON nested 100,000 deep, a missing ``ce_type``, a ``ce_type`` that is not UTF-8 and an invalid
    payload on every topic a service consumes; the type each carries is one its consumers handle, so none of them
    may skip it (and without a readable type, none can)."""
    handled = {
        APPLICATIONS_TOPIC: ("application.submitted", {"routing", "notification", "mall"}, {"intake-status"}),
        DECISIONS_TOPIC: ("task.decided", {"routing", "agency-watch"}, set()),
        TASKS_TOPIC: ("task.assigned", {"agency-desk", f"agency-{AGENCY}-{WORKER}"}, set()),
        Topic.NOTIFICATIONS.name_for(): ("verification.code_issued", {"notification-codes"}, set()),
        Topic.MALL.name_for(): ("consent.granted", {"intake-consent"}, {"notification-mall"}),
        Topic.ACCESS.name_for(): ("access.recorded", set(), set()),  # only audit reads it, and logs it as invalid
    }
    found: list[Poison] = []
    for topic, (event_type, owners, untyped_owners) in handled.items():
        for kind in POISON_KINDS:
            key = f"poison-{kind}-{uuid.uuid4()}"
            headers = {
                "ce_id": str(uuid.uuid4()),
                "ce_source": "/chaos/poisoner",
                "ce_type": event_type,
                "ce_specversion": "1.0",
                "ce_time": datetime.now(UTC).isoformat(),
                "ce_subject": key,
                "ce_actor": "service:chaos",
                "content-type": "application/json",
            }
            value = json.dumps({"unexpected": True}).encode()
            reason = "does not match"
            expected = owners
            encoded = {name: text.encode() for name, text in headers.items()}
            if kind == "bad-json":
                value, reason = b'{"application_id": ', "not valid JSON"
            elif kind == "nested":
                value, reason = b"[" * 100_000, "not valid JSON"
            elif kind == "missing-ce-type":
                del encoded["ce_type"]
                reason, expected = "missing header ce_type", owners | untyped_owners
            elif kind == "ce-type-not-utf8":
                encoded["ce_type"] = event_type.encode() + b"\xff"
                reason, expected = "ce_type", owners | untyped_owners
            found.append(
                Poison(
                    topic=topic,
                    kind=kind,
                    key=key,
                    headers=list(encoded.items()),
                    value=value,
                    owners=frozenset(expected),
                    reason=reason,
                )
            )
    return found


async def produce_poisons(kafka: KafkaSettings, records: list[Poison]) -> dict[str, tuple[int, int]]:
    """Produce the poisons; key → (partition, offset) of each."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    placed: dict[str, tuple[int, int]] = {}
    try:
        for poison in records:
            metadata = await producer.send_and_wait(
                kafka.topic_name(poison.topic), poison.value, key=poison.key.encode(), headers=poison.headers
            )
            placed[poison.key] = (metadata.partition, metadata.offset)
    finally:
        await producer.stop()
    return placed


@pytest.mark.timeout(drill_timeout())
async def test_poison_on_every_consumed_topic_is_dead_lettered_with_its_reason_and_the_flow_continues(
    stack: Stack,
) -> None:
    await service_database(stack.database, "mall")
    await stack.start("agency", "mall")  # the officers' desk (the agencies' tasks topics) and the mall
    records = poisons()
    placed = await produce_poisons(stack.kafka, records)
    submissions = await submit(stack, APPLICATIONS, marker="after-poison")
    assert len(submissions.accepted) == APPLICATIONS, [answer.text for answer in submissions.refused[:3]]

    await assert_every_application_final_and_audited_once(stack)

    full = stack.kafka.topic_name
    tail = TopicTail(stack.kafka, [full(dead_letter_topic(p.topic)) for p in records])

    def every_owner_dead_lettered(seen: list[Seen]) -> bool:
        return all(
            poison.owners <= {letter.headers.get("dlq_consumer") for letter in seen if letter.key == poison.key}
            for poison in records
        )

    # The back office runs at a lower CPU priority (decision 0037): a consumer no application waits for (the desk)
    # may still be working through its backlog when every application is final.
    dead_letters = await eventually(
        tail.catch_up, every_owner_dead_lettered, timeout=drill_timeout() / 2, interval=1.0, what="dead letters"
    )
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for poison in records:
        letters = [seen for seen in dead_letters if seen.key == poison.key]
        consumers = {seen.headers.get("dlq_consumer") for seen in letters}
        for owner in poison.owners:
            tally[owner]["tried"] += 1
            tally[owner]["dead-lettered" if owner in consumers else "lost"] += 1
    for group, counts in sorted(tally.items()):
        print(f"poison per group: {group:28} {dict(counts)}")
    for poison in records:
        letters = [seen for seen in dead_letters if seen.key == poison.key]
        consumers = {seen.headers.get("dlq_consumer") for seen in letters}
        assert poison.owners <= consumers, f"{poison.kind} on {poison.topic}: dead-lettered by {consumers}"
        for seen in letters:
            assert seen.topic == full(dead_letter_topic(poison.topic))
            assert seen.headers["dlq_topic"] == full(poison.topic)
            assert (int(seen.headers["dlq_partition"]), int(seen.headers["dlq_offset"])) == placed[poison.key]
            assert poison.reason in seen.headers["dlq_reason"], seen.headers["dlq_reason"]
    logged = {ce_id for _, ce_id in await audit_log(stack.database)}
    for poison in records:
        partition, offset = placed[poison.key]
        assert f"invalid:{full(poison.topic)}:{partition}:{offset}" in logged, f"{poison.kind} on {poison.topic}"

    for service in ("agency", "mall"):
        process = stack.instance(service)
        process.stop()
        stack.forget(process)
