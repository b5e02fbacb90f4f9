"""The one Dockerfile builds any service: what it copies and runs is checked here without a Docker engine; its
`uv sync` step is run for each service into a scratch virtualenv (once per service for this module) that must
import the service's app; and from that virtualenv each service's container is run as Compose runs it (its
`<service>-migrate` job, then the image's command until `/readyz` answers, then `docker stop`'s SIGTERM), on the
real broker and a fresh database, so the image's command is proven to start the service from its wheel."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from satupintu.common.database import drop_database
from satupintu.common.migrations import quote_identifier
from satupintu.common.settings import KafkaSettings
from satupintu.devtools.localstack.selection import Endpoint
from tests.deploy.container import Container, SharedServers
from tests.deploy.dockerfile import build_context, build_venv, instructions, stages
from tests.deploy.support import ROOT, SERVICES


@pytest.mark.unit
def test_the_runtime_stage_is_slim_python_311_run_by_an_unprivileged_user() -> None:
    runtime = stages()[-1]
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in instructions()
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"], "the runtime gets the virtualenv and nothing else"
    assert runtime[-1] == ("CMD", '["satupintu-service"]')


@pytest.mark.unit
def test_the_build_installs_only_the_chosen_service_from_the_lock_without_dev_tools() -> None:
    build = next(stage for stage in stages() if stage[0][1].endswith("AS build"))
    syncs = [arguments for keyword, arguments in build if keyword == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
        assert '--package "satupintu-${SERVICE}"' in sync
    assert "--no-editable" in syncs[-1]
    assert any(keyword == "COPY" and arguments.startswith("--from=uv /uv ") for keyword, arguments in build)


@pytest.mark.unit
def test_every_workspace_member_manifest_is_copied_before_the_dependency_layer() -> None:
    members = sorted(path.parent.relative_to(ROOT) for path in ROOT.glob("*/*/pyproject.toml"))
    members = [m for m in members if m.parts[0] in {"libs", "services"}]
    copies = [arguments for keyword, arguments in instructions() if keyword == "COPY"]
    for member in members:
        assert f"{member}/pyproject.toml {member}/" in copies, f"Dockerfile must COPY {member}/pyproject.toml"
    assert {m.name for m in members if m.parts[0] == "services"} == set(SERVICES)


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The virtualenv the image build makes for a service (``/app/.venv``), built once per service for this module
    from a build context without tests."""
    context = build_context(tmp_path_factory.mktemp("context"))
    venvs = tmp_path_factory.mktemp("venvs")
    built: dict[str, Path] = {}

    def venv(service: str) -> Path:
        if service not in built:
            built[service] = build_venv(context, venvs / service, service)
        return built[service]

    return venv


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_the_image_build_step_gives_each_service_its_console_script_and_importable_app(
    service: str, image_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    bin_dir = image_venv(service) / "bin"
    assert (bin_dir / f"satupintu-{service}").is_file()
    others = [other for other in SERVICES if other != service and (bin_dir / f"satupintu-{other}").exists()]
    assert others == [], "an image carries one service"
    subprocess.run(
        [str(bin_dir / "python"), "-c", f"import satupintu.{service}.main as m; assert callable(m.create_app)"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
async def shared_servers(
    kafka_settings: KafkaSettings, postgres_endpoint: Endpoint, test_module_id: str
) -> AsyncIterator[SharedServers]:
    """The session's broker (with this module's topic prefix) and database server instead of Compose's; the
    databases and roles the containers' migrations create under this module's prefix are dropped at its end."""
    servers = SharedServers(kafka_settings, postgres_endpoint.address, name_prefix=f"t{test_module_id}_")
    yield servers
    connection = await asyncpg.connect(postgres_endpoint.address)
    try:
        pattern = servers.name_prefix.replace("_", r"\_") + "%"
        databases = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", pattern)
        roles = await connection.fetch("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", pattern)
    finally:
        await connection.close()
    for database in databases:
        await drop_database(postgres_endpoint.address, database["datname"])
    connection = await asyncpg.connect(postgres_endpoint.address)
    try:
        for role in roles:
            await connection.execute(f"DROP ROLE {quote_identifier(role['rolname'])}")
    finally:
        await connection.close()


async def run_like_compose(service: str, venv: Path, root: Path, servers: SharedServers) -> None:
    """Compose's `<service>-migrate` job on a fresh database, then the service's container: the image's command
    serves it from the wheel until `/readyz` answers, and `docker stop` (SIGTERM) ends it with exit code 0."""
    migration = Container(service, f"{service}-migrate", venv, root, servers)
    await migration.run()
    assert await migration.exit_code() == 0, migration.log()
    assert f"created database {servers.name_prefix}{service}" in migration.log()

    container = Container(service, service, venv, root, servers)
    assert container.command() == ["satupintu-service"]
    await container.run()
    try:
        readiness = await container.ready()
        assert readiness.json()["status"] == "ready", readiness.text
        interpreter, program, script = container.running_program()
    finally:
        exit_code = await container.stop()
    assert exit_code == 0, container.log()
    imported = json.loads(
        await container.python(
            "import importlib.metadata, json, satupintu.common, "
            f"satupintu.{service}.main as main; "
            f"print(json.dumps([main.__file__, satupintu.common.__file__, "
            f"importlib.metadata.distribution('satupintu-{service}').read_text('direct_url.json')]))"
        )
    )
    assert (interpreter, program.name, script) == (
        venv / "bin" / "python",
        "satupintu-service",
        venv / "bin" / f"satupintu-{service}",
    )
    service_module, common_module, direct_url = imported
    for module in (Path(service_module), Path(common_module)):
        assert module.is_relative_to(container.site_packages()), f"{module} is not the wheel's"
        assert not module.is_relative_to(ROOT)
    assert not json.loads(direct_url or "{}").get("dir_info", {}).get("editable"), "installed editable"


@pytest.fixture(scope="module")
async def runs_like_compose(
    image_venv: Callable[[str], Path],
    shared_servers: SharedServers,
    tmp_path_factory: pytest.TempPathFactory,
    deploy_tools: None,  # Compose resolves each service's environment
) -> dict[str, BaseException | None]:
    """Every service run as Compose runs it, all seven at once as `docker compose up` starts them (about 32 s on
    two cores against 55 s one after the other): what went wrong for each, or None."""
    venvs = {service: image_venv(service) for service in SERVICES}
    roots = {service: tmp_path_factory.mktemp(f"container-{service}") for service in SERVICES}
    outcomes = await asyncio.gather(
        *(run_like_compose(service, venvs[service], roots[service], shared_servers) for service in SERVICES),
        return_exceptions=True,
    )
    return dict(zip(SERVICES, outcomes, strict=True))


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
async def test_the_images_command_migrates_then_serves_each_service_from_its_wheel_and_stops_cleanly_on_sigterm(
    service: str, runs_like_compose: dict[str, BaseException | None]
) -> None:
    failure = runs_like_compose[service]
    if failure is not None:
        raise failure
