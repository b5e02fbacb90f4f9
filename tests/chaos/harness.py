"""The chaos tests' harness: the services as real processes on a topic prefix and databases of their own, a load of
applications through intake's HTTP API, consumer-group lag, and the two outcomes every drill must end with:

- every application intake accepted (202) reaches a final state (``application.completed`` on the topic, once,
  and ``completed`` at ``GET /applications/{tracking_code}``), with one task and one completion each;
- the audit log holds every record of every topic exactly once: no duplicate ``ce_id``, no gap in ``seq``, and
  nothing on the topics that is not in it (records the envelope refuses are logged as ``invalid:``, dead letters
  as ``dlq:``, exactly as the audit service names them).

The flow is the shortest full path through the catalogue: NPWP registration (``npwp``), one stage, one task for DJP,
decided by an automatic worker (:mod:`tests.chaos.approver`) that approves everything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.envelope import EnvelopeError, from_record
from satupintu.contract.topics import DLQ_SUFFIX, Topic, all_topic_names
from satupintu.devtools.testing.browser import free_port
from satupintu.devtools.testing.waiting import DeadlineExceeded, eventually
from tests.processes import ManagedProcess, ServiceProcess

APPLICATIONS = int(os.environ.get("CHAOS_APPLICATIONS", "100"))
"""Applications per drill: 100 in ``make test``; ``make chaos`` sets 500."""
SERVICE_CODE = "npwp"
AGENCY = "djp"
WORKER = "chaos-approver"
LEDGER_DATABASE = "chaos_worker"
TERMINAL_TYPES = frozenset({"application.completed", "application.rejected"})
SUBMITTERS = 8
"""Concurrent HTTP clients submitting applications."""

APPLICATIONS_TOPIC = Topic.APPLICATIONS.name_for()
TASKS_TOPIC = Topic.AGENCY_TASKS.name_for(AGENCY)
DECISIONS_TOPIC = Topic.AGENCY_DECISIONS.name_for(AGENCY)


def settle_timeout(applications: int = APPLICATIONS) -> float:
    """How long a run of ``applications`` may take to settle after its fault (a deadline, not a wait)."""
    return 90.0 + 0.6 * applications


def drill_timeout(applications: int = APPLICATIONS) -> float:
    """A pytest timeout for a drill of ``applications``: start-up and fault, then both outcomes' deadlines."""
    return 180.0 + 2 * settle_timeout(applications)


def application_body(marker: str) -> dict[str, Any]:
    """A valid NPWP registration; ``marker`` (the occupation) tells this drill's applications apart."""
    return {
        "service_code": SERVICE_CODE,
        "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "email": "siti@example.id", "language": "id"},
        "data": {"occupation": marker[:100], "monthly_income": 7_500_000, "address": "Jl. Kenanga 5, Samarinda"},
        "consent_reuse": False,
    }


class WorkerProcess(ManagedProcess):
    """The approving agency worker (:mod:`tests.chaos.approver`) as a process; it has no HTTP port."""

    def __init__(
        self, kafka: KafkaSettings, database: DatabaseSettings, log_dir: Path, *, label: str = "", worker: str = WORKER
    ) -> None:
        self.service = "worker"
        self.port = free_port()  # only names the log file
        self.log_path = log_dir / f"worker{label}-{self.port}.log"
        self._env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "KAFKA_PARTITIONS": str(kafka.partitions),
            "DATABASE_URL": database.owner().url,  # an agency's program, owner of its ledger's database
            "DATABASE_NAME_PREFIX": database.name_prefix,
            "CHAOS_AGENCY": AGENCY,
            "CHAOS_WORKER": worker,
            "CHAOS_LEDGER_DATABASE": LEDGER_DATABASE,
            # Downstream of routing, the worker's tasks arrive late while routing itself is disrupted; a frozen
            # worker must keep its partitions until they do, or the drill cannot see it lag (two CI runs failed
            # with "worker was never killed with lag").
            "KAFKA_SESSION_TIMEOUT_MS": "30000",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start the worker process."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("approver.py"))],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the worker says it consumes (its consumer has started)."""

        async def consuming() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            return "consuming" in self.log_path.read_text(errors="replace")

        await eventually(consuming, timeout=timeout, interval=0.1, what="worker consuming")


