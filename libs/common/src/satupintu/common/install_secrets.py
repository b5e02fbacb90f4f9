"""``satupintu-secrets`` (``make secrets``): generates, once, every key and password an installation needs, for
Docker Compose and for Kubernetes, into a directory kept out of git (``deploy/secrets/``).

Run again, it keeps every value already there and adds only what is missing (a new setting, a file deleted on
purpose), so it is safe to repeat and never changes a key that sealed data. Each service gets only its own data
keys (and the documents keys, which intake and the agency desk share) and the public key that verifies staff
tokens; the private half, which mints tokens, goes only to the token tool (Compose's ``token`` service,
``satupintu-token`` on an operator's machine). Each reader of citizens' keys (decision 0016: ``notification`` and
``agency.<code>`` of every agency in the catalogue) gets an RSA pair: intake the public halves, notification its own
private key, the agency desk every agency's (and an agency's own worker its one file). What each file holds and how
to rotate it: docs/operations.md ("Secrets").

Each agency that issues documents (the catalogue's ``document`` blocks) gets an ECDSA P-256 document-signing key and a
certificate from an installation CA made here (decision 0025), one for Compose and one for Kubernetes: the CA, with
its root's private key, stays in ``document-ca/`` (never mounted, never in the cluster); only each agency's
``<code>.key.pem`` and ``<code>.chain.pem`` go to the desk (``AGENCY_SIGNING_KEYS_DIR``). No PDF reader trusts this
root: in production replace the agencies' files with keys and certificates from the national CA (BSrE), or an HSM's,
in the same layout; a run never overwrites them.

Layout of the output directory::

    compose/                  read by deploy/docker-compose.yml (SATUPINTU_SECRETS_DIR)
      postgres.env            POSTGRES_PASSWORD, KEYCLOAK_DB_PASSWORD (the keycloak role postgres-init makes)
      keycloak.env            KC_DB_PASSWORD, KC_BOOTSTRAP_ADMIN_PASSWORD and CLIENT_SECRET_<CLIENT>, the secret of
                              each service's client in the realm import (the service holds it as OIDC_CLIENT_SECRET)
      database-owner.env      DATABASE_OWNER_URL, for the <service>-migrate jobs only
      <service>.env           DATABASE_URL (the service's own role) and its keys, as environment variables
      auth-public-key.pem     verifies staff tokens (every service)
      auth-signing-key.pem    signs staff tokens (the `token` tool only)
      audit-checkpoint-key.pem, audit-retired-public-keys.pem
      reader-keys/public/<reader>.pub.pem                  every reader's public key (intake)
      reader-keys/notification/reader-notification.pem     notification's private key
      reader-keys/agency/reader-agency.<code>.pem          each agency's private key (the desk; the agency's worker)
      agency-signing-keys/<code>.key.pem, <code>.chain.pem  each issuing agency's document-signing key and its
                              certificate chain up to document-ca/compose's root (the desk)
    kubernetes/               `kubectl apply -k`: the Secrets deploy/k8s refers to by name
      kustomization.yaml      a secretGenerator per directory below, listing the files in it
      <secret>/<key>          one file per key of each Secret (satupintu-auth, <service>-keys, documents-keys,
                              citizen-lookup-keys, oidc-client-keys, <service>-database, <service>-database-owner,
                              reader-public-keys, notification-reader-keys, agency-reader-keys,
                              agency-signing-keys, keycloak-database, keycloak-bootstrap-admin)
      database-roles.sql      each service's database and its owner role, and Keycloak's, for the PostgreSQL
                              server's administrator
    kubernetes-token-signing-key.pem   signs staff tokens for the cluster; never in the cluster
    document-ca/              the installation CAs that certify the agencies' document-signing keys (mode 0700): the
      compose/, kubernetes/   root.key.pem (never given to a service), root.cert.pem (what a validator trusts), and
                              the agencies' files the desk's copies came from; never mounted, never in the cluster
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from satupintu.common.catalogue import load_catalogue
from satupintu.common.document_ca import DocumentCA, chain_file, issuing_agencies, key_file
from satupintu.common.sealing import load_private_key, new_reader_key, private_pem, public_pem, reader_key_file
from satupintu.contract.topics import NOTIFICATION_READER, agency_reader

SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")
COMPOSE_DATABASE_USER = "satupintu"
COMPOSE_DATABASE_HOST = "postgres:5432"
DEFAULT_KUBERNETES_DATABASE_HOST = "postgres.mpp.example.go.id:5432"
KUBERNETES_NAMESPACE = "satupintu"
KEYCLOAK_DATABASE_ROLE = "keycloak"
"""The role Keycloak connects as, owner of its database ``keycloak`` (Compose's postgres-init makes both)."""
RETIRED_KEYS_HEADER = (
    "# Public keys that signed audit checkpoints before the current key, one PEM block after another.\n"
    "# Append the old key's public half here before changing AUDIT_CHECKPOINT_KEY_PATH (docs/operations.md).\n"
)


def field_cipher_keys() -> str:
    """A key list for :class:`satupintu.common.crypto.FieldCipher`: one 32-byte key named after today."""
    key_id = f"k{datetime.now(UTC):%Y%m%d}"
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def base64_key() -> str:
    """32 random bytes in base64 (a keyed-hash key)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def token() -> str:
    """A random secret of 32 bytes, URL-safe text (a password, a session secret, a hash key)."""
    return secrets.token_urlsafe(32)


def ed25519_private_pem() -> bytes:
    """A new Ed25519 private key, PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem_of(private_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of an Ed25519 private key."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def reader_private_pem() -> bytes:
    """A new reader's RSA private key (:func:`satupintu.common.sealing.new_reader_key`), PKCS#8 PEM."""
    return private_pem(new_reader_key())


def reader_public_pem_of(pem: bytes) -> bytes:
    """The public half of a reader's private key, as PEM."""
    return public_pem(load_private_key(pem))


def callback_secrets() -> str:
    """The payment gateways' callback secrets (``PAYMENT_CALLBACK_SECRETS``): one for the local simulator
    ``qris-sim``; an installation replaces it with each real gateway's (docs/operations.md, "Payments")."""
    return json.dumps({"qris-sim": token()})


@dataclass(frozen=True)
class ServiceSecret:
    """One secret setting of a service: its environment variable, its key in the Kubernetes secret
    ``<service>-keys``, and how a new value is made."""

    variable: str
    secret_key: str
    make: Callable[[], str]


SERVICE_SECRETS: dict[str, tuple[ServiceSecret, ...]] = {
    "intake": (ServiceSecret("INTAKE_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),),
    "routing": (ServiceSecret("ROUTING_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),),
    "agency": (
        ServiceSecret("AGENCY_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),
        ServiceSecret("AGENCY_SESSION_SECRET", "session-secret", token),
    ),
    "notification": (ServiceSecret("NOTIFICATION_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),),
    "audit": (
        ServiceSecret("AUDIT_HASH_KEY", "hash-key", token),
        ServiceSecret("AUDIT_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),
    ),
    "mall": (
        ServiceSecret("MALL_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),
        ServiceSecret("MALL_SESSION_SECRET", "session-secret", token),
    ),
    "payment": (
        ServiceSecret("PAYMENT_ENCRYPTION_KEYS", "encryption-keys", field_cipher_keys),
        ServiceSecret("PAYMENT_CALLBACK_SECRETS", "callback-secrets", callback_secrets),
    ),
}
"""Every secret setting each service reads from its environment (keys kept in files are handled apart)."""


@dataclass(frozen=True)
class SharedSecret:
    """A secret several holders must hold the same value of, each service under a variable of its own; in
    Kubernetes one Secret (``secret_name``/``secret_key``) all of them refer to. ``provider_variable``: the sign-in
    provider holds it too, under that name in Compose's keycloak.env (a placeholder of the realm import)."""

    secret_name: str
    secret_key: str
    variables: dict[str, str]
    make: Callable[[], str]
    provider_variable: str | None = None


OIDC_CLIENTS: dict[str, str] = {
    "intake": "satupintu-intake",
    "routing": "satupintu-routing",
    "agency": "satupintu-desk",
    "notification": "satupintu-notification",
    "audit": "satupintu-audit",
    "mall": "satupintu-mall",
    "payment": "satupintu-payment",
}
"""The sign-in provider's client each service uses (OIDC_CLIENT_ID), by service: every service signs people in,
operators to its dead-letter page at least."""
OIDC_CLIENT_SECRETS = "oidc-client-keys"
"""The Kubernetes Secret of those clients' secrets, a key per client id: each service's OIDC_CLIENT_SECRET and the
KeycloakRealmImport's placeholders refer to it."""


def client_secret_placeholder(client_id: str) -> str:
    """The variable the realm import's ``${...}`` placeholder for ``client_id``'s secret names."""
    return "CLIENT_SECRET_" + client_id.upper().replace("-", "_")


SHARED_SECRETS: tuple[SharedSecret, ...] = (
    SharedSecret(
        "documents-keys",
        "encryption-keys",
        {"intake": "INTAKE_DOCUMENT_KEYS", "agency": "AGENCY_DOCUMENT_KEYS"},
        field_cipher_keys,
    ),
    SharedSecret(
        "citizen-lookup-keys",
        "lookup-hash-key",
        {"intake": "INTAKE_LOOKUP_HASH_KEY", "mall": "MALL_LOOKUP_HASH_KEY"},
        base64_key,
    ),
    *(
        SharedSecret(
            OIDC_CLIENT_SECRETS,
            client_id,
            {service: "OIDC_CLIENT_SECRET"},
            token,
            provider_variable=client_secret_placeholder(client_id),
        )
        for service, client_id in OIDC_CLIENTS.items()
    ),
)
"""Intake seals uploaded documents with the documents keys and the agency desk opens them with the same keys.
Intake names each application's citizen by the keyed hash of the NIK (decision 0016); the mall's consent ledger finds
a NIK by the same hash. A service and the sign-in provider share the secret of the service's client."""


READER_PUBLIC_KEYS = "reader-public-keys"
"""Every reader's public key, ``<reader>.pub.pem``: Compose's secret and Kubernetes' Secret (intake's only)."""


def readers() -> list[str]:
    """Every reader citizens' keys are wrapped for (decision 0016): notification and each agency of the catalogue."""
    return [NOTIFICATION_READER, *(agency_reader(code) for code in sorted(load_catalogue().agency_codes()))]


def reader_holder(reader: str) -> str:
    """The service that holds ``reader``'s private key: notification its own, the agency desk every agency's."""
    return "notification" if reader == NOTIFICATION_READER else "agency"


def reader_private_keys(service: str) -> str:
    """The name of the Compose secret and of the Kubernetes Secret holding the reader keys ``service`` holds."""
    return f"{service}-reader-keys"


def reader_public_key_file(directory: Path, reader: str) -> Path:
    """Where ``reader``'s public key is kept in a directory of public keys (what intake's ``ReaderKeys`` reads)."""
    return directory / f"{reader}.pub.pem"


AGENCY_SIGNING_KEYS = "agency-signing-keys"
"""The issuing agencies' document-signing keys and chains: Compose's secret and Kubernetes' Secret (the desk's)."""
DOCUMENT_CA_DIRECTORY = "document-ca"
"""Where, in the output directory, the installation CAs are kept: ``compose/`` and ``kubernetes/``."""
DOCUMENT_CA_NAME = "Satu Pintu Installation Document CA"
"""The common name of the installation CA's root (not trusted by any PDF reader: production uses BSrE's)."""


def secret_variables(service: str) -> set[str]:
    """Every secret variable ``service`` reads from its environment: its own and its share of shared ones."""
    own = {secret.variable for secret in SERVICE_SECRETS[service]}
    return own | {shared.variables[service] for shared in SHARED_SECRETS if service in shared.variables}


@dataclass
class Report:
    """What a run wrote (a new file, or a value added to one) and what it left as it found it."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)

    def note(self, path: Path, *, written: bool) -> None:
        """Record ``path`` as written or kept."""
        (self.written if written else self.kept).append(path)


def _write(path: Path, content: bytes, mode: int) -> None:
    """Write ``content`` to ``path`` with ``mode`` from the start (never readable by others on the way)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as draft_file:
        draft_file.write(content)
    os.chmod(draft, mode)  # the umask may have taken bits away
    draft.replace(path)


def _file_once(path: Path, make: Callable[[], bytes], mode: int, report: Report) -> bytes:
    """The content of ``path``, made and written with ``mode`` the first time."""
    if path.exists():
        report.note(path, written=False)
        return path.read_bytes()
    content = make()
    _write(path, content, mode)
    report.note(path, written=True)
    return content


def read_env_file(path: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of an env file (comments and blank lines skipped; values taken as written)."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def _env_file_once(path: Path, wanted: dict[str, Callable[[], str]], comment: str, report: Report) -> dict[str, str]:
    """The variables of an env file, with each of ``wanted`` that is missing made and appended (never changed)."""
    present = read_env_file(path)
    missing = {name: make() for name, make in wanted.items() if name not in present}
    if missing:
        text = path.read_text() if path.exists() else f"# {comment}\n"
        if not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{name}={value}\n" for name, value in missing.items())
        _write(path, text.encode(), 0o600)
    report.note(path, written=bool(missing))
    return present | missing


def _key_pair(
    private_path: Path,
    public_path: Path,
    public_mode: int,
    private_mode: int,
    report: Report,
    *,
    make: Callable[[], bytes] = ed25519_private_pem,
    public_of: Callable[[bytes], bytes] = public_pem_of,
) -> None:
    """A key pair (Ed25519 unless told): the private key made once, its public half (re)written to match it."""
    private = _file_once(private_path, make, private_mode, report)
    public = public_of(private)
    if not public_path.exists() or public_path.read_bytes() != public:
        _write(public_path, public, public_mode)
        report.note(public_path, written=True)
    else:
        report.note(public_path, written=False)


def _reader_pairs(
    public_dir: Path, private_dir: Callable[[str], Path], public_mode: int, private_mode: int, report: Report
) -> None:
    """Each reader's RSA pair: its private key made once in ``private_dir(holder)`` as ``reader-<reader>.pem``, its
    public half (re)derived into ``public_dir`` as ``<reader>.pub.pem``."""
    for reader in readers():
        _key_pair(
            reader_key_file(private_dir(reader_holder(reader)), reader),
            reader_public_key_file(public_dir, reader),
            public_mode,
            private_mode,
            report,
            make=reader_private_pem,
            public_of=reader_public_pem_of,
        )


def _document_signing_keys(ca_directory: Path, keys_directory: Path, key_mode: int, report: Report) -> None:
    """An installation CA in ``ca_directory`` (mode 0700, its root's key never leaves it) with a key and certificate
    per issuing agency, and a copy of each agency's two files, made once, in ``keys_directory`` (what the desk gets,
    ``<code>.key.pem`` with ``key_mode``): a file already there (a BSrE certificate put in its place) is kept."""
    for directory in (ca_directory.parent, ca_directory):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
    before = {path for path in ca_directory.iterdir() if path.is_file()}
    ca = DocumentCA(ca_directory, DOCUMENT_CA_NAME)
    ca.root()
    for agency in issuing_agencies(load_catalogue()):
        key, chain = ca.issue(agency)
        _file_once(key_file(keys_directory, agency.code), key.read_bytes, key_mode, report)
        _file_once(chain_file(keys_directory, agency.code), chain.read_bytes, key_mode, report)
    for path in sorted(path for path in ca_directory.iterdir() if path.is_file()):
        report.note(path, written=path not in before)


def _mountable_directory(path: Path) -> Path:
    """A directory Compose mounts into a container whole: enterable by the services' uid (0755), kept from other
    users of the host by the secrets directory around it (0700)."""
    path.mkdir(mode=0o755, parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def generate_compose(directory: Path, report: Report) -> None:
    """The env files and key files deploy/docker-compose.yml reads.

    Key files are mounted into containers as Compose secrets, which keep the host file's mode and owner, and the
    services run as uid 10001: so they are readable by all (0644) inside a directory only its owner may enter. The
    readers' keys are mounted a directory at a time (``reader-keys/public``, ``/notification``, ``/agency``), so
    those directories may be entered by all (0755) while ``reader-keys`` around them may not.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    keycloak_database_password = (
        read_env_file(directory / "keycloak.env").get("KC_DB_PASSWORD")
        or read_env_file(directory / "postgres.env").get("KEYCLOAK_DB_PASSWORD")
        or token()
    )
    postgres = _env_file_once(
        directory / "postgres.env",
        {"POSTGRES_PASSWORD": token, "KEYCLOAK_DB_PASSWORD": partial(str, keycloak_database_password)},
        "The PostgreSQL superuser's password and the keycloak role's; they take effect when the data volume is "
        "first initialised.",
        report,
    )
    password = postgres["POSTGRES_PASSWORD"]
    owner_url = f"postgresql://{COMPOSE_DATABASE_USER}:{password}@{COMPOSE_DATABASE_HOST}/postgres"
    _env_file_once(
        directory / "database-owner.env",
        {"DATABASE_OWNER_URL": lambda: owner_url},
        "The databases' owner, for the <service>-migrate jobs only (satupintu-<service> migrate).",
        report,
    )
    shared = [(secret, _shared_value(directory, secret)) for secret in SHARED_SECRETS]
    keycloak: dict[str, Callable[[], str]] = {
        "KC_DB_PASSWORD": partial(str, postgres["KEYCLOAK_DB_PASSWORD"]),
        "KC_BOOTSTRAP_ADMIN_PASSWORD": token,
    }
    keycloak |= {secret.provider_variable: partial(str, value) for secret, value in shared if secret.provider_variable}
    _env_file_once(
        directory / "keycloak.env",
        keycloak,
        "Keycloak's: its database role's password, its first administrator's (change it after the first sign-in), "
        "and the secret of each service's client, which the realm import's placeholders take.",
        report,
    )
    for service in SERVICES:
        role = f"satupintu_{service}"
        wanted: dict[str, Callable[[], str]] = {"DATABASE_URL": partial(new_database_url, role, COMPOSE_DATABASE_HOST)}
        wanted |= {secret.variable: secret.make for secret in SERVICE_SECRETS[service]}
        wanted |= {
            secret.variables[service]: partial(str, value) for secret, value in shared if service in secret.variables
        }
        _env_file_once(
            directory / f"{service}.env",
            wanted,
            f"The {service} service's own secrets; DATABASE_URL names its role, which may only read and write rows.",
            report,
        )
    _key_pair(directory / "auth-signing-key.pem", directory / "auth-public-key.pem", 0o644, 0o644, report)
    _file_once(directory / "audit-checkpoint-key.pem", ed25519_private_pem, 0o644, report)
    _file_once(directory / "audit-retired-public-keys.pem", RETIRED_KEYS_HEADER.encode, 0o644, report)
    reader_keys = directory / "reader-keys"
    reader_keys.mkdir(mode=0o700, exist_ok=True)
    public_dir = _mountable_directory(reader_keys / "public")
    holders = {holder: _mountable_directory(reader_keys / holder) for holder in map(reader_holder, readers())}
    _reader_pairs(public_dir, holders.__getitem__, 0o644, 0o644, report)
    _document_signing_keys(
        directory.parent / DOCUMENT_CA_DIRECTORY / "compose",
        _mountable_directory(directory / AGENCY_SIGNING_KEYS),
        0o644,
        report,
    )


def _shared_value(directory: Path, secret: SharedSecret) -> str:
    """The value a shared secret has in the env file of any of its services already, else a new one (so a service
    added to it, or an env file deleted on purpose, gets the value the others hold)."""
    for service, variable in secret.variables.items():
        value = read_env_file(directory / f"{service}.env").get(variable)
        if value:
            return value
    if secret.provider_variable:
        value = read_env_file(directory / "keycloak.env").get(secret.provider_variable)
        if value:
            return value
    return secret.make()


def _value_once(path: Path, make: Callable[[], str], report: Report) -> str:
    """A secret value kept in a file of its own, without a trailing newline (Kubernetes passes it on as it is)."""
    return _file_once(path, lambda: make().encode(), 0o600, report).decode()


def generate_kubernetes(directory: Path, database_host: str, report: Report) -> None:
    """The Secrets deploy/k8s names, as a kustomization with a secretGenerator per Secret, and the SQL that makes
    each service's database and its owner role (``satupintu-<service> migrate`` connects as the owner and makes the
    service's own role, which may only read and write rows, with the password of its URL)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    auth = directory / "satupintu-auth"
    _key_pair(directory.parent / "kubernetes-token-signing-key.pem", auth / "public-key.pem", 0o600, 0o600, report)
    _reader_pairs(
        directory / READER_PUBLIC_KEYS,
        lambda holder: directory / reader_private_keys(holder),
        0o600,
        0o600,
        report,
    )
    _document_signing_keys(
        directory.parent / DOCUMENT_CA_DIRECTORY / "kubernetes", directory / AGENCY_SIGNING_KEYS, 0o600, report
    )
    for shared in SHARED_SECRETS:
        _value_once(directory / shared.secret_name / shared.secret_key, shared.make, report)
    roles: list[str] = []
    for service in SERVICES:
        keys = directory / f"{service}-keys"
        for secret in SERVICE_SECRETS[service]:
            _value_once(keys / secret.secret_key, secret.make, report)
        if service == "audit":
            _file_once(keys / "checkpoint-ed25519.pem", ed25519_private_pem, 0o600, report)
            _file_once(keys / "retired-public-keys.pem", RETIRED_KEYS_HEADER.encode, 0o600, report)
        role = f"satupintu_{service}"
        _value_once(directory / f"{service}-database" / "url", partial(new_database_url, role, database_host), report)
        owner_url = _value_once(
            directory / f"{service}-database-owner" / "url",
            partial(new_database_url, f"{role}_owner", database_host),
            report,
        )
        roles.append(_database_role_sql(service, owner_url))
    _value_once(directory / "keycloak-database" / "username", lambda: KEYCLOAK_DATABASE_ROLE, report)
    keycloak_password = _value_once(directory / "keycloak-database" / "password", token, report)
    roles.append(
        f"CREATE ROLE {KEYCLOAK_DATABASE_ROLE} LOGIN PASSWORD '{keycloak_password}';\n"
        f"CREATE DATABASE keycloak OWNER {KEYCLOAK_DATABASE_ROLE};\n"
    )
    _value_once(directory / "keycloak-bootstrap-admin" / "username", lambda: "admin", report)
    _value_once(directory / "keycloak-bootstrap-admin" / "password", token, report)
    _write(directory / "database-roles.sql", _roles_script(roles).encode(), 0o600)
    _write(directory / "kustomization.yaml", kustomization(directory).encode(), 0o600)


def new_database_url(role: str, host: str) -> str:
    """A server URL for ``role`` on ``host`` with a new password."""
    return f"postgresql://{role}:{token()}@{host}/postgres"


def _database_role_sql(service: str, owner_url: str) -> str:
    """The owner role a service's migrations run as, with its password, and the service's database owned by it. It
    may create roles: ``migrate`` makes the service's own role, which may only read and write rows."""
    parsed = make_url(owner_url)
    return (
        f"CREATE ROLE {parsed.username} LOGIN CREATEROLE PASSWORD '{parsed.password}';\n"
        f"CREATE DATABASE satupintu_{service} OWNER {parsed.username};\n"
    )


def _roles_script(roles: Sequence[str]) -> str:
    return (
        "-- Each service's database and the role that owns it (its migrations run as that role, with the password\n"
        "-- of the <service>-database-owner Secret), and Keycloak's (the keycloak-database Secret).\n"
        "-- Run once as a superuser: psql -v ON_ERROR_STOP=1 -f database-roles.sql\n" + "".join(roles)
    )


def kustomization(directory: Path) -> str:
    """A kustomization that makes one Secret per subdirectory of ``directory``, a key per file in it."""
    lines = [
        "# Generated by satupintu-secrets: the Secrets deploy/k8s refers to by name. Apply with",
        "#   kubectl apply -k <this directory>",
        "# Add a key (notification-keys/smtp-password, ...) as a file in its directory and run `make secrets` again.",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {KUBERNETES_NAMESPACE}",
        "generatorOptions:",
        "  disableNameSuffixHash: true",
        "  labels:",
        "    app.kubernetes.io/part-of: satupintu",
        "secretGenerator:",
    ]
    for secret in sorted(path for path in directory.iterdir() if path.is_dir()):
        files = sorted(path.name for path in secret.iterdir() if path.is_file() and not path.name.startswith("."))
        lines += [f"  - name: {secret.name}", "    type: Opaque", "    files:"]
        lines += [f"      - {name}={secret.name}/{name}" for name in files]
    return "\n".join(lines) + "\n"


def generate(output: Path, database_host: str = DEFAULT_KUBERNETES_DATABASE_HOST) -> Report:
    """Every secret for Compose and Kubernetes under ``output``, each made only if missing."""
    report = Report()
    output.mkdir(mode=0o700, parents=True, exist_ok=True)
    generate_compose(output / "compose", report)
    generate_kubernetes(output / "kubernetes", database_host, report)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: generate what is missing and say what was made."""
    parser = argparse.ArgumentParser(
        prog="satupintu-secrets",
        description="Generate, once, every key and password for Docker Compose and Kubernetes (never in git).",
    )
    parser.add_argument("--output", type=Path, default=Path("deploy/secrets"), help="default: deploy/secrets")
    parser.add_argument(
        "--database-host",
        default=DEFAULT_KUBERNETES_DATABASE_HOST,
        help="host:port of the PostgreSQL server the Kubernetes services use, in their DATABASE_URL "
        f"(default: {DEFAULT_KUBERNETES_DATABASE_HOST})",
    )
    arguments = parser.parse_args(argv)
    report = generate(arguments.output, arguments.database_host)
    for path in report.written:
        sys.stdout.write(f"wrote {path}\n")
    sys.stdout.write(
        f"{len(report.written)} written, {len(report.kept)} kept as they were, in {arguments.output}\n"
        "Compose: docker compose -f deploy/docker-compose.yml up -d --build\n"
        f"Kubernetes: kubectl apply -k {arguments.output / 'kubernetes'} (then run database-roles.sql on the "
        "database server)\n"
    )
    return 0
