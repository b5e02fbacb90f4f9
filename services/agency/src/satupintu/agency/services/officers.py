"""The desk's officers: adding them, changing passwords, and checking a login (argon2id)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.agency.storage.repository import OfficerRepository
from satupintu.agency.storage.tables import Officer
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): argon2-cffi's default takes 64 MiB per
# hash, which alone lifted the desk's peak memory past its 150 MB budget. Older hashes keep verifying (their
# parameters are stored in them).
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = PASSWORD_HASHER.hash("satupintu-no-such-officer")


class OfficerError(ValueError):
    """An officer cannot be added or changed as asked; the message says why."""


def password_stamp(officer: Officer) -> str:
    """A short fingerprint of the officer's password hash, kept in the session: a password change logs them out."""
    return hashlib.sha256(officer.password_hash.encode()).hexdigest()[:16]


class OfficerService:
    """Officers of the desk: adding them, changing passwords, and checking a login (argon2id)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._hasher = hasher or PASSWORD_HASHER
        self._clock = clock

    async def add(self, username: str, agency: str, password: str, display_name: str | None = None) -> Officer:
        """Add an officer of ``agency``; :class:`OfficerError` if the name is taken or anything is invalid."""
        username = username.strip().lower()
        agency = agency.strip().lower()
        if not USERNAME_PATTERN.fullmatch(username):
            raise OfficerError("a user name is 2-64 lower-case letters, digits, '.', '_' or '-'")
        if agency not in self._catalogue.agency_codes():
            raise OfficerError(f"unknown agency {agency!r}; known: {', '.join(sorted(self._catalogue.agency_codes()))}")
        self._check_password(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        now = self._clock()
        officer = Officer(
            username=username,
            agency=agency,
            display_name=(display_name or username).strip(),
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        async with self._sessions() as session, session.begin():
            repository = OfficerRepository(session)
            if await repository.get(username) is not None:
                raise OfficerError(f"an officer named {username!r} already exists")
            repository.add(officer)
        return officer

    async def set_password(self, username: str, password: str) -> None:
        """Change an officer's password (their desk sessions end)."""
        self._check_password(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._sessions() as session, session.begin():
            officer = await OfficerRepository(session).get(username.strip().lower())
            if officer is None:
                raise OfficerError(f"no officer named {username!r}")
            officer.password_hash = password_hash
            officer.password_changed_at = self._clock()

    async def officers(self, agency: str | None = None) -> Sequence[Officer]:
        """Every officer (of ``agency``)."""
        async with self._sessions() as session:
            return await OfficerRepository(session).of_agency(agency)

    async def find(self, username: str) -> Officer | None:
        """The officer named ``username``."""
        async with self._sessions() as session:
            return await OfficerRepository(session).get(username)

    async def authenticate(self, username: str, password: str) -> Officer | None:
        """The officer if the password is theirs; None otherwise, taking as long for an unknown name."""
        officer = await self.find(username.strip().lower())
        try:
            await asyncio.to_thread(self._hasher.verify, officer.password_hash if officer else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if officer is None:  # pragma: no cover - nobody knows the dummy password
            return None
        if self._hasher.check_needs_rehash(officer.password_hash):
            await self.set_password(officer.username, password)
            officer = await self.find(officer.username)
        return officer

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise OfficerError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
