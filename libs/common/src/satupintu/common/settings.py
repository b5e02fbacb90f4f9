"""Settings shared by every service: where Kafka and PostgreSQL are, and how a service is served.

Read once, in each service's ``create_app()``; never at import time.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from satupintu.common.production import Environment, Secret, environment_field, refuse_development_defaults

LOCAL_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
LOCAL_DATABASE_SERVER_URL = "postgresql://postgres@127.0.0.1:55432/postgres"
LOCAL_ISSUER = "satupintu-local"
"""The issuer of tokens minted locally (``satupintu-token`` with the development keys); never accepted in production."""
JWKS_CACHE_SECONDS = 300.0
"""How long a provider's published keys are kept (`AUTH_JWKS_CACHE_SECONDS`; page sign-in uses the same)."""
JWKS_REFRESH_COOLDOWN_SECONDS = 10.0
"""The least time between two fetches forced by unknown key ids (`AUTH_JWKS_REFRESH_COOLDOWN_SECONDS`)."""


class KafkaSettings(BaseSettings):
    """Where the Kafka cluster is and how topics are laid out on it."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore", hide_input_in_errors=True)

    bootstrap_servers: str = Field(
        default=LOCAL_KAFKA_BOOTSTRAP, description="Comma-separated host:port list of Kafka brokers."
    )
    topic_prefix: str = Field(
        default="",
        description="Prepended to every topic name; lets test sessions and tenants share one cluster.",
    )
    partitions: int = Field(default=6, ge=1, description="Partitions of each topic created at start-up.")
    replication_factor: int = Field(default=1, ge=1, description="Replication factor of created topics.")
    create_topics: bool = Field(
        default=True,
        description="Create missing topics at start-up; off where an operator (Strimzi) owns the topics.",
    )
    linger_ms: int = Field(default=5, ge=0, description="How long the producer waits to fill a batch.")
    max_batch_records: int = Field(
        default=200, ge=1, description="Most records a consumer takes in one batch (one transaction, one commit)."
    )
    fetch_max_bytes: int = Field(
        default=1_048_576,
        ge=65_536,
        description="Most bytes a consumer fetches ahead per request: bounds its memory in a "
        "backlog (aiokafka's default of 50 MB lets a service grow past its 150 MB budget).",
    )
    partition_fetch_bytes: int = Field(
        default=1_048_576,
        ge=4_096,
        description="Most bytes a consumer fetches ahead per partition: big fetches drain one topic's backlog fastest.",
    )
    fair_partition_fetch_bytes: int = Field(
        default=16_384,
        ge=4_096,
        description="Most bytes fetched ahead per partition by a consumer of every agency's topics (the desk's task "
        "inbox): it hands out one partition's fetched records before the next's, so a small share keeps one agency's "
        "backlog from queueing another's tasks behind megabytes of its own, at the cost of draining one backlog "
        "slower (docs/performance.md, one slow agency).",
    )
    gather_ms: int = Field(
        default=100,
        ge=0,
        description="How long the broker may hold a fetch of a consumer off the first-task path (intake's status, "
        "notification, audit, the mall, payment) until `gather_bytes` arrived: under load a batch of many events "
        "shares one transaction and one commit instead of a few; idle, an event waits at most this long.",
    )
    gather_bytes: int = Field(
        default=65_536,
        ge=1,
        description="How many bytes such a consumer's fetch waits for (at most `gather_ms`).",
    )
    batch_wait_ms: int = Field(
        default=20,
        ge=1,
        description="How long an idle consumer waits for records before polling again; bounds the added latency.",
    )
    session_timeout_ms: int = Field(
        default=10_000,
        ge=6_000,
        description="How long a consumer that stopped answering (crashed, frozen) keeps its partitions before the "
        "group gives them to the others; a consumer that stops cleanly leaves at once.",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to the brokers (SASL_SSL with Strimzi's TLS listener)."
    )
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] | None = Field(
        default=None, description="SASL mechanism when the protocol is SASL_*."
    )
    sasl_username: str | None = Field(default=None, description="The service's (or agency's) Kafka user.")
    sasl_password: Annotated[SecretStr | None, Secret(required=False)] = Field(
        default=None, description="That user's password."
    )
    ssl_cafile: str | None = Field(default=None, description="CA certificate that signed the brokers' certificates.")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context trusting ``ssl_cafile`` when the protocol uses TLS."""
        if not self.security_protocol.endswith("SSL"):
            return None
        return ssl.create_default_context(cafile=self.ssl_cafile)

    def client_options(self) -> dict[str, Any]:
        """Security options for aiokafka clients (admin, consumers, producers) made outside FastStream."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.sasl_mechanism or "SCRAM-SHA-512"
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value() if self.sasl_password else None
        return options

    def topic_name(self, name: str) -> str:
        """The name a logical topic has on this cluster."""
        return f"{self.topic_prefix}{name}"


class AuthSettings(BaseSettings):
    """How tokens are issued and verified: issuer, audience, keys (local PEM or an OIDC JWKS) and lifetimes."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    issuer: str = Field(default=LOCAL_ISSUER, description="The `iss` claim tokens carry and must carry.")
    audience: str = Field(default="satupintu", description="The `aud` claim tokens carry and must carry.")
    private_key_path: Path | None = Field(default=None, description="PEM file of the Ed25519 key that signs tokens.")
    public_key_path: Path | None = Field(default=None, description="PEM file of the Ed25519 key that verifies tokens.")
    public_key_pem: str | None = Field(default=None, description="The verifying public key as PEM text.")
    jwks_url: str | None = Field(
        default=None, description="An OIDC provider's JWKS URL; when set, tokens are verified with its keys."
    )
    token_ttl_seconds: int = Field(default=3600, gt=0, description="Lifetime of issued tokens, in seconds.")
    jwks_cache_seconds: float = Field(
        default=JWKS_CACHE_SECONDS,
        gt=0,
        description="How long the provider's published keys are kept before they are fetched again.",
    )
    jwks_refresh_cooldown_seconds: float = Field(
        default=JWKS_REFRESH_COOLDOWN_SECONDS,
        ge=0,
        description=(
            "A token naming a key not in the cached set (the provider rotated its key) fetches the set again at once, "
            "but at most once per this many seconds, so made-up key ids cannot make every request fetch it."
        ),
    )
    algorithms: list[str] = Field(
        default=["EdDSA"],
        min_length=1,
        description=(
            "Signature algorithms a token may be signed with, pinned: EdDSA for the local key, the provider's "
            "(RS256 for Keycloak) with AUTH_JWKS_URL. Only public-key algorithms: a shared secret or `none` is refused."
        ),
    )
    leeway_seconds: int = Field(default=30, ge=0, description="Clock skew tolerated on `exp` and `iat`, in seconds.")
    keys_dir: Path = Field(
        default_factory=lambda: Path.home() / ".config" / "satupintu" / "keys",
        description="Where local development keys are created and kept when no other key is configured.",
    )

    @model_validator(mode="after")
    def _public_key_algorithms_only(self) -> Self:
        refused = [name for name in self.algorithms if name.lower() == "none" or name.upper().startswith("HS")]
        if refused:
            raise ValueError(f"AUTH_ALGORITHMS may list only public-key algorithms, not {', '.join(refused)}")
        return self

    def production_problems(self) -> list[str]:
        """Staff tokens in production come from the installation's OpenID Connect provider: its issuer must be named
        and its published keys (JWKS) fetched, or tokens would be checked against a local key pair."""
        problems = []
        if not self.jwks_url:
            problems.append(
                "AUTH_JWKS_URL is not set, so tokens would be checked against a local key instead of the sign-in "
                "provider's published keys; set it to the provider's JWKS URL (<issuer>/protocol/openid-connect/certs "
                "for Keycloak)"
            )
        if self.issuer == LOCAL_ISSUER:
            problems.append(
                f"AUTH_ISSUER is the local default {LOCAL_ISSUER!r}; set it to the sign-in provider's issuer URL"
            )
        return problems