Process = ServiceProcess | WorkerProcess

CONSUMER_GROUPS = {
    "intake": "satupintu.intake-status",
    "routing": "satupintu.routing",
    "notification": "satupintu.notification",
    "audit": "satupintu.audit",
    "worker": f"satupintu.agency.{AGENCY}.{WORKER}",
    "agency": "satupintu.agency-desk",
    "mall": "satupintu.mall",
}
"""The consumer group whose lag a kill of each process is timed by."""


@dataclass
class Stack:
    """The services of one test module as processes on their own topic prefix and databases."""

    kafka: KafkaSettings
    database: DatabaseSettings
    log_dir: Path
    processes: dict[str, list[Process]] = field(default_factory=lambda: defaultdict(list))
    accepted: dict[str, str] = field(default_factory=dict)
    """Every application accepted in this module: id → tracking code."""
    _labels: Counter[str] = field(default_factory=Counter)

    @property
    def topics(self) -> list[str]:
        """Every topic of the stack (full names), dead-letter topics included."""
        return [self.kafka.topic_name(name) for name in all_topic_names(load_catalogue().agency_codes())]

    def group(self, service: str) -> str:
        """The full consumer-group id of ``service``'s main consumer."""
        return self.kafka.topic_name(CONSUMER_GROUPS[service])

    def group_topics(self, service: str) -> list[str]:
        """The topics that group consumes."""
        if service == "audit":
            return self.topics
        if service in {"worker", "agency"}:
            return [self.kafka.topic_name(TASKS_TOPIC)]
        if service == "routing":
            codes = sorted(load_catalogue().agency_codes())
            names = [APPLICATIONS_TOPIC, *[Topic.AGENCY_DECISIONS.name_for(code) for code in codes]]
            return [self.kafka.topic_name(name) for name in names]
        return [self.kafka.topic_name(APPLICATIONS_TOPIC)]

    def spawn(self, service: str) -> Process:
        """Start one more instance of ``service`` (``worker`` is the approving agency worker)."""
        self._labels[service] += 1
        label = f"-{self._labels[service]}"
        process: Process
        if service == "worker":
            process = WorkerProcess(self.kafka, self.database, self.log_dir, label=label).start()
        else:
            process = ServiceProcess(
                service,
                self.kafka,
                self.database,
                self.log_dir,
                label=label,
                extra_env={
                    "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
                    "INTAKE_DOCUMENTS_DIR": str(self.log_dir / "documents"),
                    # A log line per message costs CPU the drills need; warnings (retries, dead letters) remain.
                    f"{service.upper()}_LOG_LEVEL": "warning",
                },
            ).start()
        self.processes[service].append(process)
        return process

    async def start(self, *services: str) -> None:
        """Start one instance of each service and wait until all are ready."""
        started = [self.spawn(service) for service in services]
        await asyncio.gather(*(process.ready(timeout=120) for process in started))

    def instance(self, service: str, index: int = 0) -> Process:
        """A running instance of ``service``."""
        return self.processes[service][index]

    def forget(self, process: Process) -> None:
        """Drop a killed or stopped process from the stack."""
        self.processes[process.service].remove(process)

    async def restart(self, service: str) -> Process:
        """Start a new instance of ``service`` and wait until it is ready."""
        process = self.spawn(service)
        await process.ready(timeout=120)
        return process

    def stop_all(self) -> None:
        """Stop every process (SIGTERM; a process that does not stop in 30 s is killed)."""
        for instances in self.processes.values():
            for process in instances:
                process.stop()
        self.processes.clear()

    @property
    def intake_url(self) -> str:
        """Where intake answers."""
        return f"http://127.0.0.1:{self.instance('intake').port}"

    def logs(self) -> str:
        """The tail of every process's log, for a failure message."""
        return "\n".join(
            f"--- {process.service} ---\n{process.log_tail(15)}"
            for instances in self.processes.values()
            for process in instances
        )


@dataclass
class Submissions:
    """What intake answered to one load of applications."""

    accepted: dict[str, str] = field(default_factory=dict)
    """application id → tracking code, for every 202."""
    refused: list[httpx.Response] = field(default_factory=list)
    """Every answer other than 202."""
    refused_keys: list[str] = field(default_factory=list)
    """The Idempotency-Key of each refused request."""


