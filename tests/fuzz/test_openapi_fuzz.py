"""Bad input at scale: schemathesis sends requests generated from the OpenAPI documents of intake, agency and audit
to real service processes (real PostgreSQL and Kafka behind them); no answer may be a server error. Staff
endpoints get a valid token of the right role, so the requests reach the handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

ROLES = {"intake": None, "agency": (Role.OFFICER, "polres"), "audit": (Role.AUDITOR, None)}


@pytest.fixture(scope="module", params=sorted(ROLES))
def running_service(
    request: pytest.FixtureRequest,
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Any, dict[str, str]]]:
    """A service process, its OpenAPI document, and the headers a legitimate caller sends."""
    service: str = request.param
    logs = tmp_path_factory.mktemp(f"fuzz-{service}")
    loop = asyncio.new_event_loop()
    loop.run_until_complete(service_database(database_settings, service))
    process = ServiceProcess(
        service,
        kafka_settings,
        database_settings,
        logs,
        extra_env={"INTAKE_RATE_LIMIT_PER_MINUTE": "0", "INTAKE_DOCUMENTS_DIR": str(Path(logs) / "documents")},
    ).start()
    headers: dict[str, str] = {}
    if ROLES[service] is not None:
        role, agency = ROLES[service]  # type: ignore[misc]
        private_pem, _ = load_or_create_local_keys(AuthSettings().keys_dir)
        token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("fuzzer", {role}, agency)
        headers["Authorization"] = f"Bearer {token}"
    try:
        loop.run_until_complete(process.ready())
        yield service, schemathesis.openapi.from_url(f"http://127.0.0.1:{process.port}/openapi.json"), headers
    finally:
        process.stop()
        loop.close()


def test_generated_requests_never_get_a_server_error(running_service: tuple[str, Any, dict[str, str]]) -> None:
    service, schema, headers = running_service
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers=headers, timeout=30)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {response.request.url} -> {response.status_code}: {response.text[:300]}"
                )

        call()

    assert len(operations) >= 4, service
    assert len(calls) >= len(operations)
    assert failures == [], "\n".join(failures)
