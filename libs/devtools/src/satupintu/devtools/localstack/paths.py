"""Where the local tooling keeps its inputs (in the repository), its cache (per user) and its runtime state, and the
checksum its downloads are checked by."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def repository_root() -> Path:
    """The checkout this package was installed from (editable installs live inside it)."""
    configured = os.environ.get("SATUPINTU_ROOT")
    if configured:
        return Path(configured).resolve()
    for candidate in [Path.cwd(), *Path(__file__).resolve().parents]:
        if (candidate / "deploy" / "local" / "kafka" / "pom.xml").is_file():
            return candidate
    raise FileNotFoundError("cannot find the Satu Pintu checkout (deploy/local/kafka/pom.xml); set SATUPINTU_ROOT")


def deploy_dir() -> Path:
    """``deploy/local`` in the checkout: the POM, checksums and configuration templates."""
    return repository_root() / "deploy" / "local"


def cache_dir() -> Path:
    """Per-user download cache, kept across checkouts so a second run downloads nothing."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("SATUPINTU_CACHE_DIR", Path(base) / "satupintu"))


def run_dir() -> Path:
    """Runtime state of the local stack: data directories, logs and process ids."""
    path = Path(os.environ.get("SATUPINTU_RUN_DIR", repository_root() / ".run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, as lower-case hex (what the pinned checksums of Kafka's jars and Keycloak's archive
    are checked against)."""
    digest = hashlib.sha256()
    with path.open("rb") as content:
        for block in iter(lambda: content.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