async def submit(
    stack: Stack,
    count: int,
    *,
    marker: str = "chaos",
    concurrency: int = SUBMITTERS,
    submissions: Submissions | None = None,
    until: Callable[[], bool] | None = None,
    pace: float = 0.0,
) -> Submissions:
    """POST ``count`` applications to intake (or, with ``until``, keep posting until it says stop, each client at
    most one request per ``pace`` seconds), each with its own Idempotency-Key; accepted ones are added to
    ``stack.accepted``."""
    result = submissions or Submissions()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            if until is None:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
            elif until():
                return
            else:
                index = 0
                await asyncio.sleep(pace)  # a load generator's pace, not a wait for an outcome
            key = f"{marker}-{uuid.uuid4()}"
            answer = await client.post(
                "/applications", json=application_body(f"{marker}-{index}"), headers={"Idempotency-Key": key}
            )
            if answer.status_code == 202:
                body = answer.json()
                result.accepted[body["application_id"]] = body["tracking_code"]
                stack.accepted[body["application_id"]] = body["tracking_code"]
            else:
                result.refused.append(answer)
                result.refused_keys.append(key)

    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=60) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return result


async def resubmit(stack: Stack, keys: Iterable[str], marker: str = "chaos-retry") -> Submissions:
    """Send refused requests again with their Idempotency-Keys (as a client told to retry later does)."""
    result = Submissions()
    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=60) as client:
        for key in keys:
            answer = await client.post("/applications", json=application_body(marker), headers={"Idempotency-Key": key})
            if answer.status_code == 202:
                body = answer.json()
                result.accepted[body["application_id"]] = body["tracking_code"]
                stack.accepted[body["application_id"]] = body["tracking_code"]
                assert "idempotent-replayed" not in answer.headers, f"{key} was stored although it was refused"
            else:
                result.refused.append(answer)
    return result


# --- consumer-group lag -------------------------------------------------------------------------------------------


class LagProbe:
    """Consumer-group lag: end offsets of the group's topics minus the offsets it committed."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=10_000)
        self._offsets = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False)

    async def __aenter__(self) -> LagProbe:
        await self._admin.start()
        await self._offsets.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._offsets.stop()
        await self._admin.close()

    async def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The offset the next record of each partition of ``topics`` will get."""
        count = self._kafka.partitions
        partitions = {TopicPartition(topic, partition) for topic in topics for partition in range(count)}
        if not partitions <= self._offsets.assignment():
            # Assigned (never consumed): the client then holds their metadata, and each call is one round trip
            # instead of a metadata refresh per unknown topic.
            self._offsets.assign(list(partitions | self._offsets.assignment()))
        offsets: dict[TopicPartition, int] = await self._offsets.end_offsets(list(partitions))
        return offsets

    async def committed(self, group: str) -> dict[TopicPartition, int]:
        """The offsets ``group`` has committed (partitions it never committed are absent)."""
        found = await self._admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}

    @staticmethod
    def lag(ends: dict[TopicPartition, int], committed: dict[TopicPartition, int]) -> int:
        """Records not yet committed, summed over the partitions."""
        return sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())

    async def members(self, group: str) -> tuple[str, int]:
        """The group's state (``Stable`` once a rebalance is over) and how many members it has."""
        [response] = await self._admin.describe_consumer_groups([group])
        [described] = response.to_object()["groups"]
        return described["state"], len(described["members"])

    async def group_lag(self, group: str, topics: Iterable[str]) -> int:
        """The lag of ``group`` on ``topics`` now."""
        ends = await self.end_offsets(topics)
        return self.lag(ends, await self.committed(group))


