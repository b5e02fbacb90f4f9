"""An installation's secrets: ``make secrets`` generates every key and password once, and each service's settings,
resolved as Compose runs them (``docker compose config`` with the generated files) and as the Kubernetes
production overlay runs them (the rendered manifests with the generated Secrets), are ones production accepts: no
key or password at a built-in development default or unset, nothing made up on the spot. Tokens come from the
sign-in provider (Keycloak), which shares each signing-in service's client secret with that service; no service holds
a signing key; every service gets its own data keys, and key mounts that are read-only."""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from satupintu.common import install_secrets
from satupintu.common.catalogue import load_catalogue
from satupintu.common.document_ca import chain_file, issuing_agencies, key_file
from satupintu.common.production import development_defaults
from satupintu.common.sealing import load_private_key, public_pem, reader_key_file
from satupintu.common.settings import ServiceSettings
from satupintu.contract.topics import NOTIFICATION_READER, agency_reader
from tests.deploy.support import (
    COMPOSE_FILE,
    DEPLOY,
    INSTALL_WAIT,
    PORTS,
    ROOT,
    compose_command,
    generated_secrets,
    tool,
)

# the Compose CLI (and kustomize) may still be building when the first check runs
pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("deploy_tools"), pytest.mark.timeout(INSTALL_WAIT + 60)]
validate_k8s = tool("validate_k8s")

PRODUCTION_OVERLAY = DEPLOY / "k8s" / "overlays" / "production"
WRITABLE_COMPOSE_MOUNTS = {("intake", "/var/lib/satupintu/documents"), ("agency", "/var/lib/satupintu/documents")}
"""The only mounts a service may write: its data (intake's uploaded documents, the desk's issued ones), never a key."""
STRIMZI_SECRETS = {f"satupintu-{service}" for service in PORTS} | {"satupintu-cluster-ca-cert"}
"""Secrets the manifests use that Strimzi's operators make (SCRAM passwords, the cluster CA), not the installation."""


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"satupintu.{service}.config")
    settings: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return settings


@contextmanager
def only_environment(variables: dict[str, str]) -> Iterator[None]:
    """``os.environ`` holding ``variables`` and nothing else, as in a container."""
    with mock.patch.dict(os.environ, variables, clear=True):
        yield


def resolved_settings(service: str, variables: dict[str, str]) -> ServiceSettings:
    """``service``'s settings as its process would read them from ``variables``."""
    with only_environment(variables):
        return settings_class(service)()


def is_signing_key(content: bytes) -> bool:
    """Whether ``content`` is the private key whose public half verifies staff tokens."""
    public_pem = (generated_secrets() / "compose" / "auth-public-key.pem").read_bytes()
    kubernetes_public_pem = (generated_secrets() / "kubernetes" / "satupintu-auth" / "public-key.pem").read_bytes()
    try:
        key = serialization.load_pem_private_key(content, password=None)
    except (ValueError, TypeError):
        return False
    if not isinstance(key, Ed25519PrivateKey):
        return False
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public in {public_pem, kubernetes_public_pem}


AGENCY_READERS = {agency_reader(code) for code in load_catalogue().agency_codes()}
READER_KEYS_OF = {
    "intake": (set(), {NOTIFICATION_READER} | AGENCY_READERS),
    "notification": ({NOTIFICATION_READER}, set()),
    "agency": (AGENCY_READERS, set()),
}
"""(readers whose private key, readers whose public key) each service holds (decision 0016); the others hold none:
intake wraps citizens' keys for every reader, notification opens its own, the desk every agency's."""


def generated_reader_public_keys() -> dict[bytes, str]:
    """Every reader's public key ``make secrets`` generated, Compose's and Kubernetes', to the reader's name."""
    directories = [
        generated_secrets() / "compose" / "reader-keys" / "public",
        generated_secrets() / "kubernetes" / install_secrets.READER_PUBLIC_KEYS,
    ]
    return {path.read_bytes(): path.name.removesuffix(".pub.pem") for d in directories for path in d.iterdir()}


