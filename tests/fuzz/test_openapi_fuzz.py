"""Bad input at scale, and the published contract held to: schemathesis sends requests generated from each of the
seven services' OpenAPI documents to a real service process (real PostgreSQL and Kafka behind it). No answer may be
a server error, and every answer must be what the document publishes: a declared status, a declared media type, a
body that fits the declared schema, the declared headers. Calls carry a token with every staff role, so they reach
the handlers rather than stopping at 401."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")
STAFF_ROLES = {Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.OPERATOR}
EXAMPLES_PER_OPERATION = 6
"""Few, to keep the module within a minute for the seven services; schemathesis's generation still covers edge
values (missing fields, wrong types, boundary lengths) first."""

CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
UNLIMITED = {  # the fuzzer is one client sending many writes: per-client limits would only answer 429
    "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
    "MALL_RATE_LIMIT_PER_MINUTE": "0",
    "MALL_KIOSK_RATE_LIMIT_PER_MINUTE": "0",
}


@pytest.fixture(scope="module")
def service_ports(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, int]]:
    """The seven services, one process each, started together (their start-ups overlap) and stopped together."""
    logs = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    for service in SERVICES:
        loop.run_until_complete(service_database(database_settings, service))
    extra_env = {**UNLIMITED, "INTAKE_DOCUMENTS_DIR": str(logs / "documents")}
    processes = [
        ServiceProcess(service, kafka_settings, database_settings, logs, extra_env=extra_env).start()
        for service in SERVICES
    ]
    try:
        loop.run_until_complete(all_ready(processes))
        yield {process.service: process.port for process in processes}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait_stopped()
        loop.close()


async def all_ready(processes: list[ServiceProcess]) -> None:
    """Wait until every process answers ``/readyz``."""
    await asyncio.gather(*(process.ready(timeout=240) for process in processes))


@pytest.fixture(params=SERVICES)
def running_service(request: pytest.FixtureRequest, service_ports: dict[str, int]) -> tuple[str, Any, dict[str, str]]:
    """One service's name, its OpenAPI document (as it serves it), and the headers a member of staff sends."""
    service: str = request.param
    private_pem, _ = load_or_create_local_keys(AuthSettings().keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("fuzzer", STAFF_ROLES, "polres")
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{service_ports[service]}/openapi.json")
    return service, schema, {"Authorization": f"Bearer {token}"}


def test_every_answer_is_what_the_published_document_says(running_service: tuple[str, Any, dict[str, str]]) -> None:
    service, schema, headers = running_service
    differences: dict[str, str] = {}
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        # derandomized: the same examples on every run, so CI is green or red by the code, not by the draw
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            try:
                response = case.call_and_validate(headers=headers, timeout=30, checks=CONFORMANCE)
            except FailureGroup as group:
                for failure in group.exceptions:
                    differences.setdefault(f"{case.method} {case.path}: {failure.title}", failure.message[:400])
                return
            calls.append(response.status_code)

        call()

    assert len(operations) >= 4, service
    assert len(calls) >= len(operations)
    assert differences == {}, "\n".join(f"{where}\n    {what}" for where, what in differences.items())