async def kill_with_lag(stack: Stack, service: str, *, index: int = 0, timeout: float = 120.0) -> int:
    """``kill -9`` one instance of ``service`` while its consumer group has lag, and return the lag it died with:
    records on its topics as of just before the kill that the group had not committed just after it.

    With batch consumption a service keeps up with the drills' load, so a probe could wait for lag in vain: the
    instance is first frozen (``SIGSTOP``: it consumes and commits nothing more, its group still holds its
    partitions) while the load goes on, and killed once a partition lags without its commit moving for a second
    (the frozen member's, not a second instance's passing lag). Should the kill still land on no lag, a
    replacement is started and frozen, and the drill repeats until the deadline."""
    group, topics = stack.group(service), stack.group_topics(service)
    victim = stack.instance(service, index)
    deadline = time.monotonic() + timeout
    async with LagProbe(stack.kafka) as probe:
        while time.monotonic() < deadline:
            assert victim.process is not None
            victim.process.send_signal(signal.SIGSTOP)
            if not await stuck_lag(probe, group, topics, deadline):
                break
            ends = await probe.end_offsets(topics)
            victim.kill()
            stack.forget(victim)
            lag_at_kill = probe.lag(ends, await probe.committed(group))
            if lag_at_kill > 0:
                print(f"killed {service} with lag {lag_at_kill}")
                return lag_at_kill
            victim = await stack.restart(service)
    if victim.process is not None and victim.process.poll() is None:
        victim.process.send_signal(signal.SIGCONT)
    raise AssertionError(f"{service} was never killed with lag within {timeout:.0f}s\n{stack.logs()}")


STOP_DEADLINE = 30.0
"""How long a process may take to exit after SIGTERM: the services' ``stop_timeout_seconds`` (20 s) for their
lifespan, uvicorn's grace for open connections before it, and a margin for the interpreter's exit."""


@dataclass(frozen=True)
class Stopped:
    """How a SIGTERM under backlog ended: the lag the process was stopped with, and its exit code."""

    service: str
    lag: int
    exit_code: int


async def freeze_until_lagging(stack: Stack, probe: LagProbe, victims: dict[str, Process], timeout: float) -> None:
    """Freeze (``SIGSTOP``) every victim while the load goes on, and wait until each one's consumer group lags with
    its commit standing still (the frozen member's partitions)."""
    deadline = time.monotonic() + timeout
    for victim in victims.values():
        assert victim.process is not None
        victim.process.send_signal(signal.SIGSTOP)

    async def lagging(service: str) -> None:
        if not await stuck_lag(probe, stack.group(service), stack.group_topics(service), deadline):
            raise AssertionError(f"{service} never lagged while frozen within {timeout:.0f}s\n{stack.logs()}")

    await asyncio.gather(*(lagging(service) for service in victims))


async def stop_with_backlog(stack: Stack, victims: dict[str, Process], timeout: float = 120.0) -> list[Stopped]:
    """Stop each victim (``SIGTERM``) while it has a backlog to consume: frozen until its group lags, then let go
    and asked to stop at once. Each must exit by itself within :data:`STOP_DEADLINE`; the stopped are forgotten."""
    async with LagProbe(stack.kafka) as probe:
        await freeze_until_lagging(stack, probe, victims, timeout)
        lags = {}
        for service in victims:
            ends = await probe.end_offsets(stack.group_topics(service))
            lags[service] = probe.lag(ends, await probe.committed(stack.group(service)))
    for victim in victims.values():
        assert victim.process is not None
        victim.process.send_signal(signal.SIGCONT)
        victim.process.terminate()

    async def exit_code(service: str, victim: Process) -> Stopped:
        try:
            code = await victim.exited(timeout=STOP_DEADLINE)
        except AssertionError as late:
            victim.kill()
            late_exit = f"{service} did not exit within {STOP_DEADLINE}s of SIGTERM:\n{victim.log_tail()}"
            raise AssertionError(late_exit) from late
        stack.forget(victim)
        print(f"stopped {service} with lag {lags[service]}: exit code {code}")
        return Stopped(service, lags[service], code)

    return list(await asyncio.gather(*(exit_code(service, victim) for service, victim in victims.items())))


async def stuck_lag(probe: LagProbe, group: str, topics: list[str], deadline: float) -> bool:
    """Wait until some partition of ``topics`` has records ``group`` has not committed and its commit has not moved
    for a second (sampled once a second); False if the deadline passes first."""
    before: dict[TopicPartition, int] | None = None

    async def stuck() -> bool:
        nonlocal before
        ends, now = await probe.end_offsets(topics), await probe.committed(group)
        previous, before = before, now
        if previous is None:  # the first sample: nothing to compare with yet
            return False
        return any(end > now.get(tp, 0) and now.get(tp, 0) == previous.get(tp, 0) for tp, end in ends.items())

    try:
        await eventually(
            stuck, timeout=max(0.0, deadline - time.monotonic()), interval=1.0, what=f"a stuck commit of {group}"
        )
    except DeadlineExceeded:
        return False
    return True