def reader_keys_among(contents: Iterable[bytes]) -> tuple[set[str], set[str]]:
    """(readers whose private key, readers whose public key) ``contents`` hold, recognised by what they are."""
    public_keys = generated_reader_public_keys()
    private: set[str] = set()
    public: set[str] = set()
    for content in contents:
        try:
            key = serialization.load_pem_private_key(content, password=None)
        except (ValueError, TypeError):
            key = None
        if isinstance(key, rsa.RSAPrivateKey):
            private.add(public_keys.get(public_pem(key), "a reader key make secrets did not make"))
        elif content in public_keys:
            public.add(public_keys[content])
    return private, public


ISSUING_AGENCIES = sorted(agency.code for agency in issuing_agencies(load_catalogue()))


def document_ca_roots() -> dict[str, x509.Certificate]:
    """The root certificate of each installation CA ``make secrets`` made: Compose's and Kubernetes'."""
    directory = generated_secrets() / install_secrets.DOCUMENT_CA_DIRECTORY
    return {
        installation: x509.load_pem_x509_certificate((directory / installation / "root.cert.pem").read_bytes())
        for installation in ("compose", "kubernetes")
    }


def is_document_root_key(content: bytes) -> bool:
    """Whether ``content`` is the private key of an installation CA's root, which certifies every agency's key."""
    try:
        key = serialization.load_pem_private_key(content, password=None)
    except (ValueError, TypeError):
        return False
    info = serialization.PublicFormat.SubjectPublicKeyInfo
    public = key.public_key().public_bytes(serialization.Encoding.DER, info)
    return any(
        root.public_key().public_bytes(serialization.Encoding.DER, info) == public
        for root in document_ca_roots().values()
    )


def assert_signing_keys_chain_to(directory: Path, root: x509.Certificate) -> None:
    """``directory`` holds every issuing agency's key and chain (nothing else), each chain the agency's certificate
    for its key, issued by ``root`` and ending with it."""
    expected = {path(directory, code).name for code in ISSUING_AGENCIES for path in (key_file, chain_file)}
    assert {path.name for path in directory.iterdir()} == expected, directory
    for code in ISSUING_AGENCIES:
        key = serialization.load_pem_private_key(key_file(directory, code).read_bytes(), password=None)
        certificate, *above = x509.load_pem_x509_certificates(chain_file(directory, code).read_bytes())
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert isinstance(key.curve, ec.SECP256R1)
        assert certificate.public_key() == key.public_key(), code
        assert above == [root], code
        certificate.verify_directly_issued_by(root)
        assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == code


def assert_fit_for_production(service: str, variables: dict[str, str], home: Path) -> None:
    """The settings resolve in production mode with nothing at a development default, and building the service
    (which loads every key) creates no key of its own."""
    settings = resolved_settings(service, variables | {"HOME": str(home)})

    assert settings.environment == "production", service
    assert development_defaults(settings) == [], service
    assert settings.auth.private_key_path is None, service
    importlib.import_module(f"satupintu.{service}.main").create_app(settings)
    assert not settings.auth.keys_dir.exists(), f"{service} made a key of its own in {settings.auth.keys_dir}"
    assert not any(home.iterdir()), f"{service} wrote {list(home.iterdir())}"


# -- make secrets ---------------------------------------------------------------------------------------------------


