"""The dead-letter use cases of one service, for operators: list what its consumers dead-lettered, replay it. Every
use, and every refusal, is recorded as ``access.recorded`` through the service's outbox (so it reaches the audit
log) before anything is read or replayed."""

from __future__ import annotations

from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.dead_letters.queues import DeadLetters, Listing, ReplayReport, Selection
from satupintu.common.runtime import ServiceRuntime


class UnknownCriterion(ValueError):
    """A filter names a consumer or a topic that is not this service's: ``field`` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class DeadLetterService:
    """Lists and replays one service's dead letters (:class:`~satupintu.common.dead_letters.queues.DeadLetters`),
    recording who did."""

    def __init__(self, runtime: ServiceRuntime, letters: DeadLetters | None = None) -> None:
        self.service = runtime.name
        self._sessions = runtime.sessions
        self._topic_prefix = runtime.settings.kafka.topic_prefix
        self.letters = letters or DeadLetters(runtime.settings.kafka, runtime.consumers)
        self.access = AccessLog(runtime.outbox, f"/satupintu/{runtime.name}")

    @property
    def subject(self) -> str:
        """What ``access.recorded`` names as accessed: this service's dead letters."""
        return f"dead-letters:{self.service}"

    def consumer_names(self) -> list[str]:
        """The service's consumers, whose dead letters it lists and replays."""
        return sorted(self.letters.consumers())

    def source_topics(self) -> list[str]:
        """The topics this service's consumers read (without the cluster's prefix)."""
        return sorted({topic.removeprefix(self._topic_prefix) for topic in self._topics()})

    async def record_refusal(self, actor: str, resource: str, action: str, reason: str) -> None:
        """Record that ``actor`` was refused ``resource``."""
        await self.access.record_alone(
            self._sessions,
            actor,
            subject_id=self.subject,
            resource=resource,
            action=action,
            outcome="denied",
            reason=reason,
        )

    async def list(self, principal: Principal, resource: str, selection: Selection, limit: int) -> Listing:
        """The newest ``limit`` dead letters ``selection`` selects; the read is recorded first."""
        self._check(selection)
        await self._granted(principal, resource, "read")
        return await self.letters.list(selection, limit)

    async def replay(
        self, principal: Principal, resource: str, selection: Selection, *, limit: int, dry_run: bool
    ) -> ReplayReport:
        """Replay the oldest ``limit`` dead letters ``selection`` selects; the replay is recorded first."""
        self._check(selection)
        await self._granted(principal, resource, "replay")
        return await self.letters.replay(selection, limit=limit, dry_run=dry_run)

    def _check(self, selection: Selection) -> None:
        consumers, topics = self.consumer_names(), self.source_topics()
        unknown = sorted(selection.consumers - set(consumers))
        if unknown:
            raise UnknownCriterion(
                "consumer",
                f"{', '.join(unknown)}: not a consumer of {self.service} (its consumers: {', '.join(consumers)})",
            )
        unknown = sorted(selection.topics - set(topics))
        if unknown:
            raise UnknownCriterion(
                "topic", f"{', '.join(unknown)}: {self.service} does not read it (it reads {', '.join(topics)})"
            )

    def _topics(self) -> set[str]:
        return {topic for consumer in self.letters.consumers().values() for topic in consumer.topics}

    async def _granted(self, principal: Principal, resource: str, action: str) -> None:
        await self.access.record_alone(
            self._sessions,
            principal.actor(),
            subject_id=self.subject,
            resource=resource,
            action=action,
            outcome="granted",
        )
