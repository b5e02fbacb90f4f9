"""Bearer JWT authentication for staff: roles, issuing and verifying tokens, and the FastAPI dependency."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from satupintu.common.settings import AuthSettings

PRIVATE_KEY_FILE = "auth_ed25519.pem"
PUBLIC_KEY_FILE = "auth_ed25519.pub.pem"


class Role(StrEnum):
    """What a member of staff may do: decide tasks (officer), oversee the agency's workload and move its tasks
    between officers (supervisor: an agency head, always an officer too), read the audit trail (auditor), run the
    platform (operator); and a citizen signed in with an account (their own applications, nothing of anyone else's)."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    OPERATOR = "operator"
    CITIZEN = "citizen"


class Principal(BaseModel):
    """The authenticated caller of a request, as read from a verified token."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(
        min_length=1, description="Who the caller is: the token's `preferred_username`, else its `sub`."
    )
    roles: frozenset[Role] = Field(min_length=1, description="What the caller may do.")
    agency: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Lower-case agency code; required for officers."
    )
    name: str | None = Field(
        default=None, max_length=200, description="The person's full name, when the provider gives it (`name`)."
    )

    @field_validator("agency", mode="before")
    @classmethod
    def _lower_agency(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _officers_belong_to_an_agency(self) -> Principal:
        if self.roles & {Role.OFFICER, Role.SUPERVISOR} and not self.agency:
            raise ValueError("an officer or supervisor must belong to an agency")
        return self

    def actor(self) -> str:
        """The CloudEvents actor string: `officer:<agency>:<subject>` (a supervisor's too), `auditor:<subject>` or
        `operator:<subject>`."""
        if self.roles & {Role.OFFICER, Role.SUPERVISOR}:
            return f"officer:{self.agency}:{self.subject}"
        if Role.AUDITOR in self.roles:
            return f"auditor:{self.subject}"
        if Role.OPERATOR in self.roles:
            return f"operator:{self.subject}"
        return f"citizen:{self.subject}"


class AuthenticationError(Exception):
    """A token was missing or could not be trusted; the message says why, for a human."""


class KeySetUnavailableError(Exception):
    """The OIDC provider's signing keys could not be fetched, so no token can be checked right now."""


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private_pem, _public_pem_of(private_pem)


def load_or_create_local_keys(directory: Path) -> tuple[bytes, bytes]:
    """The local signing key pair kept in ``directory``, created once (private key readable by the owner only)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path, public_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if not private_path.exists():
        draft = directory / f".{PRIVATE_KEY_FILE}.{os.getpid()}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as draft_file:
            draft_file.write(generate_keypair()[0])
        try:  # link() fails if another process created the key first; then everyone uses that one
            os.link(draft, private_path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    private_pem = private_path.read_bytes()
    public_pem = _public_pem_of(private_pem)  # derived, so the pair always matches even after a race
    if not public_path.exists() or public_path.read_bytes() != public_pem:
        public_path.write_bytes(public_pem)
    return private_pem, public_pem


def _public_pem_of(private_pem: bytes) -> bytes:
    private_key = serialization.load_pem_private_key(private_pem, password=None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class TokenIssuer:
    """Signs tokens with a local Ed25519 private key: for development, tests, and services that log staff in."""

    def __init__(
        self, settings: AuthSettings, private_key_pem: bytes | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if private_key_pem is None:
            if settings.private_key_path is None:
                raise ValueError("no signing key: pass private_key_pem or set AUTH_PRIVATE_KEY_PATH")
            private_key_pem = settings.private_key_path.read_bytes()
        private_key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        self._private_key = private_key
        self._settings = settings
        self._clock = clock

    def issue(self, subject: str, roles: Iterable[Role], agency: str | None = None, ttl: int | None = None) -> str:
        """A signed token for ``subject``; ``ttl`` (seconds) defaults to the configured token lifetime."""
        principal = Principal(subject=subject, roles=frozenset(roles), agency=agency)
        if ttl is not None and ttl <= 0:
            raise ValueError("a token's lifetime must be positive")
        issued_at = int(self._clock())
        claims: dict[str, Any] = {
            "sub": principal.subject,
            "roles": sorted(principal.roles),
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "iat": issued_at,
            "exp": issued_at + (ttl if ttl is not None else self._settings.token_ttl_seconds),
        }
        if principal.agency is not None:
            claims["agency"] = principal.agency
        return jwt.encode(claims, self._private_key, algorithm="EdDSA")


_REFUSALS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.ExpiredSignatureError, "The token has expired; sign in again."),
    (jwt.ImmatureSignatureError, "The token is not valid yet; check the clock of the machine that issued it."),
    (jwt.InvalidSignatureError, "The token's signature does not match a trusted key."),
    (jwt.InvalidAudienceError, "The token was issued for another audience."),
    (jwt.InvalidIssuerError, "The token was issued by an untrusted issuer."),
    (jwt.InvalidAlgorithmError, "The token is signed with an algorithm this service does not accept."),
    (jwt.DecodeError, "The token is malformed."),
]


class ProviderKeys(jwt.PyJWKClient):
    """An OIDC provider's published signing keys, cached for ``lifespan`` seconds and fetched again at once when a
    token names a key the cache does not hold (the provider rotated its key), but at most once per ``cooldown``
    seconds on such misses, so tokens naming made-up keys cannot make every request fetch the key set.

    ``jwt.PyJWKClient`` alone counts its cool-down from every fetch, the first one included, so a key rotated soon
    after a service fetched the set would be refused until the cool-down passed; here only forced refreshes count.
    """

    def __init__(
        self,
        jwks_url: str,
        lifespan: float,
        cooldown: float,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(jwks_url, cache_jwk_set=True, lifespan=lifespan, timeout=timeout, cooldown_duration=0)
        self._cooldown = cooldown
        self._clock = clock
        self._last_forced_refresh: float | None = None
        self._refresh_lock = threading.Lock()

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        """The key named ``kid``: from the cached set, else from a fresh one unless a miss refreshed it lately."""
        known = self.match_kid(self.get_signing_keys(), kid)
        if known is not None:
            return known
        with self._refresh_lock:
            now = self._clock()
            if self._last_forced_refresh is None or now - self._last_forced_refresh >= self._cooldown:
                self._last_forced_refresh = now
                known = self.match_kid(self.get_signing_keys(refresh=True), kid)
            else:
                known = self.match_kid(self.get_signing_keys(), kid)  # another request may have just refreshed
        if known is None:
            raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
        return known


class TokenVerifier:
    """Checks tokens against a local public key or, when `jwks_url` is set, an OIDC provider's published keys.

    A provider's access token must be signed with one of the pinned algorithms by a key the provider publishes, be
    issued by the configured issuer for the configured audience and carry an expiry; its subject is the
    ``preferred_username`` when there is one (Keycloak's ``sub`` is an opaque id), and only its ``roles`` claim's
    roles of Satu Pintu count.
    """

    def __init__(self, settings: AuthSettings, public_key_pem: bytes | None = None) -> None:
        self._settings = settings
        self._jwks: ProviderKeys | None = None
        if public_key_pem is None and settings.jwks_url:
            self._jwks = ProviderKeys(
                settings.jwks_url,
                lifespan=settings.jwks_cache_seconds,
                cooldown=settings.jwks_refresh_cooldown_seconds,
            )
            return
        if public_key_pem is None and settings.public_key_pem:
            public_key_pem = settings.public_key_pem.encode()
        if public_key_pem is None and settings.public_key_path is not None:
            public_key_pem = settings.public_key_path.read_bytes()
        if public_key_pem is None:
            raise ValueError("no verifying key: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY_PEM or AUTH_PUBLIC_KEY_PATH")
        self._public_key = serialization.load_pem_public_key(public_key_pem)

    def verify(self, token: str | None) -> Principal:
        """The principal a token names; raises `AuthenticationError` when the token cannot be trusted.

        With a JWKS URL this may fetch keys over the network (blocking), so call it from a worker thread.
        """
        if not token:
            raise AuthenticationError(
                "No bearer token was presented; sign in and send `Authorization: Bearer <token>`."
            )
        try:
            key: Any = self._jwks.get_signing_key_from_jwt(token) if self._jwks else self._public_key
            claims = jwt.decode(
                token,
                key,
                algorithms=self._settings.algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["roles", "iss", "aud", "iat", "exp"]},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise KeySetUnavailableError(f"The identity provider's keys could not be fetched: {error}") from error
        except jwt.PyJWKClientError as error:
            raise AuthenticationError(
                "The token is signed with a key the identity provider does not publish."
            ) from error
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationError(f"The token lacks the required `{error.claim}` claim.") from error
        except jwt.PyJWTError as error:
            message = next(
                (text for kind, text in _REFUSALS if isinstance(error, kind)), f"The token is not valid: {error}"
            )
            raise AuthenticationError(message) from error
        return _principal_from(claims)


def _principal_from(claims: dict[str, Any]) -> Principal:
    roles = claims["roles"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise AuthenticationError("The token's `roles` claim must be a list of role names.")
    known = set(roles) & {role.value for role in Role}  # roles of other systems are not ours to refuse
    if not known:
        raise AuthenticationError(f"The token grants none of the roles {', '.join(Role)}.")
    if known & {Role.OFFICER, Role.SUPERVISOR} and not claims.get("agency"):
        raise AuthenticationError("An officer's token must name the officer's agency in its `agency` claim.")
    subject = claims.get("preferred_username") or claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("The token names nobody: it has neither `preferred_username` nor `sub`.")
    try:
        return Principal(
            subject=subject,
            roles=frozenset(Role(role) for role in known),
            agency=claims.get("agency"),
            name=_full_name(claims),
        )
    except ValidationError as error:
        raise AuthenticationError(f"The token's claims are not valid: {error.errors()[0]['msg']}.") from error


def _full_name(claims: dict[str, Any]) -> str | None:
    """The token's ``name`` claim, when it is a usable one."""
    name = claims.get("name")
    return name.strip()[:200] or None if isinstance(name, str) else None


_bearer = HTTPBearer(
    auto_error=False, description="An access token from the OIDC provider (`satupintu-token` locally)."
)


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A FastAPI dependency that admits callers holding any of ``roles`` and returns their `Principal`.

    It is synchronous on purpose: FastAPI runs it in a worker thread, where fetching JWKS keys may block.
    """
    if not roles:
        raise ValueError("require_roles() needs at least one role")
    required = frozenset(roles)

    def authenticated_principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        verifier = getattr(request.app.state, "token_verifier", None)
        if not isinstance(verifier, TokenVerifier):
            raise RuntimeError("app.state.token_verifier must be a TokenVerifier; set it in create_app()")
        try:
            principal = verifier.verify(credentials.credentials if credentials else None)
        except AuthenticationError as error:
            raise HTTPException(401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}) from error
        except KeySetUnavailableError as error:
            raise HTTPException(503, detail="Sign-in cannot be checked right now; try again shortly.") from error
        if not principal.roles & required:
            needed = " or ".join(sorted(required))
            raise HTTPException(
                403, detail=f"This needs the {needed} role; your token grants {', '.join(sorted(principal.roles))}."
            )
        return principal

    return authenticated_principal
