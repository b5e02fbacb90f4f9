"""Keycloak, the local OpenID Connect provider, run from Maven Central's ``keycloak-quarkus-dist`` on the machine's
Java in production mode, with its own database on the local PostgreSQL server.

The distribution's ``tar.gz`` is checked against the SHA-256 pinned in ``deploy/local/keycloak/keycloak.sha256``
(whose file name also pins the version) and cached per user, extracted and built once (``kc.sh build``) for
:data:`BUILD_OPTIONS`; it is built again only when those options change, and a new version is a new directory. The
realm ``deploy/keycloak/satupintu-realm.json`` is imported before the server starts, the first time and again when
that file changed (its SHA-256 is kept beside the server's state); otherwise the realm in the database is left as
it is. The bootstrap administrator's password is generated for this installation into the local keys directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from satupintu.common.database import ensure_database
from satupintu.common.settings import AuthSettings
from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.paths import cache_dir, deploy_dir, repository_root, run_dir, sha256_of

PROCESS_NAME = "keycloak"
REALM = "satupintu"
MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2/org/keycloak/keycloak-quarkus-dist"
BUILD_OPTIONS = ("--db=postgres", "--health-enabled=true", "--cache=local")
"""Build-time options ``kc.sh build`` bakes into the distribution (``start --optimized`` then starts quickly)."""
HEAP = "-Xms64m -Xmx512m"
"""The JVM's heap; Keycloak's own default is a share of the machine's memory."""
ADMIN_USER = "admin"
LOCAL_USERS = {
    "officer-polres": "local-officer-polres",
    "supervisor-polres": "local-supervisor-polres",
    "officer-imigrasi": "local-officer-imigrasi",
    "clerk-mall": "local-clerk-mall",
    "auditor": "local-auditor",
    "operator": "local-operator",
    "citizen": "local-citizen",
}
"""The realm's local users and their initial passwords (as in the realm file), which ``make up`` prints."""
_ARCHIVE = re.compile(r"keycloak-quarkus-dist-(?P<version>[0-9][^/]*)\.tar\.gz")


class KeycloakStartError(RuntimeError):
    """Keycloak could not be fetched, built, given its realm or started; the message says why."""


def pinned_archive() -> tuple[str, str]:
    """The pinned archive's file name and SHA-256, from ``deploy/local/keycloak/keycloak.sha256``."""
    for line in (deploy_dir() / "keycloak" / "keycloak.sha256").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            return name.strip().lstrip("*"), digest.lower()
    raise KeycloakStartError("deploy/local/keycloak/keycloak.sha256 pins no archive")


def keycloak_version() -> str:
    """The Keycloak version, from the pinned archive's name."""
    name, _ = pinned_archive()
    matched = _ARCHIVE.fullmatch(name)
    if matched is None:
        raise KeycloakStartError(f"{name} is not a keycloak-quarkus-dist-<version>.tar.gz")
    return matched["version"]