# --- reading every topic ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One record of a topic, as the outcome checks need it."""

    topic: str
    partition: int
    offset: int
    key: str
    event_type: str | None
    audit_id: str
    """The ``ce_id`` the audit log files this record under."""
    headers: dict[str, str]


def audit_id_of(topic: str, partition: int, offset: int, headers: list[tuple[str, bytes]], value: bytes) -> str:
    """The id the audit service gives a record: dead letters and records that are not valid events get one made
    of their place on the topic (``satupintu.audit.services.AuditService``); events keep their ``ce_id``."""
    if topic.endswith(DLQ_SUFFIX):
        return f"dlq:{topic}:{partition}:{offset}"
    try:
        return from_record(headers, value).id
    except EnvelopeError:
        return f"invalid:{topic}:{partition}:{offset}"


class TopicTail:
    """Every record of the stack's topics, read incrementally (each call reads from where the last one ended)."""

    def __init__(self, kafka: KafkaSettings, topics: list[str]) -> None:
        self._kafka = kafka
        self._topics = topics
        self._positions: dict[TopicPartition, int] = {}
        self.records: list[Seen] = []

    async def catch_up(self) -> list[Seen]:
        """Read up to the end offsets as they are now; return every record read so far."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._kafka.bootstrap_servers, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, partition)
                for topic in self._topics
                for partition in range(self._kafka.partitions)
            ]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            remaining = {tp for tp in partitions if ends[tp] > self._positions.get(tp, 0)}
            for tp in remaining:
                consumer.seek(tp, self._positions.get(tp, 0))
            deadline = time.monotonic() + 60
            while remaining:
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read the topics to their end offsets within 60s: {remaining}")
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, messages in batches.items():
                    for message in messages:
                        if message.offset >= ends[tp]:
                            continue
                        headers = list(message.headers)
                        self.records.append(
                            Seen(
                                topic=message.topic,
                                partition=message.partition,
                                offset=message.offset,
                                key=(message.key or b"").decode(errors="replace"),
                                event_type=dict(headers).get("ce_type", b"").decode(errors="replace") or None,
                                audit_id=audit_id_of(
                                    message.topic, message.partition, message.offset, headers, message.value or b""
                                ),
                                headers={name: raw.decode(errors="replace") for name, raw in headers},
                            )
                        )
                        self._positions[tp] = message.offset + 1
                for tp in list(remaining):
                    if self._positions.get(tp, 0) >= ends[tp]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        return self.records


# --- the outcome every drill must end with -------------------------------------------------------------------------


async def audit_log(database: DatabaseSettings) -> list[tuple[int, str]]:
    """``(seq, ce_id)`` of every entry of the stack's audit log, in order."""
    connection = await asyncpg.connect(database.service_url("audit", driver="postgresql"))
    try:
        rows = await connection.fetch("SELECT seq, ce_id FROM audit_log ORDER BY seq")
    finally:
        await connection.close()
    return [(row["seq"], row["ce_id"]) for row in rows]


async def intake_states(stack: Stack, tracking_codes: Iterable[str]) -> dict[str, str]:
    """tracking code → status, as ``GET /applications/{tracking_code}`` answers it."""
    codes = list(tracking_codes)
    states: dict[str, str] = {}
    semaphore = asyncio.Semaphore(SUBMITTERS)

    async with httpx.AsyncClient(base_url=stack.intake_url, timeout=30) as client:

        async def read(code: str) -> None:
            async with semaphore:
                answer = await client.get(f"/applications/{code}")
                states[code] = answer.json()["status"] if answer.status_code == 200 else f"HTTP {answer.status_code}"

        await asyncio.gather(*(read(code) for code in codes))
    return states