class DatabaseSettings(BaseSettings):
    """Where the PostgreSQL server is; each service keeps its own database on it."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore", hide_input_in_errors=True)

    url: Annotated[str, Secret()] = Field(
        default=LOCAL_DATABASE_SERVER_URL,
        description=(
            "PostgreSQL server URL with the credentials the service connects as: a role that may only read and write "
            "rows, which `satupintu-<service> migrate` creates (with this password) and grants. The database part is "
            "replaced by each service's own database."
        ),
    )
    owner_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL server URL with the credentials of the databases' owner (who may create databases and "
            "roles): only `satupintu-<service> migrate` reads it; give it to the migration job, never to a "
            "service. Unset: `url` (the service then works as the owner, as before migrations)."
        ),
    )
    name_prefix: str = Field(default="satupintu_", description="Prefix of each service's database name.")
    pool_size: int = Field(default=10, ge=1, description="Connections kept open per process.")

    def database_name(self, service: str) -> str:
        """The name of the database that belongs to ``service``."""
        return f"{self.name_prefix}{service}"

    def service_url(self, service: str, driver: str = "postgresql+asyncpg") -> str:
        """The SQLAlchemy URL of ``service``'s own database."""
        from sqlalchemy.engine import make_url  # noqa: PLC0415 (a worker reads KafkaSettings without SQLAlchemy)

        url = make_url(self.url).set(drivername=driver, database=self.database_name(service))
        return url.render_as_string(hide_password=False)

    def owner(self) -> DatabaseSettings:
        """These settings with the owner's credentials (``owner_url``) in ``url``: what ``migrate`` connects with."""
        if not self.owner_url:
            return self
        return self.model_copy(update={"url": self.owner_url, "owner_url": None})

    def server_url(self, driver: str = "postgresql") -> str:
        """The URL of the server's maintenance database, for creating service databases."""
        from sqlalchemy.engine import make_url  # noqa: PLC0415 (as in service_url)

        return make_url(self.url).set(drivername=driver).render_as_string(hide_password=False)


