"""A service's container as Compose runs it, made on this host without a Docker engine: the image's virtualenv
(built by the Dockerfile's `uv sync` step), the runtime stage's environment, working directory and
`satupintu-service` link, and Compose's own environment for the service or for its `<service>-migrate` job.

Only what names the container's surroundings is translated, never a setting: the image's directories (the
virtualenv, the home and working directory, the link's directory) and the mounted secrets become a scratch
directory and the session's generated secret files; the broker and the database server become the shared ones;
and what a shared server must keep apart between runs gets names of this run: the topic prefix, the database name
prefix, the database roles (a role is global to the server) and a free port."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from satupintu.common.settings import KafkaSettings
from satupintu.devtools.testing.browser import free_port
from satupintu.devtools.testing.waiting import eventually
from tests.deploy import dockerfile
from tests.deploy.support import compose_project

IMAGE_VENV = "/app/.venv"  # UV_PROJECT_ENVIRONMENT of the build stage, copied whole into the runtime stage
IMAGE_BASE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"  # PATH of the python image


@dataclass(frozen=True)
class SharedServers:
    """The broker and the database server the containers use instead of Compose's, and this run's names on them."""

    kafka: KafkaSettings
    database_owner_url: str
    name_prefix: str

    def role(self, service: str) -> str:
        """The database role ``service`` connects as in this run (Compose's is ``satupintu_<service>``)."""
        return f"{self.name_prefix}{service}"


class Container:
    """One container of a service's image: its command (the image's or a job's) run on this host, as Compose
    would run it, in a scratch directory that stands for the image's filesystem."""

    def __init__(self, service: str, compose_name: str, venv: Path, root: Path, servers: SharedServers) -> None:
        self.service = service
        self.definition: dict[str, Any] = compose_project()["services"][compose_name]
        self.venv = venv
        self.root = root
        self.servers = servers
        self.port = free_port()
        self.log_path = root / f"{compose_name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self._places = self._image_places()
        self._make_image_filesystem()

    def command(self) -> list[str]:
        """Compose's command for this container, else the image's CMD."""
        words: list[str] = self.definition.get("command") or dockerfile.command()
        return words

    def environment(self) -> dict[str, str]:
        """The image's ENV, then Compose's environment, translated to this host (nothing of the test's own)."""
        image = {
            name: value.replace("$PATH", IMAGE_BASE_PATH) for name, value in dockerfile.runtime_environment().items()
        }
        composed = {**image, **self.definition.get("environment", {})}
        translated = {name: self._on_host(value) for name, value in composed.items()}
        return translated | self._on_shared_servers(composed)

    async def run(self, *arguments: str) -> asyncio.subprocess.Process:
        """Start the container's command (with ``arguments`` instead, if any), its output to its log."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *(arguments or self.command()),
                env=self.environment(),
                cwd=self._on_host(dockerfile.runtime_workdir()),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        return self.process

    async def exit_code(self, timeout: float = 120.0) -> int:
        """Wait for the command to end and return its exit code."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"{self.log_path.stem} still running after {timeout:.0f}s:\n{self.log()}") from None

    async def ready(self, timeout: float = 120.0) -> httpx.Response:
        """Poll ``/readyz`` on the published port until it answers 200; fail at once should the process end."""

        async def readiness() -> httpx.Response | None:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"{self.service} exited with {self.process.returncode}:\n{self.log()}")
            try:
                return await client.get(f"http://127.0.0.1:{self.port}/readyz", timeout=3)
            except httpx.HTTPError:
                return None

        async with httpx.AsyncClient() as client:  # one for the whole wait, not a TLS context per poll
            answer = await eventually(
                readiness,
                lambda answer: answer is not None and answer.status_code == 200,
                timeout=timeout,
                interval=0.2,
                what=f"{self.service}'s /readyz answering 200",
            )
        assert answer is not None
        return answer

    async def stop(self, timeout: float = 60.0) -> int:
        """``docker stop``: SIGTERM, then the exit code (SIGKILL and a failure after ``timeout``: longer than
        Docker's ten seconds and Kubernetes' thirty, for seven services stopping at once on two shared cores)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await self.exit_code(timeout)

    async def python(self, code: str) -> str:
        """What ``python -c code`` prints in a fresh container of this image (as the Compose health check runs
        Python: the image's PATH finds the virtualenv's)."""
        process = await asyncio.create_subprocess_exec(
            "python",
            "-c",
            code,
            env=self.environment(),
            cwd=self._on_host(dockerfile.runtime_workdir()),
            stdout=asyncio.subprocess.PIPE,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, f"python -c {code!r} failed in the {self.service} image"
        return output.decode()

    def running_program(self) -> tuple[Path, Path, Path]:
        """What runs: the interpreter the kernel started (a console script's), the program it was given, and the
        file that program is after links."""
        assert self.process is not None
        argv = Path(f"/proc/{self.process.pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
        return Path(argv[0]), Path(argv[1]), Path(argv[1]).resolve()

    def site_packages(self) -> Path:
        """Where the image's virtualenv installed its packages."""
        [found] = self.venv.glob("lib/python3*/site-packages")
        return found

    def log(self, lines: int = 40) -> str:
        """The last lines the container wrote."""
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _image_places(self) -> dict[str, Path]:
        """Image paths and where they are on this host, longest first."""
        _, link = dockerfile.command_link(self.service)
        places = {
            IMAGE_VENV: self.venv,
            str(Path(link).parent): self.root / "image" / Path(link).parent.relative_to("/"),
            dockerfile.runtime_workdir(): self.root / "image" / Path(dockerfile.runtime_workdir()).relative_to("/"),
        }
        secret_files = compose_project()["secrets"]
        for secret in self.definition.get("secrets", []):
            places[secret["target"]] = Path(secret_files[secret["source"]]["file"])
        return dict(sorted(places.items(), key=lambda place: -len(place[0])))

    def _make_image_filesystem(self) -> None:
        """The directories the runtime stage makes and the link to the service's console script."""
        for directory in dockerfile.runtime_directories():
            Path(self._on_host(directory)).mkdir(parents=True, exist_ok=True)
        target, link = dockerfile.command_link(self.service)
        host_link = Path(self._on_host(link))
        host_link.parent.mkdir(parents=True, exist_ok=True)
        if not host_link.is_symlink():
            host_link.symlink_to(self._on_host(target))

    def _on_host(self, value: str) -> str:
        """``value`` with each image path in it (a path, or a PATH-like list) replaced by its place here."""
        if not value.startswith("/"):
            return value
        return ":".join(self._path_on_host(part) for part in value.split(":"))

    def _path_on_host(self, path: str) -> str:
        for image_path, host_path in self._places.items():
            if path == image_path or path.startswith(f"{image_path}/"):
                return str(host_path) + path.removeprefix(image_path)
        return path

    def _on_shared_servers(self, composed: dict[str, str]) -> dict[str, str]:
        """The settings that name Compose's broker, database server and published port, for the shared ones."""
        servers = self.servers
        shared: dict[str, str] = {}
        if "KAFKA_BOOTSTRAP_SERVERS" in composed:
            shared |= {
                "KAFKA_BOOTSTRAP_SERVERS": servers.kafka.bootstrap_servers,
                "KAFKA_TOPIC_PREFIX": servers.kafka.topic_prefix,
                "KAFKA_PARTITIONS": str(servers.kafka.partitions),  # fewer than Compose's six: a shared broker
            }
        if "DATABASE_URL" in composed:
            owner = make_url(servers.database_owner_url)
            url = make_url(composed["DATABASE_URL"]).set(
                host=owner.host, port=owner.port, username=servers.role(self.service)
            )
            shared |= {"DATABASE_URL": url.render_as_string(hide_password=False)}
            shared |= {"DATABASE_NAME_PREFIX": servers.name_prefix}
        if "DATABASE_OWNER_URL" in composed:
            shared |= {"DATABASE_OWNER_URL": servers.database_owner_url}
        port = f"{self.service.upper()}_PORT"
        if port in composed:
            shared |= {port: str(self.port)}
        return shared