async def assert_every_application_final_and_audited_once(
    stack: Stack, accepted: dict[str, str] | None = None, *, timeout: float | None = None
) -> None:
    """The outcome of every drill: each accepted application final, once; each record audited, once."""
    applications = dict(accepted if accepted is not None else stack.accepted)
    assert applications, "no application was accepted: the drill proves nothing"
    began = time.monotonic()
    deadline = timeout or settle_timeout(len(applications))
    tail = TopicTail(stack.kafka, stack.topics)
    full = stack.kafka.topic_name

    def final_ids(records: list[Seen]) -> set[str]:
        return {
            seen.key for seen in records if seen.topic == full(APPLICATIONS_TOPIC) and seen.event_type in TERMINAL_TYPES
        }

    async def finished() -> set[str]:
        return final_ids(await tail.catch_up()) & applications.keys()

    try:
        await eventually(
            finished,
            lambda done: done == applications.keys(),
            timeout=deadline,
            interval=0.5,
            what=f"all {len(applications)} accepted applications final",
        )
    except AssertionError as late:
        missing = len(applications.keys() - final_ids(tail.records))
        raise AssertionError(f"{missing} applications not final: {late}\n{stack.logs()}") from late

    # Each effect once: one task, one decision applied, one completion (a redelivered record repeats its ce_id).
    per_application: dict[tuple[str, str], set[str]] = defaultdict(set)
    for seen in tail.records:
        if seen.key in applications and seen.event_type is not None:
            per_application[(seen.key, seen.event_type)].add(seen.audit_id)
    print(f"{len(applications)} applications final after {time.monotonic() - began:.1f}s")
    for kind in ("application.submitted", "task.assigned", "task.decided", "application.completed"):
        counts = Counter(len(per_application[(application_id, kind)]) for application_id in applications)
        assert counts == Counter({1: len(applications)}), f"{kind} per application: {counts}"

    async def states() -> dict[str, str]:
        return await intake_states(stack, applications.values())

    await eventually(
        states,
        lambda found: set(found.values()) == {"completed"},
        timeout=60,
        interval=0.5,
        what="intake shows every application completed",
    )

    # The audit log: gapless, each ce_id once, and exactly the records on the topics.
    async def audit_matches_topics() -> tuple[list[tuple[int, str]], set[str]]:
        entries = await audit_log(stack.database)  # read before the topics: the log can only lag behind them
        return entries, {seen.audit_id for seen in await tail.catch_up()}

    def caught_up(found: tuple[list[tuple[int, str]], set[str]]) -> bool:
        entries, expected = found
        return {ce_id for _, ce_id in entries} == expected

    try:
        entries, expected = await eventually(
            audit_matches_topics, caught_up, timeout=deadline, interval=1.0, what="audit log caught up"
        )
    except AssertionError as late:
        entries = await audit_log(stack.database)
        logged = {ce_id for _, ce_id in entries}
        expected = {seen.audit_id for seen in tail.records}
        raise AssertionError(
            f"audit log: {len(expected - logged)} records not logged (e.g. {sorted(expected - logged)[:3]}), "
            f"{len(logged - expected)} logged that are on no topic: {late}\n{stack.logs()}"
        ) from late
    print(f"audit log caught up ({len(entries)} entries) after {time.monotonic() - began:.1f}s")
    ce_ids = [ce_id for _, ce_id in entries]
    assert len(ce_ids) == len(set(ce_ids)), "an event is in the audit log twice"
    assert [seq for seq, _ in entries] == list(range(1, len(entries) + 1)), "the audit log's seq has gaps"
    assert len(entries) == len(expected)


async def run_with_fault(
    stack: Stack, fault: Callable[[Submissions], Awaitable[None]], *, applications: int = APPLICATIONS, marker: str
) -> Submissions:
    """Submit ``applications`` while ``fault`` runs (it gets the submissions so far), then check the outcome."""
    submissions = Submissions()
    began = time.monotonic()
    load = asyncio.create_task(submit(stack, applications, marker=marker, submissions=submissions))
    try:
        await fault(submissions)
        print(f"fault done after {time.monotonic() - began:.1f}s")
        await load
        print(f"{applications} applications submitted after {time.monotonic() - began:.1f}s")
    finally:
        if not load.done():
            load.cancel()
    assert not submissions.refused, [answer.text for answer in submissions.refused[:3]]
    assert len(submissions.accepted) == applications
    await assert_every_application_final_and_audited_once(stack, submissions.accepted)
    return submissions