def verify_archive(path: Path, expected: str) -> None:
    """Refuse an archive whose SHA-256 is not the pinned one."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise KeycloakStartError(f"checksum mismatch for {path.name}: expected {expected}, got {actual}")


def _download(url: str, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    with urllib.request.urlopen(url, timeout=60) as answer, partial.open("wb") as output:  # noqa: S310 (https)
        shutil.copyfileobj(answer, output, 1 << 20)
    partial.rename(target)


def ensure_distribution() -> Path:
    """The extracted, verified distribution, downloading and extracting it the first time."""
    version = keycloak_version()
    name, digest = pinned_archive()
    home = cache_dir() / f"keycloak-{version}"
    dist = home / "dist"
    if (dist / "bin" / "kc.sh").is_file():
        return dist
    home.mkdir(parents=True, exist_ok=True)
    archive = home / name
    if not archive.is_file():
        print(f"Fetching Keycloak {version} from Maven Central into {home} ...", flush=True)
        _download(f"{MAVEN_CENTRAL}/{version}/{name}", archive)
    try:
        verify_archive(archive, digest)
    except KeycloakStartError:
        archive.unlink()
        raise
    staging = home / "dist.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    extracted = staging / f"keycloak-{version}"
    for script in (extracted / "bin").glob("*.sh"):
        script.chmod(0o755)  # the "data" filter keeps the execute bits; be sure of them anyway
    shutil.rmtree(dist, ignore_errors=True)
    extracted.rename(dist)
    shutil.rmtree(staging, ignore_errors=True)
    archive.unlink()  # the extracted tree is what is kept
    print(f"Keycloak {version} verified and extracted.", flush=True)
    return dist


def _build_marker(dist: Path) -> Path:
    return dist / ".satupintu-build-options"


def needs_build(dist: Path, options: Sequence[str] = BUILD_OPTIONS) -> bool:
    """Whether ``dist`` was not built yet, or was built with other options."""
    marker = _build_marker(dist)
    return not marker.is_file() or marker.read_text() != "\n".join(options)


def ensure_built(dist: Path, options: Sequence[str] = BUILD_OPTIONS) -> None:
    """Run ``kc.sh build`` for ``options`` unless the distribution already is built so."""
    if not needs_build(dist, options):
        return
    print(f"Building Keycloak for {' '.join(options)} (once) ...", flush=True)
    _build_marker(dist).unlink(missing_ok=True)
    result = subprocess.run(
        [str(dist / "bin" / "kc.sh"), "build", *options],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "JAVA_OPTS_KC_HEAP": HEAP},
    )
    if result.returncode != 0:
        raise KeycloakStartError(f"kc.sh build failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    _build_marker(dist).write_text("\n".join(options))


def needs_import(marker: Path, realm_digest: str, database_created: bool) -> bool:
    """Whether the realm file must be imported: into a new database, or because it changed since its last import
    (``marker`` holds the SHA-256 of the file last imported)."""
    if database_created or not marker.is_file():
        return True
    return marker.read_text().strip() != realm_digest


def admin_password(credentials: Path) -> str:
    """The bootstrap administrator's password, generated the first time into ``credentials`` (mode 0600)."""
    if credentials.is_file():
        return str(json.loads(credentials.read_text())["password"])
    credentials.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    credentials.touch(mode=0o600)
    credentials.chmod(0o600)
    credentials.write_text(json.dumps({"username": ADMIN_USER, "password": password}))
    return password


def _postgres_url() -> str:
    from satupintu.devtools.localstack.postgres import LocalPostgres  # noqa: PLC0415 (avoids the wheel at import)

    return LocalPostgres().url