def test_make_secrets_generates_every_secret_once_and_adds_only_what_is_missing(tmp_path: Path) -> None:
    first = install_secrets.generate(tmp_path)
    contents = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    checkpoint_key, intake_env = tmp_path / "compose" / "audit-checkpoint-key.pem", tmp_path / "compose" / "intake.env"
    reader_public_key = tmp_path / "kubernetes" / "reader-public-keys" / "agency.polres.pub.pem"
    original = install_secrets.read_env_file(intake_env)
    checkpoint_key.unlink()
    reader_public_key.unlink()
    intake_env.write_text(intake_env.read_text().replace("INTAKE_LOOKUP_HASH_KEY=", "# dropped ", 1))

    second = install_secrets.generate(tmp_path)

    assert first.kept == []
    assert len(first.written) >= 20
    assert sorted(second.written) == sorted([checkpoint_key, intake_env, reader_public_key])
    for path, content in contents.items():
        if path not in {checkpoint_key, intake_env}:
            assert path.read_bytes() == content, f"{path} changed"  # a public half comes back as it was
    refilled = install_secrets.read_env_file(intake_env)
    assert refilled["INTAKE_ENCRYPTION_KEYS"] == original["INTAKE_ENCRYPTION_KEYS"]
    assert refilled["DATABASE_URL"] == original["DATABASE_URL"]
    mall = install_secrets.read_env_file(tmp_path / "compose" / "mall.env")
    assert refilled["INTAKE_LOOKUP_HASH_KEY"] == mall["MALL_LOOKUP_HASH_KEY"], "a shared secret: the value mall holds"
    assert checkpoint_key.read_bytes() != contents[checkpoint_key]
    assert (tmp_path / "compose").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "kubernetes").stat().st_mode & 0o777 == 0o700
    assert intake_env.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "kubernetes-token-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_the_command_says_what_it_wrote_and_what_it_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = install_secrets.main(["--output", str(tmp_path), "--database-host", "db.example:5432"])
    first_out = capsys.readouterr().out
    second = install_secrets.main(["--output", str(tmp_path)])
    second_out = capsys.readouterr().out

    assert first == second == 0
    assert f"wrote {tmp_path / 'compose' / 'intake.env'}" in first_out
    assert " 0 kept as they were" in first_out
    assert "0 written" in second_out
    url = (tmp_path / "kubernetes" / "intake-database" / "url").read_text()
    assert url.startswith("postgresql://satupintu_intake:")
    assert url.endswith("@db.example:5432/postgres"), "a later run without --database-host keeps the URL"
    owner = (tmp_path / "kubernetes" / "intake-database-owner" / "url").read_text()
    assert owner.startswith("postgresql://satupintu_intake_owner:")
    roles = (tmp_path / "kubernetes" / "database-roles.sql").read_text()
    assert "CREATE ROLE satupintu_intake_owner LOGIN CREATEROLE PASSWORD" in roles
    assert "CREATE DATABASE satupintu_intake OWNER satupintu_intake_owner" in roles


def test_every_secret_is_its_own_random_value_but_a_shared_one_is_the_same_for_its_services() -> None:
    environments = {
        service: install_secrets.read_env_file(generated_secrets() / "compose" / f"{service}.env") for service in PORTS
    }
    shared_variables = {
        (service, variable)
        for shared in install_secrets.SHARED_SECRETS
        for service, variable in shared.variables.items()
    }
    values = [
        value
        for service, environment in environments.items()
        for name, value in environment.items()
        if name != "DATABASE_URL" and (service, name) not in shared_variables
    ]
    shared_values = [
        {environments[service][variable] for service, variable in shared.variables.items()}
        for shared in install_secrets.SHARED_SECRETS
    ]
    kubernetes = [
        path.read_bytes()
        for path in (generated_secrets() / "kubernetes").glob("*-keys/*")
        if not path.name.endswith(".pem")
    ]
    assert len(values) == len(set(values)) == sum(map(len, install_secrets.SERVICE_SECRETS.values()))
    assert all(len(same) == 1 for same in shared_values), "each service of a shared secret holds the same value"
    distinct = [*values, *(value for same in shared_values for value in same)]
    assert len(distinct) == len(set(distinct))
    assert len(kubernetes) == len(set(kubernetes)) == len(distinct)
    assert not set(map(str.encode, distinct)) & set(kubernetes), "Compose and Kubernetes share no key"


