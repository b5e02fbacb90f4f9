"""`docker compose config` (the real Compose, no engine needed) accepts deploy/docker-compose.yml in both shapes,
one broker and the three-broker `cluster` profile, and refuses a broken file; Keycloak is the sign-in provider the
services trust."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from satupintu.common import install_secrets
from satupintu.common.settings import AuthSettings
from tests.deploy.support import (
    COMPOSE_FILE,
    INSTALL_WAIT,
    PORTS,
    ROOT,
    compose_config,
    compose_environment,
    compose_project,
    known_environment,
)

# the Compose CLI (and kustomize) may still be building when the first check runs
pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("deploy_tools"), pytest.mark.timeout(INSTALL_WAIT + 60)]

KAFKA_BROKERS = {"kafka", "kafka-2", "kafka-3"}


@pytest.mark.parametrize("cluster", [False, True], ids=["one-broker", "cluster-profile"])
def test_compose_config_accepts_the_file(cluster: bool) -> None:
    services = compose_project(cluster)["services"]
    brokers = KAFKA_BROKERS if cluster else {"kafka"}
    migrations = {f"{service}-migrate" for service in PORTS}
    assert set(services) == set(PORTS) | migrations | brokers | {"postgres", "kafka-topics", "keycloak"}


def test_the_cluster_profile_runs_three_brokers_in_one_quorum_with_three_replicas() -> None:
    services = compose_project(cluster=True)["services"]
    voters = {services[broker]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for broker in KAFKA_BROKERS}
    assert voters == {"1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert services["intake"]["environment"]["KAFKA_REPLICATION_FACTOR"] == "3"
    assert services["kafka-topics"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092,kafka-2:9092,kafka-3:9092"
    assert {services[b]["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] for b in KAFKA_BROKERS} == {"2"}


def test_kafka_is_the_apache_image_in_kraft_mode_at_the_local_stacks_version() -> None:
    pom = (ROOT / "deploy" / "local" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>(.+?)</kafka.version>", pom)
    assert version
    kafka = compose_project(cluster=False)["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{version.group(1)}"
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["healthcheck"]["test"]


@pytest.mark.parametrize("cluster", [False, True], ids=["one-broker", "cluster-profile"])
def test_services_start_after_the_database_and_the_topics_and_report_readiness(cluster: bool) -> None:
    services = compose_project(cluster)["services"]
    topics = services["kafka-topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["postgres"]["healthcheck"]["test"]
    for service, port in PORTS.items():
        definition = services[service]
        assert definition["build"]["args"] == {"SERVICE": service}
        assert definition["build"]["dockerfile"] == "deploy/docker/Dockerfile"
        assert definition["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert definition["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
        assert f"127.0.0.1:{port}/readyz" in " ".join(definition["healthcheck"]["test"])
        assert [(p["target"], p["published"]) for p in definition["ports"]] == [(port, str(port))]
        environment = definition["environment"]
        assert {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", f"{service.upper()}_PORT"} <= set(environment)
        assert set(environment) - known_environment(service) == set(), service


def test_traces_stay_in_the_services_until_the_operator_names_a_collector() -> None:
    without = {name: value for name, value in compose_environment().items() if not name.startswith("OTEL_")}
    collector = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318"}

    by_default = compose_config(environment=without)
    sending = compose_config(environment={**without, **collector})

    assert by_default.returncode == 0, by_default.stderr
    assert sending.returncode == 0, sending.stderr
    quiet, traced = json.loads(by_default.stdout)["services"], json.loads(sending.stdout)["services"]
    for service in PORTS:
        assert quiet[service]["environment"]["OTEL_TRACES_EXPORTER"] == "none", service
        assert collector.items() <= traced[service]["environment"].items(), service


def test_each_service_starts_after_its_migration_as_a_role_of_its_own_without_the_owners_credentials() -> None:
    services = compose_project(cluster=False)["services"]
    owner = make_url(services["intake-migrate"]["environment"]["DATABASE_OWNER_URL"])
    assert owner.username == services["postgres"]["environment"]["POSTGRES_USER"]
    roles = set()
    for service in PORTS:
        definition, migration = services[service], services[f"{service}-migrate"]
        assert definition["depends_on"][f"{service}-migrate"]["condition"] == "service_completed_successfully"
        assert migration["command"] == ["satupintu-service", "migrate"]
        assert migration["restart"] == "no"
        assert migration["image"] == definition["image"]
        assert migration["build"]["args"] == {"SERVICE": service}
        assert migration["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migration["environment"]["DATABASE_OWNER_URL"] == str(owner.render_as_string(hide_password=False))
        # The migration creates the role the service connects as, with the password the service uses.
        assert migration["environment"]["DATABASE_URL"] == definition["environment"]["DATABASE_URL"]
        assert "DATABASE_OWNER_URL" not in definition["environment"]
        roles.add(make_url(definition["environment"]["DATABASE_URL"]).username)
    assert roles == {f"satupintu_{service}" for service in PORTS}


def test_the_topic_creator_runs_the_repositorys_script() -> None:
    topics = compose_project(cluster=False)["services"]["kafka-topics"]
    assert topics["command"][:2] == ["python", "/opt/satupintu/tools/create_topics.py"]
    (mount,) = topics["volumes"]
    assert Path(mount["source"]) == ROOT / "deploy" / "tools"
    assert mount["read_only"] is True


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            (
                "    restart: unless-stopped\n    environment:\n      POSTGRES_USER",
                "    restart: unless-stopped\n    enviroment:\n      POSTGRES_USER",
            ),
            "enviroment",
            id="misspelled-key",
        ),
        pytest.param(
            ("      condition: service_completed_successfully", "      condition: when_ready"),
            "condition value must be one of",
            id="bad-condition",
        ),
        pytest.param(
            (
                "      kafka:\n        condition: service_healthy\n      kafka-2:",
                "      zookeeper:\n        condition: service_healthy\n      kafka-2:",
            ),
            "zookeeper",
            id="undefined-dependency",
        ),
        pytest.param(
            (
                "      interval: 10s\n      timeout: 5s\n      retries: 5",
                "      interval: soon\n      timeout: 5s\n      retries: 5",
            ),
            "soon",
            id="bad-duration",
        ),
    ],
)
def test_a_broken_compose_file_fails_the_check(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    original = COMPOSE_FILE.read_text()
    assert change[0] in original
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(original.replace(change[0], change[1], 1))
    result = compose_config(compose_file=broken)
    assert result.returncode != 0
    assert expected in result.stderr


def test_the_mall_is_told_its_addresses_time_zone_and_the_publics_rate_limits() -> None:
    environment = compose_project(cluster=False)["services"]["mall"]["environment"]
    assert environment["MALL_PUBLIC_URL"] == "http://localhost:8006"
    assert environment["MALL_INTAKE_URL"] == "http://localhost:8001"
    assert environment["MALL_TIMEZONE"] == "Asia/Jakarta"
    for limit in ("KIOSK_RATE_LIMIT_PER_MINUTE", "KIOSK_RATE_LIMIT_BURST", "RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_BURST"):
        assert int(environment[f"MALL_{limit}"]) > 0, limit


def test_keycloak_runs_the_local_stacks_release_in_production_mode_on_its_own_database_with_the_realm() -> None:
    services = compose_project(cluster=False)["services"]
    keycloak = services["keycloak"]
    checksum = (ROOT / "deploy" / "local" / "keycloak" / "keycloak.sha256").read_text()
    version = re.search(r"keycloak-quarkus-dist-(.+)\.tar\.gz", checksum)
    assert version
    assert keycloak["image"] == f"quay.io/keycloak/keycloak:{version.group(1)}"
    assert keycloak["command"] == ["start", "--import-realm"]
    environment = keycloak["environment"]
    assert environment["KC_DB"] == "postgres"
    assert make_url(environment["KC_DB_URL"].removeprefix("jdbc:")).database == "keycloak"
    assert environment["KC_DB_USERNAME"] == "keycloak"
    assert environment["KC_DB_PASSWORD"] == services["postgres"]["environment"]["KEYCLOAK_DB_PASSWORD"]
    assert environment["KC_HEALTH_ENABLED"] == "true"
    assert "-Xmx" in environment["JAVA_OPTS_KC_HEAP"]
    assert "/health/ready" in " ".join(keycloak["healthcheck"]["test"])
    assert keycloak["depends_on"]["postgres"]["condition"] == "service_healthy"
    (realm,) = keycloak["volumes"]
    assert Path(realm["source"]) == ROOT / "deploy" / "keycloak" / "satupintu-realm-import.json"
    assert realm["target"].startswith("/opt/keycloak/data/import/")
    assert realm["read_only"] is True
    init = (ROOT / "deploy" / "docker" / "postgres-init" / "10-service-databases.sh").read_text()
    assert "CREATE DATABASE keycloak OWNER keycloak" in init


def test_the_services_trust_keycloaks_issuer_at_the_one_address_browsers_and_services_share() -> None:
    services = compose_project(cluster=False)["services"]
    keycloak = services["keycloak"]["environment"]
    issuer = f"{keycloak['KC_HOSTNAME']}/realms/satupintu"
    realm = json.loads((ROOT / "deploy" / "keycloak" / "satupintu-realm-import.json").read_text())
    clients = {client["clientId"]: client for client in realm["clients"]}
    for service in PORTS:
        environment = services[service]
        assert environment["depends_on"]["keycloak"]["condition"] == "service_healthy"
        environment = environment["environment"]
        assert environment["AUTH_ISSUER"] == issuer
        assert environment["AUTH_JWKS_URL"] == f"{issuer}/protocol/openid-connect/certs"
        assert environment["AUTH_AUDIENCE"] == "satupintu"
        assert json.loads(environment["AUTH_ALGORITHMS"]) == ["RS256"]
        auth = AuthSettings(
            issuer=environment["AUTH_ISSUER"],
            jwks_url=environment["AUTH_JWKS_URL"],
            algorithms=json.loads(environment["AUTH_ALGORITHMS"]),
        )
        assert auth.production_problems() == []
        client_id = install_secrets.OIDC_CLIENTS.get(service)
        if client_id is None:
            assert not {name for name in environment if name.startswith("OIDC_")}, service
            continue
        assert environment["OIDC_ISSUER"] == issuer
        assert environment["OIDC_CLIENT_ID"] == client_id
        placeholder = install_secrets.client_secret_placeholder(client_id)
        assert clients[client_id]["secret"] == f"${{{placeholder}}}"
        assert services["keycloak"]["environment"][placeholder] == environment["OIDC_CLIENT_SECRET"]
        logout = clients[client_id]["attributes"]["backchannel.logout.url"]
        assert logout == f"http://{service}:{PORTS[service]}/auth/backchannel-logout", "Keycloak reaches it by name"


def test_the_desk_signs_with_the_agencies_keys_and_writes_issued_documents_to_the_volume_intake_serves() -> None:
    services = compose_project(cluster=False)["services"]
    desk, intake = services["agency"], services["intake"]
    documents = {
        service: [v for v in services[service].get("volumes", []) if v["source"] == "documents"] for service in PORTS
    }

    assert desk["environment"]["AGENCY_SIGNING_KEYS_DIR"] == "/run/secrets/agency-signing-keys"
    assert {"source": "agency-signing-keys", "target": "/run/secrets/agency-signing-keys"} in desk["secrets"]
    assert compose_project(cluster=False)["secrets"]["agency-signing-keys"]["file"].endswith("/agency-signing-keys")
    assert desk["environment"]["AGENCY_VERIFICATION_BASE_URL"] == "http://127.0.0.1:8001"
    assert "127.0.0.1:8001:8001" in [f"{p['host_ip']}:{p['published']}:{p['target']}" for p in intake["ports"]]
    assert {service for service, mounts in documents.items() if mounts} == {"intake", "agency"}
    for service in ("intake", "agency"):
        (mount,) = documents[service]
        assert mount["target"] == services[service]["environment"][f"{service.upper()}_DOCUMENTS_DIR"]
        assert not mount.get("read_only"), f"{service} writes documents"
