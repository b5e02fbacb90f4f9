"""Once-only data: a citizen's profile of what they gave before, reused on a new application only with their
consent and after they prove control of the contact on file with a one-time code sent to it (decisions 0007, 0018).

A profile changes only with proof. A first application that keeps data creates an *unverified* profile and sends a
code to the contact it gave; nothing reuses the profile until a code sent to its contact is confirmed. Once
verified, an application without proof changes nothing in it (a new contact never replaces the verified one), and
only a counter clerk who saw the citizen's KTP can reset its contact. No answer depends on whether a NIK has a
profile: a code asked for a NIK without one is recorded the same way and never delivered. Codes per NIK and wrong
codes per NIK are limited in the database (``satupintu.common.limits``), and a lock is recorded in the audit log.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.limits import Limiter, Quota
from satupintu.common.lockout import LockedOut, Lockout
from satupintu.common.outbox import Outbox
from satupintu.common.sealing import seal
from satupintu.contract.envelope import Event
from satupintu.contract.topics import NOTIFICATION_READER
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued
from satupintu.intake.citizen_keys import CitizenKeys
from satupintu.intake.domain import SOURCE
from satupintu.intake.storage.repository import ProfileRepository
from satupintu.intake.storage.tables import CitizenProfile, OneTimeCodeRecord

CITIZEN = "citizen"
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
"""Wrong tries one code takes before it stops working (the NIK's wrong codes are limited too, see ProfileLimits)."""
NO_CHANNEL = "none"
"""The channel of a code that went nowhere (no profile for the NIK)."""
_EMAIL, _PHONE, _FIELDS = "citizen_profiles.email", "citizen_profiles.phone", "citizen_profiles.fields"
Channel = Literal["email", "sms"]


class OneTimeCodeRefused(Exception):
    """The one-time code is wrong, expired, used up, for another contact, or was never sent; nothing changes. The
    message is the same in every case, so it tells nothing about the NIK."""

    def __init__(self) -> None:
        super().__init__("the one-time code is not correct or no longer valid; ask for a new one")


@dataclass(frozen=True)
class Contact:
    """Where a citizen is reached: by e-mail, else by phone."""

    channel: Channel
    recipient: str

    @classmethod
    def given(cls, email: str | None, phone: str | None) -> Contact | None:
        """The contact an application gives (its e-mail first), if any."""
        if email:
            return cls("email", email)
        if phone:
            return cls("sms", phone)
        return None


@dataclass(frozen=True)
class CodeSent:
    """A code was recorded (and sent to the contact on file, if there is one: the answer does not say)."""

    verification_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Reusable:
    """Profile values proven reusable by a valid code, and the code to spend when they are used."""

    values: dict[str, Any]
    code_id: str


@dataclass(frozen=True)
class ProfileLimits:
    """Codes per NIK per hour, and wrong codes per NIK before a lock; both keyed by the NIK's keyed hash."""

    codes: Quota
    wrong_codes: Quota

    @classmethod
    def of(cls, codes_per_hour: int, wrong_codes: int, lock: timedelta) -> ProfileLimits:
        """The limits with these numbers."""
        return cls(
            Quota("intake.codes", codes_per_hour, timedelta(hours=1)), Quota("intake.wrong-codes", wrong_codes, lock)
        )


class ProfileService:
    """Keeps profiles, issues one-time codes, checks them, and lets a clerk reset a contact."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        cipher: FieldCipher,
        hasher: KeyedHasher,
        *,
        limiter: Limiter,
        limits: ProfileLimits,
        keys: CitizenKeys,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._keys = keys
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._hasher = hasher
        self._limiter = limiter
        self._limits = limits
        self._wrong_codes = Lockout(limiter, limits.wrong_codes)
        self._access = AccessLog(outbox, SOURCE, clock)
        self._clock = clock

    def _code_hash(self, verification_id: str, code: str) -> str:
        return self._hasher.hash(f"{verification_id}:{code}")

    def _contact_hash(self, contact: Contact) -> str:
        return self._hasher.hash(f"contact:{contact.channel}:{contact.recipient}")

    def _on_file(self, profile: CitizenProfile | None) -> Contact | None:
        """The contact on file (e-mail first, else phone), verified or not."""
        if profile is None:
            return None
        if profile.email_ciphertext:
            return Contact("email", self._cipher.decrypt(profile.email_ciphertext, _EMAIL))
        if profile.phone_ciphertext:
            return Contact("sms", self._cipher.decrypt(profile.phone_ciphertext, _PHONE))
        return None

    def _proves(self, record: OneTimeCodeRecord, profile: CitizenProfile | None) -> bool:
        """Whether ``record`` went to the contact now on file of ``profile``."""
        on_file = self._on_file(profile)
        if record.contact_hash is None or on_file is None:
            return False
        return secrets.compare_digest(record.contact_hash, self._contact_hash(on_file))

    async def _audit_lock(self, session: AsyncSession, nik_hash: str, resource: str, action: str, why: str) -> None:
        await self._access.record(
            session,
            CITIZEN,
            subject_id=f"profile:{nik_hash}",
            resource=resource,
            action=action,
            outcome="denied",
            reason=why,
        )

    async def _take_code(self, nik_hash: str) -> bool:
        """Count a code for the NIK; raises LockedOut when its codes of the hour are used. True when this was the
        last one, so the lock starts now."""
        taken = await self._limiter.take(self._limits.codes, nik_hash)
        if not taken.allowed:
            raise LockedOut(self._limits.codes, taken.retry_after)
        return taken.remaining <= 0

    async def _issue(
        self, session: AsyncSession, nik_hash: str, contact: Contact | None, language: Literal["id", "en"]
    ) -> CodeSent:
        """Record a code for ``nik_hash``, and have it delivered to ``contact`` when there is one."""
        verification_id = str(uuid.uuid4())
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires_at = self._clock() + CODE_LIFETIME
        ProfileRepository(session).add(
            OneTimeCodeRecord(
                id=verification_id,
                nik_hash=nik_hash,
                code_hash=self._code_hash(verification_id, code),
                channel=contact.channel if contact else NO_CHANNEL,
                contact_hash=self._contact_hash(contact) if contact else None,
                expires_at=expires_at,
                created_at=self._clock(),
            )
        )
        if contact is not None:
            sealed = await self._sealer(session, nik_hash, verification_id)
            await self._outbox.add(
                session,
                Event(
                    payload=VerificationCodeIssued(
                        verification_id=verification_id,
                        channel=contact.channel,
                        recipient=sealed("recipient", contact.recipient),
                        code=sealed("code", code),
                        language=language,
                        expires_at=expires_at,
                    ),
                    source=SOURCE,
                    subject=verification_id,
                    actor=CITIZEN,
                ),
            )
        return CodeSent(verification_id, expires_at)

    async def _sealer(self, session: AsyncSession, nik_hash: str, subject: str) -> Callable[[str, str], str]:
        """Seals a value of the message ``subject`` for notification, the only reader of a citizen's contact and
        codes (decision 0016), sending it the citizen's key first if it does not have it."""
        now = self._clock()
        key = await self._keys.shared_key(session, nik_hash, [NOTIFICATION_READER], now)
        return lambda field, value: seal(value, key, subject=subject, field=field)

    async def send_code(self, nik: str, language: Literal["id", "en"]) -> CodeSent:
        """Record a code for ``nik`` and send it to the profile's contact (verified or not); without a profile the
        code goes nowhere. The answer is the same either way. Raises LockedOut past the NIK's codes of the hour."""
        nik_hash = self._hasher.hash(nik)
        last = await self._take_code(nik_hash)
        async with self._sessions() as session, session.begin():
            profile = await ProfileRepository(session).profile(nik_hash)
            sent = await self._issue(session, nik_hash, self._on_file(profile), language)
            if last:
                await self._audit_lock(
                    session, nik_hash, "POST /profile/verification", "send-code", "locked: the NIK's codes of the hour"
                )
        return sent

    async def confirm(self, verification_id: str, code: str) -> None:
        """Confirm a code: when it went to the contact on file, that contact is proven and the profile verified.
        Raises OneTimeCodeRefused for a wrong or used-up code (the same for every NIK), LockedOut past the NIK's
        wrong codes."""
        now = self._clock()
        refused: OneTimeCodeRefused | None = None
        async with self._sessions() as session, session.begin():
            repository = ProfileRepository(session)
            record = await repository.code(verification_id)
            if record is None:
                raise OneTimeCodeRefused
            attempt = await self._wrong_codes.attempt(record.nik_hash)
            usable = record.used_at is None and record.expires_at > now and record.attempts < MAX_ATTEMPTS
            if not (usable and secrets.compare_digest(record.code_hash, self._code_hash(record.id, code))):
                record.attempts += 1
                if attempt.failed():
                    await self._audit_lock(
                        session,
                        record.nik_hash,
                        "POST /profile/verification/confirm",
                        "confirm-code",
                        "locked: too many wrong one-time codes",
                    )
                refused = OneTimeCodeRefused()
            else:
                await attempt.succeeded()
                record.used_at = now
                profile = await repository.profile(record.nik_hash, for_update=True)
                if profile is not None and profile.verified_at is None and self._proves(record, profile):
                    profile.verified_at = now
        if refused is not None:
            raise refused

    async def send_contact_code(self, nik: str, contact: Contact, language: Literal["id", "en"]) -> CodeSent:
        """At the counter: record a code for ``nik`` and send it to ``contact``, the contact the citizen in front of
        the clerk gives on their application (not the one on file), so they prove it by reading the code out
        (decision 0036). Counts against the NIK's codes of the hour; raises LockedOut past them."""
        nik_hash = self._hasher.hash(nik)
        last = await self._take_code(nik_hash)
        async with self._sessions() as session, session.begin():
            sent = await self._issue(session, nik_hash, contact, language)
            if last:
                await self._audit_lock(
                    session, nik_hash, "POST /counter/contact-codes", "send-code", "locked: the NIK's codes of the hour"
                )
        return sent

    async def proven_contact(self, nik: str, contact: Contact, verification_id: str, code: str) -> str:
        """The id of the open code ``verification_id`` if it was sent to ``contact`` for ``nik`` and ``code`` is
        it (to spend with the submission: :meth:`spend_contact_code`); a wrong try is counted, the code's and the
        NIK's. Raises OneTimeCodeRefused (the same for every reason), or LockedOut past the NIK's wrong codes."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        attempt = await self._wrong_codes.attempt(nik_hash)
        async with self._sessions() as session, session.begin():
            record = await ProfileRepository(session).code(verification_id)
            if record is not None and record.nik_hash == nik_hash:
                usable = record.used_at is None and record.expires_at > now and record.attempts < MAX_ATTEMPTS
                right = secrets.compare_digest(record.code_hash, self._code_hash(record.id, code))
                sent_there = record.contact_hash is not None and secrets.compare_digest(
                    record.contact_hash, self._contact_hash(contact)
                )
                if usable and right and sent_there:
                    await attempt.succeeded()
                    return record.id
                record.attempts += 1
            if attempt.failed():
                await self._audit_lock(
                    session, nik_hash, "POST /counter/applications", "prove-contact", "locked: too many wrong codes"
                )
        raise OneTimeCodeRefused

    async def spend_contact_code(self, session: AsyncSession, code_id: str) -> None:
        """Use up a code that proved a contact at the counter, in the submission's transaction; refuses one used
        concurrently."""
        if not await ProfileRepository(session).use_code(code_id, self._clock()):
            raise OneTimeCodeRefused

    async def reusable(self, nik: str, code: str) -> Reusable:
        """The verified profile's values if ``code`` is an open code sent to its contact on file; a wrong try is
        counted (the NIK's and the code's). Raises OneTimeCodeRefused, or LockedOut past the NIK's wrong codes."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        attempt = await self._wrong_codes.attempt(nik_hash)
        async with self._sessions() as session, session.begin():
            repository = ProfileRepository(session)
            profile = await repository.profile(nik_hash)
            candidates = await repository.open_codes(nik_hash, now, MAX_ATTEMPTS)
            match = next(
                (c for c in candidates if secrets.compare_digest(c.code_hash, self._code_hash(c.id, code))), None
            )
            if match is not None and profile is not None and self._proves(match, profile):
                await attempt.succeeded()
                values = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS))
                return Reusable(values, match.id)
            for candidate in candidates:
                candidate.attempts += 1
            if attempt.failed():
                await self._audit_lock(
                    session, nik_hash, "POST /applications", "reuse-profile", "locked: too many wrong one-time codes"
                )
        raise OneTimeCodeRefused

    async def own_values(self, nik: str) -> dict[str, Any]:
        """The values of ``nik``'s verified profile, for the citizen the identity provider vouches holds that NIK
        (decision 0024: the verified identity is the proof, so no code is asked); empty without a verified
        profile (an unverified one may hold what someone else typed for this NIK)."""
        async with self._sessions() as session:
            profile = await ProfileRepository(session).profile(self._hasher.hash(nik))
        if profile is None or profile.verified_at is None or not profile.fields_ciphertext:
            return {}
        values: dict[str, Any] = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS))
        return values

    async def spend(self, session: AsyncSession, reusable: Reusable) -> None:
        """Use the code up, in the caller's transaction, and so verify the profile it proves; refuses a code used
        concurrently, or one whose contact is no longer on file."""
        repository = ProfileRepository(session)
        if not await repository.use_code(reusable.code_id, self._clock()):
            raise OneTimeCodeRefused
        record = await repository.code(reusable.code_id)
        profile = await repository.profile(record.nik_hash, for_update=True) if record else None
        if record is None or profile is None or not self._proves(record, profile):
            raise OneTimeCodeRefused
        profile.verified_at = profile.verified_at or self._clock()

    async def keep(
        self,
        session: AsyncSession,
        nik: str,
        *,
        email: str | None,
        phone: str | None,
        language: Literal["id", "en"],
        fields: dict[str, Any],
        proven: bool,
        identified: bool = False,
    ) -> str | None:
        """Keep what an application with consent gave, in its transaction.

        ``proven`` (its code proved the contact on file): the profile's fields are updated, and the contact given
        replaces the one on file. ``identified`` (the citizen signed in with an account whose verified NIK this is;
        decision 0024): the same, and a profile that was missing or unverified is made theirs and verified, with
        the contact given; no code is sent. Otherwise, with a contact given: a new profile is created unverified, an
        unverified one replaced, a verified one left as it is; in every case a code goes to the contact given
        (confirming it verifies only a profile that holds that contact), and its verification id is returned.
        """
        nik_hash = self._hasher.hash(nik)
        repository = ProfileRepository(session)
        now = self._clock()
        if identified:
            contact = Contact.given(email, phone)
            await self._keep_identified(
                repository, nik_hash=nik_hash, contact=contact, fields=fields, language=language, now=now
            )
            return None
        if proven:
            profile = await repository.profile(nik_hash, for_update=True)
            if profile is None:  # spent in this transaction: the profile is there
                raise OneTimeCodeRefused
            known = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS))
            self._write(profile, Contact.given(email, phone), {**known, **fields}, language, now, replace_contact=False)
            return None
        contact = Contact.given(email, phone)
        if contact is None:
            return None
        try:
            last = await self._take_code(nik_hash)
        except LockedOut:
            return None  # the application stands; the citizen asks for a code later
        profile = await repository.profile(nik_hash, for_update=True)
        if profile is None:
            profile = CitizenProfile(nik_hash=nik_hash, language=language, fields_ciphertext="", updated_at=now)
            repository.add(profile)
            self._write(profile, contact, fields, language, now, replace_contact=True)
        elif profile.verified_at is None:
            self._write(profile, contact, fields, language, now, replace_contact=True)
        sent = await self._issue(session, nik_hash, contact, language)
        if last:
            await self._audit_lock(
                session, nik_hash, "POST /applications", "send-code", "locked: the NIK's codes of the hour"
            )
        return sent.verification_id

    async def _keep_identified(
        self,
        repository: ProfileRepository,
        *,
        nik_hash: str,
        contact: Contact | None,
        fields: dict[str, Any],
        language: str,
        now: datetime,
    ) -> None:
        profile = await repository.profile(nik_hash, for_update=True)
        if profile is None:
            profile = CitizenProfile(nik_hash=nik_hash, language=language, fields_ciphertext="", updated_at=now)
            repository.add(profile)
        if profile.verified_at is None:  # nothing in it was proven: what the citizen gives now replaces it all
            self._write(profile, contact, fields, language, now, replace_contact=True)
        else:
            known = json.loads(self._cipher.decrypt(profile.fields_ciphertext, _FIELDS))
            self._write(profile, contact, {**known, **fields}, language, now, replace_contact=False)
        profile.verified_at = profile.verified_at or now

    def _write(
        self,
        profile: CitizenProfile,
        contact: Contact | None,
        fields: dict[str, Any],
        language: str,
        now: datetime,
        *,
        replace_contact: bool,
    ) -> None:
        """Set the profile's fields and language; its contact too when one is given (both channels when
        ``replace_contact``: the old one goes)."""
        profile.fields_ciphertext = self._cipher.encrypt(json.dumps(fields, ensure_ascii=False), _FIELDS)
        if contact is not None:
            if replace_contact:
                profile.email_ciphertext = profile.phone_ciphertext = None
            if contact.channel == "email":
                profile.email_ciphertext = self._cipher.encrypt(contact.recipient, _EMAIL)
            else:
                profile.phone_ciphertext = self._cipher.encrypt(contact.recipient, _PHONE)
        profile.language = language
        profile.updated_at = now

    async def reset_contact(
        self,
        nik: str,
        contact: Contact,
        *,
        language: Literal["id", "en"],
        clerk: str,
        resource: str,
    ) -> str:
        """A counter clerk who saw the citizen's KTP makes ``contact`` the contact on file (the profile verified;
        created empty when there was none), records it in the audit log, and has the old contact and the new one
        told. Returns the reset's id."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        reset_id = str(uuid.uuid4())
        async with self._sessions() as session, session.begin():
            repository = ProfileRepository(session)
            profile = await repository.profile(nik_hash, for_update=True)
            old = self._on_file(profile)
            if profile is None:
                profile = CitizenProfile(
                    nik_hash=nik_hash,
                    language=language,
                    fields_ciphertext=self._cipher.encrypt("{}", _FIELDS),
                    updated_at=now,
                )
                repository.add(profile)
            profile.email_ciphertext = profile.phone_ciphertext = None
            if contact.channel == "email":
                profile.email_ciphertext = self._cipher.encrypt(contact.recipient, _EMAIL)
            else:
                profile.phone_ciphertext = self._cipher.encrypt(contact.recipient, _PHONE)
            profile.language = language
            profile.verified_at = profile.updated_at = now
            sealed = await self._sealer(session, nik_hash, reset_id)
            await self._outbox.add(
                session,
                Event(
                    payload=ProfileContactReset(
                        reset_id=reset_id,
                        old_channel=old.channel if old else None,
                        old_recipient=sealed("old_recipient", old.recipient) if old else None,
                        new_channel=contact.channel,
                        new_recipient=sealed("new_recipient", contact.recipient),
                        language=language,
                        reset_at=now,
                    ),
                    source=SOURCE,
                    subject=reset_id,
                    actor=clerk,
                ),
            )
            await self._access.record(
                session,
                clerk,
                subject_id=f"profile:{nik_hash}",
                resource=resource,
                action="reset-contact",
                outcome="granted",
                reason=None,
            )
        return reset_id

    async def record_refusal(self, actor: str, resource: str, reason: str) -> None:
        """Record in the audit log that ``actor`` was refused a clerk's action."""
        await self._access.record_alone(
            self._sessions,
            actor,
            subject_id="profile",
            resource=resource,
            action="reset-contact",
            outcome="denied",
            reason=reason,
        )

    async def remove_expired_codes(self, batch_size: int) -> int:
        """Delete up to ``batch_size`` codes expired for a day (they can never be tried); how many went."""
        async with self._sessions() as session, session.begin():
            return await ProfileRepository(session).remove_expired_codes(self._clock() - timedelta(days=1), batch_size)