def test_a_shared_secret_missing_from_one_env_file_gets_the_value_the_others_hold(tmp_path: Path) -> None:
    install_secrets.generate(tmp_path)
    intake_env, agency_env = tmp_path / "compose" / "intake.env", tmp_path / "compose" / "agency.env"
    original = install_secrets.read_env_file(intake_env)["INTAKE_DOCUMENT_KEYS"]
    agency_env.write_text(agency_env.read_text().replace("AGENCY_DOCUMENT_KEYS=", "# dropped ", 1))

    install_secrets.generate(tmp_path)

    assert install_secrets.read_env_file(agency_env)["AGENCY_DOCUMENT_KEYS"] == original
    assert install_secrets.read_env_file(intake_env)["INTAKE_DOCUMENT_KEYS"] == original


def test_make_secrets_certifies_each_issuing_agencys_signing_key_once_by_a_ca_whose_root_stays_apart(
    tmp_path: Path,
) -> None:
    install_secrets.generate(tmp_path)
    compose_keys = tmp_path / "compose" / install_secrets.AGENCY_SIGNING_KEYS
    kubernetes_keys = tmp_path / "kubernetes" / install_secrets.AGENCY_SIGNING_KEYS
    cas = tmp_path / install_secrets.DOCUMENT_CA_DIRECTORY
    contents = {path: path.read_bytes() for path in [*compose_keys.iterdir(), *kubernetes_keys.iterdir()]}
    bsre = b"a key and chain from BSrE, put in place by the operator"
    key_file(compose_keys, "polres").write_bytes(bsre)
    key_file(kubernetes_keys, "satlantas").unlink()

    again = install_secrets.generate(tmp_path)

    assert again.written == [key_file(kubernetes_keys, "satlantas")]
    assert key_file(compose_keys, "polres").read_bytes() == bsre, "a replaced file is kept"
    key_file(compose_keys, "polres").write_bytes(contents[key_file(compose_keys, "polres")])
    assert {path: path.read_bytes() for path in contents} == contents
    roots = {}
    for installation, directory in (("compose", compose_keys), ("kubernetes", kubernetes_keys)):
        ca = cas / installation
        assert ca.stat().st_mode & 0o777 == 0o700
        assert (ca / "root.key.pem").stat().st_mode & 0o777 == 0o600
        roots[installation] = x509.load_pem_x509_certificate((ca / "root.cert.pem").read_bytes())
        assert roots[installation].subject.rfc4514_string() == (f"O=Satu Pintu,CN={install_secrets.DOCUMENT_CA_NAME}")
        assert_signing_keys_chain_to(directory, roots[installation])
        assert not [path for path in directory.iterdir() if "root" in path.name]
    assert roots["compose"] != roots["kubernetes"], "Compose and Kubernetes share no CA"
    assert cas.stat().st_mode & 0o777 == 0o700
    assert compose_keys.stat().st_mode & 0o777 == 0o755, "mounted whole: uid 10001 enters"
    assert {path.stat().st_mode & 0o777 for path in compose_keys.iterdir()} == {0o644}
    assert {path.stat().st_mode & 0o777 for path in kubernetes_keys.iterdir()} == {0o600}
    assert not (tmp_path / "kubernetes" / install_secrets.DOCUMENT_CA_DIRECTORY).exists(), "no CA in the cluster"


def test_the_compose_file_falls_back_to_no_default_secret() -> None:
    text = COMPOSE_FILE.read_text()
    defaults = set(re.findall(r"\$\{(\w+):?-", text))

    assert defaults <= {
        "SATUPINTU_KAFKA_VOTERS",
        "SATUPINTU_KAFKA_REPLICATION",
        "SATUPINTU_KAFKA_MIN_ISR",
        "SATUPINTU_KAFKA_BOOTSTRAP",
        "SATUPINTU_TAG",
        "SATUPINTU_SECRETS_DIR",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    }, "only addresses, sizes, the trace switch and where the secrets are may have a default"
    assert "POSTGRES_PASSWORD" not in defaults
    assert "AUDIT_HASH_KEY" not in text.replace("# ", "")


def test_without_generated_secrets_compose_refuses_to_load(tmp_path: Path) -> None:
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "SATUPINTU_SECRETS_DIR": str(tmp_path)},
    )

    assert result.returncode != 0
    assert "not found" in result.stderr


# -- Compose ----------------------------------------------------------------------------------------------------------