@dataclass(frozen=True)
class LocalKeycloak:
    """The local Keycloak: where it listens, which PostgreSQL server keeps its database, and its process name."""

    host: str = "127.0.0.1"
    port: int = 8080
    management_port: int = 9000
    postgres_url: str = field(default_factory=_postgres_url)
    database: str = "keycloak"
    name: str = PROCESS_NAME

    @property
    def url(self) -> str:
        """Where it answers."""
        return f"http://{self.host}:{self.port}/"

    @property
    def issuer(self) -> str:
        """The issuer of the Satu Pintu realm's tokens."""
        return f"http://{self.host}:{self.port}/realms/{REALM}"

    @property
    def discovery_url(self) -> str:
        """The realm's OpenID Connect discovery document."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def state_dir(self) -> Path:
        """Its directory in the run directory: the SHA-256 of the realm file last imported."""
        return run_dir() / self.name

    @property
    def realm_file(self) -> Path:
        """The realm it imports."""
        return repository_root() / "deploy" / "keycloak" / f"{REALM}-realm.json"

    @property
    def imported_marker(self) -> Path:
        """The SHA-256 of the realm file last imported into its database."""
        return self.state_dir / "realm.sha256"

    @property
    def credentials_file(self) -> Path:
        """The bootstrap administrator's name and password (readable by this user alone)."""
        return AuthSettings().keys_dir / "keycloak-admin.json"

    def answers(self) -> bool:
        """Whether the realm's discovery document answers."""
        try:
            with urllib.request.urlopen(self.discovery_url, timeout=2) as answer:  # noqa: S310 (our own URL)
                return bool(answer.status == 200)
        except OSError:
            return False

    def environment(self, *, administrator: bool = False) -> dict[str, str]:
        """The runtime options (as ``KC_*`` variables) ``kc.sh import`` and ``kc.sh start`` share; with
        ``administrator``, the bootstrap administrator Keycloak creates with the master realm."""
        server = make_url(self.postgres_url)
        env = {
            **os.environ,
            "JAVA_OPTS_KC_HEAP": HEAP,
            "KC_DB_URL": f"jdbc:postgresql://{server.host}:{server.port or 5432}/{self.database}",
            "KC_DB_USERNAME": server.username or "postgres",
            "KC_DB_POOL_MAX_SIZE": "20",
            "KC_HTTP_ENABLED": "true",
            "KC_HTTP_HOST": self.host,
            "KC_HTTP_PORT": str(self.port),
            "KC_HTTP_MANAGEMENT_PORT": str(self.management_port),
            "KC_HOSTNAME_STRICT": "false",
            "KC_CACHE": "local",  # one node: no JGroups discovery, nothing listening beyond the two ports
        }
        if server.password:
            env["KC_DB_PASSWORD"] = str(server.password)
        if administrator:
            env["KC_BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USER
            env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = admin_password(self.credentials_file)
        return env

    def start(self, timeout: float = 240.0) -> bool:
        """Fetch, build, import the realm if needed and start Keycloak unless it answers; wait until the realm's
        discovery document answers. True if this call started it."""
        if self.answers():
            return False
        dist = ensure_distribution()
        ensure_built(dist)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        created = asyncio.run(ensure_database(self.postgres_url, self.database))
        digest = sha256_of(self.realm_file)
        if needs_import(self.imported_marker, digest, created):
            self.imported_marker.unlink(missing_ok=True)
            print(f"Importing the realm {self.realm_file.name} into Keycloak ...", flush=True)
            realm = str(self.realm_file)
            imported = subprocess.run(
                [str(dist / "bin" / "kc.sh"), "import", "--optimized", "--file", realm, "--override", "true"],
                check=False,
                capture_output=True,
                text=True,
                env=self.environment(administrator=True),  # the import creates the master realm: its admin too
            )
            if imported.returncode != 0:
                raise KeycloakStartError(f"kc.sh import failed:\n{imported.stdout[-6000:]}{imported.stderr[-4000:]}")
            self.imported_marker.write_text(digest)
        env = self.environment(administrator=True)
        pid = processes.spawn(self.name, [str(dist / "bin" / "kc.sh"), "start", "--optimized"], env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not processes.is_alive(pid):
                raise KeycloakStartError(f"Keycloak exited while starting:\n{processes.log_tail(self.name)}")
            if self.answers():
                return True
            time.sleep(0.5)
        processes.stop(self.name)
        raise KeycloakStartError(f"Keycloak did not answer within {timeout:.0f}s:\n{processes.log_tail(self.name)}")

    def stop(self) -> bool:
        """Stop the Keycloak this tooling started; True if one was running."""
        return processes.stop(self.name, timeout=30.0)

    def summary(self) -> str:
        """What ``make up`` prints after its URL: the realm, the local users and where the admin's password is."""
        users = ", ".join(f"{user} / {password}" for user, password in LOCAL_USERS.items())
        return (
            f"realm {REALM} ({self.issuer}); users (initial passwords): {users}; admin console {self.url}admin/ "
            f"as {ADMIN_USER}, password in {self.credentials_file}"
        )
