"""The satisfaction survey (SKM, Permen PANRB 14/2017): an invitation when an application ends, one answer per
application through the citizen's own link, and the index per service, agency and period, also of business
applicants' answers alone (an answer is linked to its application, so to its applicant kind)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.clock import Clock
from satupintu.common.consumer import UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.outbox import Outbox
from satupintu.contract.envelope import Event
from satupintu.contract.mall import SkmAnswers, SurveyAnswered, SurveyInvited
from satupintu.mall.domain import (
    SKM_ELEMENT_NAMES,
    SkmIndex,
    SurveyAlreadyAnswered,
    SurveyExpired,
    SurveyNotFound,
    skm_index,
)
from satupintu.mall.services import ACTOR, SOURCE, new_event
from satupintu.mall.storage.repository import SurveyRepository
from satupintu.mall.storage.tables import ApplicationRecord, SurveyInvitation, SurveyResponse

CITIZEN_ACTOR = "citizen"
_SUGGESTION = "survey_responses.suggestion"


def token_hash(token: str) -> str:
    """The stored form of a survey link's token (the token itself is only in the link)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class OpenSurvey:
    """A survey the link holder may still answer (or has answered: ``answered``)."""

    invitation: SurveyInvitation
    answered: bool
    expired: bool


class SurveyService:
    """Invites, accepts answers once per application, and computes the index."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        cipher: FieldCipher,
        public_url: str,
        valid_for: timedelta,
        clock: Clock,
        answered: Counter | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._public_url = public_url.rstrip("/")
        self._valid_for = valid_for
        self._clock = clock
        self._answered = answered

    def survey_url(self, token: str) -> str:
        """The citizen's link to the survey page."""
        return f"{self._public_url}/survey/{token}"

    async def invite(
        self,
        uow: UnitOfWork,
        cause: Event[Any],
        application: ApplicationRecord,
        outcome: Literal["completed", "rejected"],
    ) -> None:
        """Invite the applicant of a finished application (once), in the event's transaction."""
        repository = SurveyRepository(uow.session)
        if await repository.invitation(application.application_id) is not None:
            return
        now = self._clock()
        token = secrets.token_urlsafe(24)
        invitation = SurveyInvitation(
            application_id=application.application_id,
            token_hash=token_hash(token),
            tracking_code=application.tracking_code,
            service_code=application.service_code,
            agency=application.agency,
            outcome=outcome,
            language=application.language,
            invited_at=now,
            expires_at=now + self._valid_for,
        )
        repository.add(invitation)
        language: Literal["id", "en"] = "en" if application.language == "en" else "id"
        await uow.emit(
            cause.caused(
                SurveyInvited(
                    application_id=application.application_id,
                    tracking_code=application.tracking_code,
                    service_code=application.service_code,
                    agency=application.agency,
                    outcome=outcome,
                    language=language,
                    survey_url=self.survey_url(token),
                    expires_at=invitation.expires_at,
                    invited_at=now,
                ),
                source=SOURCE,
                actor=ACTOR,
            )
        )

    async def open(self, token: str) -> OpenSurvey:
        """The survey a link leads to; raises :class:`SurveyNotFound` for an unknown link."""
        async with self._sessions() as session:
            repository = SurveyRepository(session)
            invitation = await repository.invitation_by_token(token_hash(token))
            if invitation is None:
                raise SurveyNotFound
            answered = await repository.response(invitation.application_id) is not None
        return OpenSurvey(invitation, answered, expired=invitation.expires_at <= self._clock())

    async def answer(self, token: str, answers: SkmAnswers, suggestion: str | None) -> SurveyResponse:
        """Accept the one answer of the link's application and publish it."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = SurveyRepository(session)
            invitation = await repository.invitation_by_token(token_hash(token))
            if invitation is None:
                raise SurveyNotFound
            if invitation.expires_at <= now:
                raise SurveyExpired
            response = SurveyResponse(
                application_id=invitation.application_id,
                service_code=invitation.service_code,
                agency=invitation.agency,
                suggestion_ciphertext=self._cipher.encrypt(suggestion, _SUGGESTION) if suggestion else None,
                answered_at=now,
                **answers.model_dump(),
            )
            if not await repository.add_response_once(response):
                raise SurveyAlreadyAnswered
            await self._outbox.add(
                session,
                new_event(
                    SurveyAnswered(
                        application_id=invitation.application_id,
                        service_code=invitation.service_code,
                        agency=invitation.agency,
                        answers=answers,
                        suggestion=suggestion,
                        answered_at=now,
                    ),
                    invitation.application_id,
                    CITIZEN_ACTOR,
                ),
            )
        if self._answered is not None:
            self._answered.labels(invitation.service_code).inc()
        return response

    async def index(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        service_code: str | None = None,
        agency: str | None = None,
        applicant_kind: str | None = None,
    ) -> KindedIndex:
        """The index of the answers given in [since, until), of one service or agency, or by one kind of applicant,
        when asked; with the index of each kind of applicant's answers among them."""
        async with self._sessions() as session:
            responses = await SurveyRepository(session).responses(
                since=since, until=until, service_code=service_code, agency=agency, applicant_kind=applicant_kind
            )
        by_kind: dict[str, list[dict[str, int]]] = {}
        for response, kind in responses:
            by_kind.setdefault(kind, []).append(scores(response))
        return KindedIndex(
            overall=skm_index(scores(response) for response, _ in responses),
            by_kind={kind: index for kind, rows in by_kind.items() if (index := skm_index(rows)) is not None},
        )

    async def indexes(self, since: datetime, until: datetime) -> BoardIndexes:
        """The index per service and per agency of the answers given in [since, until), of all applicants and of
        businesses."""
        async with self._sessions() as session:
            responses = await SurveyRepository(session).responses(since=since, until=until)
        groups: dict[tuple[str, str], list[dict[str, int]]] = {}
        for response, kind in responses:
            for group in (("service", response.service_code), ("agency", response.agency)):
                groups.setdefault(group, []).append(scores(response))
                if kind == "business":
                    groups.setdefault((f"business_{group[0]}", group[1]), []).append(scores(response))
        indexes: dict[str, dict[str, SkmIndex]] = {}
        for (scope, key), rows in groups.items():
            if (index := skm_index(rows)) is not None:
                indexes.setdefault(scope, {})[key] = index
        return BoardIndexes(
            by_service=indexes.get("service", {}),
            by_agency=indexes.get("agency", {}),
            business_by_service=indexes.get("business_service", {}),
            business_by_agency=indexes.get("business_agency", {}),
        )


@dataclass(frozen=True)
class KindedIndex:
    """The index of a set of answers (none without any), and of each kind of applicant's answers among them."""

    overall: SkmIndex | None
    by_kind: dict[str, SkmIndex]


@dataclass(frozen=True)
class BoardIndexes:
    """The board's indexes per service and per agency, of all answers and of business applicants' answers."""

    by_service: dict[str, SkmIndex]
    by_agency: dict[str, SkmIndex]
    business_by_service: dict[str, SkmIndex]
    business_by_agency: dict[str, SkmIndex]


def scores(response: SurveyResponse) -> dict[str, int]:
    """The nine scores of a stored answer, by element name."""
    return {name: int(getattr(response, name)) for name in SKM_ELEMENT_NAMES}