@cache
def compose_project() -> dict[str, Any]:
    """The resolved Compose project with every profile's tools, on the session's generated secrets."""
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "--profile", "tools", "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "SATUPINTU_SECRETS_DIR": str(generated_secrets() / "compose")},
    )
    assert result.returncode == 0, result.stderr
    project: dict[str, Any] = json.loads(result.stdout)
    return project


def compose_mounted_secrets(service: str) -> dict[str, Path]:
    """The files Compose mounts into ``service`` as secrets: target in the container to file on the host."""
    project = compose_project()
    return {
        secret.get("target") or f"/run/secrets/{secret['source']}": Path(project["secrets"][secret["source"]]["file"])
        for secret in project["services"][service].get("secrets", [])
    }


def compose_mounted_files(service: str) -> list[Path]:
    """Every file Compose mounts into ``service`` as a secret (a directory secret's files each)."""
    paths = compose_mounted_secrets(service).values()
    return [file for path in paths for file in (sorted(path.iterdir()) if path.is_dir() else [path])]


def compose_environment_of(service: str) -> dict[str, str]:
    """``service``'s environment as Compose gives it (its env file included), with paths of mounted secrets
    pointing at the generated files."""
    mounted = compose_mounted_secrets(service)
    environment = compose_project()["services"][service]["environment"]
    return {name: str(mounted.get(value, value)) for name, value in environment.items()}


@pytest.mark.parametrize("service", PORTS)
def test_compose_gives_each_service_settings_production_accepts(service: str, tmp_path: Path) -> None:
    assert_fit_for_production(service, compose_environment_of(service), tmp_path)


@pytest.mark.parametrize("service", PORTS)
def test_in_compose_no_service_holds_the_signing_key_and_no_key_mount_is_writable(service: str) -> None:
    definition = compose_project()["services"][service]
    mounted = compose_mounted_secrets(service)

    assert "AUTH_PRIVATE_KEY_PATH" not in definition["environment"]
    assert not [path for path in compose_mounted_files(service) if is_signing_key(path.read_bytes())]
    assert "/run/secrets/auth-public-key" in mounted
    for volume in definition.get("volumes", []):
        if (service, volume["target"]) not in WRITABLE_COMPOSE_MOUNTS:
            assert volume.get("read_only") is True, (service, volume)
        assert "key" not in volume.get("source", ""), (service, volume)


def test_each_compose_service_gets_only_its_own_data_keys() -> None:
    own = {service: install_secrets.secret_variables(service) | {"DATABASE_URL"} for service in PORTS}
    for service in PORTS:
        environment = compose_project()["services"][service]["environment"]
        secret_like = {name for name in environment if re.search(r"KEYS?$|SECRET|PASSWORD|DATABASE_URL", name)}
        assert secret_like == own[service], service
    audit_files = set(compose_mounted_secrets("audit"))
    assert audit_files == {
        "/run/secrets/auth-public-key",
        "/run/secrets/audit-checkpoint-key",
        "/run/secrets/audit-retired-public-keys",
    }
    reader_files = {
        "intake": {"/run/secrets/reader-public-keys"},
        "notification": {"/run/secrets/notification-reader-keys"},
        "agency": {"/run/secrets/agency-reader-keys", "/run/secrets/agency-signing-keys"},
    }
    for service in set(PORTS) - {"audit"}:
        expected = {"/run/secrets/auth-public-key"} | reader_files.get(service, set())
        assert set(compose_mounted_secrets(service)) == expected, service


@pytest.mark.parametrize("service", PORTS)
def test_in_compose_intake_gets_the_readers_public_keys_notification_its_own_and_the_desk_every_agencys(
    service: str,
) -> None:
    contents = [path.read_bytes() for path in compose_mounted_files(service)]

    assert reader_keys_among(contents) == READER_KEYS_OF.get(service, (set(), set()))


