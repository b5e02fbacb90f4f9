"""Once-only data: a citizen's profile of what they gave before, reused on a new application only with their
consent and after they prove control of the contact on file with a one-time code sent to it."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.events.envelope import Event
from satupintu.common.events.verification import VerificationCodeIssued
from satupintu.common.identity import mask_email, mask_phone
from satupintu.common.outbox import Outbox
from satupintu.intake.storage.repository import ProfileRepository
from satupintu.intake.storage.tables import CitizenProfile, OneTimeCodeRecord

SOURCE = "/satupintu/intake"
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
_EMAIL, _PHONE, _FIELDS = "citizen_profiles.email", "citizen_profiles.phone", "citizen_profiles.fields"


class OneTimeCodeRefused(Exception):
    """The one-time code is wrong, expired, used up, or was never sent; nothing is reused."""


@dataclass(frozen=True)
class CodeSent:
    """Where a code went (masked), or that there is no contact on file."""

    sent_to: str | None
    channel: Literal["email", "sms"] | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Reusable:
    """Profile values proven reusable by a valid code, and the code to spend when they are used."""

    values: dict[str, Any]
    code_id: str


class ProfileService:
    """Keeps profiles, issues one-time codes, and checks them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        cipher: FieldCipher,
        hasher: KeyedHasher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._hasher = hasher
        self._clock = clock

    def _code_hash(self, verification_id: str, code: str) -> str:
        return self._hasher.hash(f"{verification_id}:{code}")

    async def send_code(self, nik: str, language: Literal["id", "en"]) -> CodeSent:
        """Issue a code to the contact on file (e-mail first, else phone); nothing when there is no profile."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = ProfileRepository(session)
            profile = await repository.profile(nik_hash)
            if profile is None or not (profile.email_ciphertext or profile.phone_ciphertext):
                return CodeSent(None, None, None)
            channel: Literal["email", "sms"]
            if profile.email_ciphertext:
                channel, recipient = "email", self._cipher.decrypt(profile.email_ciphertext, _EMAIL)
                masked = mask_email(recipient)
            else:
                assert profile.phone_ciphertext is not None
                channel, recipient = "sms", self._cipher.decrypt(profile.phone_ciphertext, _PHONE)
                masked = mask_phone(recipient)
            verification_id = str(uuid.uuid4())
            code = f"{secrets.randbelow(1_000_000):06d}"
            expires_at = now + CODE_LIFETIME
            repository.add(
                OneTimeCodeRecord(
                    id=verification_id,
                    nik_hash=nik_hash,
                    code_hash=self._code_hash(verification_id, code),
                    channel=channel,
                    expires_at=expires_at,
                    created_at=now,
                )
            )
            await self._outbox.add(
                session,
                Event(
                    payload=VerificationCodeIssued(
                        verification_id=verification_id,
                        channel=channel,
                        recipient=recipient,
                        code=code,
                        language=language,
                        expires_at=expires_at,
                    ),
                    source=SOURCE,
                    subject=verification_id,
                    actor="citizen",
                ),
            )
        return CodeSent(masked, channel, expires_at)

    async def reusable(self, nik: str, code: str) -> Reusable:
        """The profile's values if ``code`` is the citizen's current, unexpired code; a wrong try is counted."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = ProfileRepository(session)
            issued = await repository.latest_code(nik_hash)
            if issued is None or issued.expires_at <= now or issued.attempts >= MAX_ATTEMPTS:
                raise OneTimeCodeRefused("no valid one-time code: ask for a new one")
            if not secrets.compare_digest(issued.code_hash, self._code_hash(issued.id, code)):
                issued.attempts += 1
                refused = OneTimeCodeRefused("the one-time code is not correct")
            else:
                profile = await repository.profile(nik_hash)
                values = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS)) if profile else {}
                return Reusable(values, issued.id)
        raise refused

    async def spend(self, session: AsyncSession, code_id: str) -> None:
        """Use the code up, in the caller's transaction; refuses a code used concurrently."""
        if not await ProfileRepository(session).use_code(code_id, self._clock()):
            raise OneTimeCodeRefused("the one-time code was already used")

    async def remember(
        self,
        session: AsyncSession,
        nik: str,
        *,
        email: str | None,
        phone: str | None,
        language: str,
        fields: dict[str, Any],
    ) -> None:
        """Keep (or update) the citizen's profile, in the caller's transaction: they consented to reuse."""
        nik_hash = self._hasher.hash(nik)
        repository = ProfileRepository(session)
        profile = await repository.profile(nik_hash, for_update=True)
        now = self._clock()
        if profile is None:
            profile = CitizenProfile(nik_hash=nik_hash, language=language, fields_ciphertext="", updated_at=now)
            repository.add(profile)
            known: dict[str, Any] = {}
        else:
            known = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS))
        profile.fields_ciphertext = self._cipher.encrypt(json.dumps({**known, **fields}, ensure_ascii=False), _FIELDS)
        if email:
            profile.email_ciphertext = self._cipher.encrypt(email, _EMAIL)
        if phone:
            profile.phone_ciphertext = self._cipher.encrypt(phone, _PHONE)
        profile.language = language
        profile.updated_at = now
