"""Sign-in attempts and sessions, kept in the service's own database (so they hold across its replicas and restarts,
and a back-channel logout reaching any replica ends them everywhere).

The browser holds only opaque random values; the database keeps their SHA-256, so a copy of it opens no session. An
attempt (state, nonce, PKCE verifier) is taken once: a replayed callback finds nothing. A session keeps who signed in
and the provider's session id (``sid``) a back-channel logout names; the ID token it keeps for RP-initiated logout is
sealed with the service's field cipher, since it names a person.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, ForeignKey, Text, delete, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col

from satupintu.common.auth import Principal
from satupintu.common.clock import Clock
from satupintu.common.crypto import FieldCipher

_SEAL_CONTEXT = "sign-in-session"  # the field cipher's context of what a session seals


def digest(value: str) -> str:
    """What the database keeps of a value the browser holds."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    """A new opaque value for the browser (256 bits)."""
    return secrets.token_urlsafe(32)


class SignInAttempt(SQLModel, table=True):
    """A sign-in sent to the provider and not yet back."""

    __tablename__ = "sign_in_attempts"

    state_digest: str = Field(primary_key=True)
    browser_digest: str = Field(description="Digest of the value the browser that started it holds in a cookie.")
    code_verifier: str = Field(sa_column=Column(Text, nullable=False))
    nonce: str = Field()
    return_to: str = Field()
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class SignInSession(SQLModel, table=True):
    """Someone signed in here through the provider."""

    __tablename__ = "sign_in_sessions"

    id_digest: str = Field(primary_key=True)
    provider_session: str | None = Field(default=None, index=True, description="The provider's `sid`.")
    provider_subject: str = Field(index=True, description="The provider's `sub`.")
    username: str = Field(description="Who, as the provider names them (`preferred_username`, else `sub`).")
    display_name: str = Field(default="")
    roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    agency: str | None = Field(default=None)
    nik: str | None = Field(default=None, description="A citizen's verified NIK, sealed with the field cipher.")
    id_token: str = Field(sa_column=Column(Text, nullable=False), description="Sealed with the field cipher.")
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


SIGN_IN_TABLES: tuple[type[SQLModel], ...] = (SignInAttempt, SignInSession)


class SignInTokens(SQLModel, table=True):
    """The provider's access and refresh tokens of a session, sealed, for a service whose server calls another
    service as the person signed in (the mall's clerk submitting to intake, decision 0036). Only a service that
    lists this table keeps them; they go with their session (``ON DELETE CASCADE``)."""

    __tablename__ = "sign_in_tokens"

    id_digest: str = Field(
        sa_column=Column(Text, ForeignKey("sign_in_sessions.id_digest", ondelete="CASCADE"), primary_key=True)
    )
    access_token: str = Field(sa_column=Column(Text, nullable=False), description="Sealed with the field cipher.")
    refresh_token: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="Sealed with the field cipher."
    )
    access_expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class KeptTokens:
    """A session's tokens, opened."""

    access_token: str
    refresh_token: str | None
    access_expires_at: datetime


class TokenStore:
    """The sessions' provider tokens of one service, sealed in its database (``sign_in_tokens``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> None:
        self._sessions = sessions
        self._cipher = cipher

    async def keep(self, value: str, tokens: KeptTokens) -> None:
        """Keep (or replace) the tokens of the session the browser's ``value`` opens."""
        key = digest(value)
        context = f"{_SEAL_CONTEXT}.tokens.{key}"
        row = SignInTokens(
            id_digest=key,
            access_token=self._cipher.encrypt(tokens.access_token, context),
            refresh_token=self._cipher.encrypt(tokens.refresh_token, context) if tokens.refresh_token else None,
            access_expires_at=tokens.access_expires_at,
        )
        async with self._sessions() as session, session.begin():
            await session.merge(row)

    async def find(self, value: str) -> KeptTokens | None:
        """The tokens of the session ``value`` opens, if kept."""
        key = digest(value)
        context = f"{_SEAL_CONTEXT}.tokens.{key}"
        async with self._sessions() as session:
            row = await session.get(SignInTokens, key)
        if row is None:
            return None
        return KeptTokens(
            access_token=self._cipher.decrypt(row.access_token, context),
            refresh_token=self._cipher.decrypt(row.refresh_token, context) if row.refresh_token else None,
            access_expires_at=row.access_expires_at,
        )


@dataclass(frozen=True)
class Attempt:
    """A taken attempt: what the callback needs to finish it."""

    code_verifier: str
    nonce: str
    return_to: str
    browser_digest: str
    started_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live session: the principal and what logout needs."""

    principal: Principal
    display_name: str
    nik: str | None
    id_token: str
    expires_at: datetime


class SessionStore:
    """Attempts and sessions of one service, in its database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, clock: Clock) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._clock = clock

    async def start_attempt(self, *, state: str, browser: str, code_verifier: str, nonce: str, return_to: str) -> None:
        """Keep an attempt until its callback (or until it is too old to be finished)."""
        async with self._sessions() as session, session.begin():
            session.add(
                SignInAttempt(
                    state_digest=digest(state),
                    browser_digest=digest(browser),
                    code_verifier=code_verifier,
                    nonce=nonce,
                    return_to=return_to,
                    started_at=self._clock(),
                )
            )

    async def take_attempt(self, state: str, *, max_age: timedelta) -> Attempt | None:
        """The attempt ``state`` names, removed so it cannot be finished twice; None when there is none (a wrong or
        replayed state) or it is older than ``max_age``. Stale attempts are cleared on the way."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            taken = (
                await session.execute(
                    delete(SignInAttempt)
                    .where(col(SignInAttempt.state_digest) == digest(state))
                    .returning(SignInAttempt)
                )
            ).scalar_one_or_none()
            await session.execute(delete(SignInAttempt).where(col(SignInAttempt.started_at) < now - max_age))
        if taken is None or taken.started_at < now - max_age:
            return None
        return Attempt(taken.code_verifier, taken.nonce, taken.return_to, taken.browser_digest, taken.started_at)

    async def open(
        self,
        principal: Principal,
        *,
        provider_subject: str,
        provider_session: str | None,
        display_name: str,
        nik: str | None,
        id_token: str,
        lasts: timedelta,
    ) -> str:
        """A new session; the opaque value the browser keeps for it."""
        value = new_secret()
        now = self._clock()
        key = digest(value)
        async with self._sessions() as session, session.begin():
            session.add(
                SignInSession(
                    id_digest=key,
                    provider_session=provider_session,
                    provider_subject=provider_subject,
                    username=principal.subject,
                    display_name=display_name,
                    roles=sorted(principal.roles),
                    agency=principal.agency,
                    nik=self._cipher.encrypt(nik, f"{_SEAL_CONTEXT}.nik.{key}") if nik else None,
                    id_token=self._cipher.encrypt(id_token, f"{_SEAL_CONTEXT}.{key}"),
                    started_at=now,
                    expires_at=now + lasts,
                )
            )
            await session.execute(delete(SignInSession).where(col(SignInSession.expires_at) < now))
        return value

    async def find(self, value: str) -> SignedIn | None:
        """The live session the browser's ``value`` opens; None when there is none or it has expired."""
        key = digest(value)
        async with self._sessions() as session:
            row = await session.get(SignInSession, key)
        if row is None or row.expires_at <= self._clock():
            return None
        principal = Principal(
            subject=row.username, roles=frozenset(row.roles), agency=row.agency, name=row.display_name[:200] or None
        )
        return SignedIn(
            principal=principal,
            display_name=row.display_name,
            nik=self._cipher.decrypt(row.nik, f"{_SEAL_CONTEXT}.nik.{key}") if row.nik else None,
            id_token=self._cipher.decrypt(row.id_token, f"{_SEAL_CONTEXT}.{key}"),
            expires_at=row.expires_at,
        )

    async def end(self, value: str) -> None:
        """End the session the browser's ``value`` opens (signing out here)."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(SignInSession).where(col(SignInSession.id_digest) == digest(value)))

    async def end_provider_sessions(self, *, provider_session: str | None, provider_subject: str | None) -> int:
        """End the sessions of the provider's session (or, when the logout names none, of the subject): how many."""
        clauses = []
        if provider_session:
            clauses.append(col(SignInSession.provider_session) == provider_session)
        elif provider_subject:
            clauses.append(col(SignInSession.provider_subject) == provider_subject)
        if not clauses:
            return 0
        async with self._sessions() as session, session.begin():
            ended: Sequence[str] = (
                (
                    await session.execute(
                        delete(SignInSession).where(or_(*clauses)).returning(col(SignInSession.id_digest))
                    )
                )
                .scalars()
                .all()
            )
        return len(ended)

    async def live_sessions(self, provider_subject: str) -> int:
        """How many live sessions the provider's subject has here (for tests and the operators' view)."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(col(SignInSession.id_digest)).where(
                        col(SignInSession.provider_subject) == provider_subject,
                        col(SignInSession.expires_at) > self._clock(),
                    )
                )
            ).all()
        return len(rows)