def test_in_compose_the_desk_gets_every_issuing_agencys_signing_key_and_no_service_a_document_root_key() -> None:
    environment = compose_environment_of("agency")
    mounted = compose_mounted_secrets("agency")
    signing_keys = Path(environment["AGENCY_SIGNING_KEYS_DIR"])

    assert compose_project()["services"]["agency"]["environment"]["AGENCY_SIGNING_KEYS_DIR"] == (
        "/run/secrets/agency-signing-keys"
    )
    assert signing_keys == mounted["/run/secrets/agency-signing-keys"]
    assert_signing_keys_chain_to(signing_keys, document_ca_roots()["compose"])
    assert environment["AGENCY_VERIFICATION_BASE_URL"] == "http://127.0.0.1:8001"
    for service in PORTS:
        assert not [path for path in compose_mounted_files(service) if is_document_root_key(path.read_bytes())]
        if service != "agency":
            assert not [path for path in compose_mounted_files(service) if path.name.endswith(".chain.pem")]


def test_every_reader_has_a_pair_whose_public_half_intake_is_given() -> None:
    compose, kubernetes = generated_secrets() / "compose", generated_secrets() / "kubernetes"
    private_dirs = {
        "compose": {holder: compose / "reader-keys" / holder for holder in ("notification", "agency")},
        "kubernetes": {
            holder: kubernetes / install_secrets.reader_private_keys(holder) for holder in ("notification", "agency")
        },
    }
    public_dirs = {
        "compose": compose / "reader-keys" / "public",
        "kubernetes": kubernetes / install_secrets.READER_PUBLIC_KEYS,
    }
    readers = install_secrets.readers()

    assert set(readers) == {NOTIFICATION_READER} | AGENCY_READERS
    for installation, public_dir in public_dirs.items():
        assert {path.name for path in public_dir.iterdir()} == {f"{reader}.pub.pem" for reader in readers}
        for holder, directory in private_dirs[installation].items():
            held = {reader for reader in readers if install_secrets.reader_holder(reader) == holder}
            assert {path.name for path in directory.iterdir()} == {reader_key_file(directory, r).name for r in held}
        for reader in readers:
            directory = private_dirs[installation][install_secrets.reader_holder(reader)]
            private_key = load_private_key(reader_key_file(directory, reader).read_bytes())
            public_key = (public_dir / f"{reader}.pub.pem").read_bytes()
            assert public_key == public_pem(private_key), (installation, reader)
    compose_keys = {path.read_bytes() for path in public_dirs["compose"].iterdir()}
    kubernetes_keys = {path.read_bytes() for path in public_dirs["kubernetes"].iterdir()}
    assert len(compose_keys | kubernetes_keys) == 2 * len(readers), (
        "every pair is its own; Compose and Kubernetes share none"
    )
    assert (compose / "reader-keys" / "public").stat().st_mode & 0o777 == 0o755, "mounted whole: uid 10001 enters"
    assert (compose / "reader-keys").stat().st_mode & 0o777 == 0o700


def test_in_compose_no_service_holds_the_signing_key_and_keycloak_shares_each_clients_secret_with_its_service() -> None:
    project = compose_project()
    keycloak = project["services"]["keycloak"]["environment"]

    assert "token" not in project["services"], "tokens come from Keycloak; nothing in Compose signs any"
    assert "auth-signing-key" not in project.get("secrets", {})
    for service, client_id in install_secrets.OIDC_CLIENTS.items():
        secret = project["services"][service]["environment"]["OIDC_CLIENT_SECRET"]
        assert keycloak[install_secrets.client_secret_placeholder(client_id)] == secret
        assert len(secret) >= 32