TracesExporter = Literal["none", "console", "otlp"]
"""The exporters a service's spans can go to (``OTEL_TRACES_EXPORTER``); see ``satupintu.common.trace_export``."""


class ServiceSettings(BaseSettings):
    """What every service is configured with; each service subclasses it with its own env prefix and port.

    In production (``SATUPINTU_ENVIRONMENT=production``) the settings refuse to be made while a key or password is
    left at its development default or unset (:mod:`satupintu.common.production`), so a service stops before it
    could create a key of its own.
    """

    # Errors never echo their input: it holds the keys and passwords read from the environment.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    environment: Environment = environment_field()

    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server listens on.")
    log_level: str = Field(default="info", description="Log level of the service's structured logs.")
    stop_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description=(
            "How long stopping may take (background work, then the consumers and producer, then the database "
            "pool); what is still running then is cancelled and left, so a SIGTERM never hangs. Keep it below "
            "the orchestrator's grace period (Kubernetes: 30 s)."
        ),
    )
    cpu_niceness: int = Field(
        default=19,
        ge=0,
        le=19,
        description=(
            "The process's CPU niceness (0 to 19): on a machine the services share, the front door (intake, 0) "
            "gets the cores first while a burst lasts and the back office (the others, 19) consumes behind it in "
            "bigger batches, catching up after (docs/decisions/0037-the-front-door-first.md). It only lowers "
            "priority; in Kubernetes each pod's CPU request does this instead."
        ),
    )
    forwarded_allow_ips: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of the reverse proxies (the ingress) whose `X-Forwarded-For` "
            "names the client per-client rate limits count; empty: only the direct peer."
        ),
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="The Kafka cluster.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="The PostgreSQL server.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Bearer tokens: issuer, audience, keys.")
    tracing_exporter: TracesExporter = Field(
        default="none",
        description=(
            "Where spans go: none (default), console (printed), or otlp (OTLP over HTTP to the collector that "
            "OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names; headers and timeout from "
            "OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TIMEOUT, read by the exporter itself). "
            "Read from OpenTelemetry's standard OTEL_TRACES_EXPORTER."
        ),
        validation_alias="OTEL_TRACES_EXPORTER",
    )

    def production_problems(self) -> list[str]:
        """Services verify tokens and never sign them: only the token-minting side holds the signing key."""
        if self.auth.private_key_path is not None:
            return ["AUTH_PRIVATE_KEY_PATH is set: a service only verifies tokens; give it the public key alone"]
        return []

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        refuse_development_defaults(self, self.environment)
        return self