@pytest.mark.parametrize(
    ("service", "change", "named"),
    [
        pytest.param("audit", {"AUDIT_HASH_KEY": "local-development-audit-key"}, "AUDIT_HASH_KEY", id="dev-hash-key"),
        pytest.param("audit", {"AUDIT_CHECKPOINT_KEY_PATH": None}, "AUDIT_CHECKPOINT_KEY_PATH", id="made-up-key"),
        pytest.param("intake", {"INTAKE_ENCRYPTION_KEYS": None}, "INTAKE_ENCRYPTION_KEYS", id="no-data-key"),
        pytest.param("mall", {"MALL_SESSION_SECRET": None}, "MALL_SESSION_SECRET", id="no-session-secret"),
        pytest.param("routing", {"DATABASE_URL": None}, "DATABASE_URL", id="local-database"),
        pytest.param("agency", {"AUTH_JWKS_URL": None}, "AUTH_JWKS_URL", id="no-sign-in-providers-keys"),
        pytest.param("mall", {"AUTH_ISSUER": None}, "AUTH_ISSUER", id="the-local-issuer"),
        pytest.param(
            "notification", {"AUTH_PRIVATE_KEY_PATH": "/run/secrets/x"}, "AUTH_PRIVATE_KEY_PATH", id="signing-key"
        ),
    ],
)
def test_a_service_refuses_to_start_on_a_development_default(
    service: str, change: dict[str, str | None], named: str
) -> None:
    environment = compose_environment_of(service) | change
    variables = {name: value for name, value in environment.items() if value is not None}

    with pytest.raises(ValidationError) as refused:
        resolved_settings(service, variables)

    assert "SATUPINTU_ENVIRONMENT=production refuses to start" in str(refused.value)
    assert named in str(refused.value)
    secret_values = [value for name, value in variables.items() if re.search("KEY|SECRET|PASSWORD|URL", name)]
    assert not [value for value in secret_values if len(value) > 20 and value in str(refused.value)], "no echo"


# -- Kubernetes -------------------------------------------------------------------------------------------------------


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [document for document in documents if document["kind"] == kind]


@cache
def production_documents() -> tuple[dict[str, Any], ...]:
    return tuple(validate_k8s.render(PRODUCTION_OVERLAY))


@cache
def generated_kubernetes_secrets() -> dict[str, dict[str, bytes]]:
    """The Secrets ``make secrets`` generates for Kubernetes, rendered by kustomize: name to key to value."""
    documents = validate_k8s.render(generated_secrets() / "kubernetes")
    namespaces = {document["metadata"]["namespace"] for document in documents}
    (overlay_namespace,) = {d["metadata"]["name"] for d in of_kind(list(production_documents()), "Namespace")}
    assert namespaces == {overlay_namespace}
    return {
        document["metadata"]["name"]: {key: base64.b64decode(value) for key, value in document["data"].items()}
        for document in of_kind(documents, "Secret")
    }


@cache
def strimzi_secrets() -> dict[str, dict[str, bytes]]:
    """Stand-ins for what Strimzi makes: each service's SCRAM password and a cluster CA certificate."""
    key = generate_private_key(SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cluster-ca")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    secrets = {f"satupintu-{service}": {"password": b"made-by-the-user-operator"} for service in PORTS}
    return secrets | {"satupintu-cluster-ca-cert": {"ca.crt": certificate.public_bytes(serialization.Encoding.PEM)}}


def cluster_secret(name: str, key: str, *, optional: bool = False) -> bytes | None:
    """A Secret's key as the cluster would have it: generated by the installation, or made by Strimzi."""
    source = strimzi_secrets() if name in STRIMZI_SECRETS else generated_kubernetes_secrets()
    if optional and key not in source.get(name, {}):
        return None
    assert name in source, f"the manifests need Secret {name}, which make secrets does not generate"
    assert key in source[name], f"the manifests need key {key} of Secret {name}, which make secrets does not make"
    return source[name][key]


def deployment(service: str) -> dict[str, Any]:
    (found,) = [d for d in of_kind(list(production_documents()), "Deployment") if d["metadata"]["name"] == service]
    return found


def pod_files(service: str, root: Path) -> dict[str, Path]:
    """The secret volumes of ``service``'s pod written under ``root`` as the kubelet would mount them: mount path
    in the pod to directory here."""
    pod = deployment(service)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounted: dict[str, Path] = {}
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]].get("secret")
        if source is None:
            continue
        directory = root / mount["name"]
        directory.mkdir(parents=True)
        if "items" in source:
            items = source["items"]
        else:  # the whole Secret, a file per key
            items = [{"key": key, "path": key} for key in generated_kubernetes_secrets()[source["secretName"]]]
        for item in items:
            content = cluster_secret(source["secretName"], item["key"], optional=source.get("optional", False))
            if content is not None:
                (directory / item["path"]).write_bytes(content)
        mounted[mount["mountPath"]] = directory
    return mounted


def kubernetes_environment_of(service: str, root: Path) -> dict[str, str]:
    """``service``'s container environment as the cluster gives it, with paths into its secret volumes pointing at
    their files written under ``root``."""
    documents = list(production_documents())
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in of_kind(documents, "ConfigMap")}
    (container,) = deployment(service)["spec"]["template"]["spec"]["containers"]
    variables: dict[str, str] = {}
    for source in container["envFrom"]:
        variables |= config_maps[source["configMapRef"]["name"]]
    for variable in container["env"]:
        if "value" in variable:
            variables[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"]["secretKeyRef"]
        content = cluster_secret(reference["name"], reference["key"], optional=reference.get("optional", False))
        if content is not None:
            variables[variable["name"]] = content.decode()
    mounted = pod_files(service, root)
    for name, value in variables.items():
        for mount_path, directory in mounted.items():
            if value == mount_path:
                variables[name] = str(directory)
            elif value.startswith(f"{mount_path}/"):
                variables[name] = str(directory / value.removeprefix(f"{mount_path}/"))
    return variables


@pytest.mark.parametrize("service", PORTS)
def test_the_kubernetes_production_overlay_gives_each_service_settings_production_accepts(
    service: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environment = kubernetes_environment_of(service, tmp_path)

    assert_fit_for_production(service, environment, home)


@pytest.mark.parametrize("service", PORTS)
def test_in_kubernetes_no_pod_holds_the_signing_key_and_secret_mounts_are_read_only(
    service: str, tmp_path: Path
) -> None:
    pod = deployment(service)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    secret_volumes = {volume["name"] for volume in pod["volumes"] if "secret" in volume}
    files = [path for directory in pod_files(service, tmp_path).values() for path in directory.iterdir()]

    assert all(mount["readOnly"] is True for mount in container["volumeMounts"] if mount["name"] in secret_volumes)
    assert not [path.name for path in files if is_signing_key(path.read_bytes())]
    assert "AUTH_PRIVATE_KEY_PATH" not in kubernetes_environment_of(service, tmp_path / "env")


@pytest.mark.parametrize("service", PORTS)
def test_in_kubernetes_intake_gets_the_readers_public_keys_notification_its_own_and_the_desk_every_agencys(
    service: str, tmp_path: Path
) -> None:
    files = [path for directory in pod_files(service, tmp_path).values() for path in directory.iterdir()]
    variables = kubernetes_environment_of(service, tmp_path / "env").values()

    assert reader_keys_among([path.read_bytes() for path in files]) == READER_KEYS_OF.get(service, (set(), set()))
    assert reader_keys_among(value.encode() for value in variables) == (set(), set()), "no reader key as a variable"


def test_in_kubernetes_the_desk_gets_every_issuing_agencys_signing_key_and_no_secret_a_document_root_key(
    tmp_path: Path,
) -> None:
    environment = kubernetes_environment_of("agency", tmp_path)

    assert_signing_keys_chain_to(Path(environment["AGENCY_SIGNING_KEYS_DIR"]), document_ca_roots()["kubernetes"])
    assert environment["AGENCY_VERIFICATION_BASE_URL"].startswith("https://")
    for name, keys in generated_kubernetes_secrets().items():
        assert not [key for key, value in keys.items() if is_document_root_key(value)], name


def test_the_kubernetes_signing_key_is_generated_beside_the_secrets_and_in_none_of_them() -> None:
    signing_key = (generated_secrets() / "kubernetes-token-signing-key.pem").read_bytes()

    assert is_signing_key(signing_key)
    for name, keys in generated_kubernetes_secrets().items():
        assert not [key for key, value in keys.items() if is_signing_key(value)], name
