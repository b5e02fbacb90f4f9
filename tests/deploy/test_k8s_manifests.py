"""The Kubernetes manifests render with kustomize and pass the offline validation against the schemas kept in
deploy/schemas/ (Kubernetes, Strimzi and Keycloak's operator), and a broken manifest does not."""

from __future__ import annotations

import importlib
import json
import re
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from satupintu.agency_sdk import consumer_group
from satupintu.common import install_secrets
from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import AuthSettings
from satupintu.contract.topics import KeyTopic, Topic, all_topic_names, dead_letter_topic, key_topic_names
from satupintu.intake.config import IntakeSettings
from satupintu.intake.uploads import UploadLimits
from tests.deploy.support import DEPLOY, INSTALL_WAIT, PORTS, known_environment, tool

# kustomize (where kubectl is missing) may still be building when the first check runs
pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("deploy_tools"), pytest.mark.timeout(INSTALL_WAIT + 60)]
validate_k8s = tool("validate_k8s")

KUSTOMIZATIONS = {"base": DEPLOY / "k8s" / "base", "production": DEPLOY / "k8s" / "overlays" / "production"}
MEMORY_LIMIT_MIB = 256


@cache
def validator() -> Any:
    return validate_k8s.ManifestValidator()


@cache
def rendered(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(validate_k8s.render(KUSTOMIZATIONS[name]))


def of_kind(documents: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [document for document in documents if document["kind"] == kind]


def write_kustomization(directory: Path, manifest: str) -> Path:
    (directory / "kustomization.yaml").write_text("resources:\n  - manifest.yaml\n")
    (directory / "manifest.yaml").write_text(manifest)
    return directory


GOOD_DEPLOYMENT = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: probe
    spec:
      selector:
        matchLabels: {app: probe}
      template:
        metadata:
          labels: {app: probe}
        spec:
          containers:
            - name: probe
              image: satupintu/intake:0.1.0
    """
)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomization_renders_and_every_document_validates(name: str) -> None:
    documents = rendered(name)
    problems = validator().validate(documents)
    assert not problems, "\n".join(map(str, problems))
    assert {d["kind"] for d in documents} >= {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "Keycloak",
        "KeycloakRealmImport",
    }


def test_the_validation_command_passes_on_both_kustomizations(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_k8s.main([str(path) for path in KUSTOMIZATIONS.values()]) == 0
    assert "0 problems" in capsys.readouterr().out


def test_a_well_formed_manifest_passes(tmp_path: Path) -> None:
    documents = validate_k8s.render(write_kustomization(tmp_path, GOOD_DEPLOYMENT))
    assert validator().validate(documents) == []


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        pytest.param(
            GOOD_DEPLOYMENT.replace("image: satupintu/intake:0.1.0", "imagePullPolicy: Always"),
            "needs an image",
            id="container-without-image",
        ),
        pytest.param(
            GOOD_DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnet"),
            "unknown kind apps/v1 Deploymnet",
            id="unknown-kind",
        ),
        pytest.param(
            GOOD_DEPLOYMENT.replace("apiVersion: apps/v1", "apiVersion: apps/v1beta1"),
            "unknown kind apps/v1beta1",
            id="removed-api-version",
        ),
        pytest.param(
            GOOD_DEPLOYMENT.replace("      containers:", "      containerz: []\n      containers:"),
            "'containerz' was unexpected",
            id="misspelled-field",
        ),
        pytest.param(
            GOOD_DEPLOYMENT.replace("  selector:", "  replicas: two\n  selector:"),
            "'two' is not of type 'integer'",
            id="wrong-type",
        ),
        pytest.param(
            GOOD_DEPLOYMENT.replace("labels: {app: probe}", "labels: {app: other}"),
            "selector must match",
            id="selector-mismatch",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: leaked}\nstringData: {password: hunter2}\n",
            "never kept in manifests",
            id="inline-secret",
        ),
        pytest.param(
            "apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\nmetadata:\n  name: applications\n"
            "  labels: {strimzi.io/cluster: satupintu}\nspec: {partitions: 0, replicas: 3}\n",
            "0 is less than the minimum of 1",
            id="strimzi-schema-violation",
        ),
        pytest.param(
            "apiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata:\n  name: agency-polres\n"
            "  labels: {strimzi.io/cluster: satupintu}\nspec:\n  authentication: {type: scram-sha-512}\n"
            "  authorization:\n    type: simple\n    acls:\n      - resource: {type: topic, name: applications}\n"
            "        operations: [Steal]\n",
            "'Steal' is not one of",
            id="strimzi-unknown-acl-operation",
        ),
        pytest.param(
            "apiVersion: k8s.keycloak.org/v2beta1\nkind: Keycloak\nmetadata: {name: keycloak}\n"
            "spec: {instances: two}\n",
            "'two' is not of type 'integer'",
            id="keycloak-schema-violation",
        ),
        pytest.param(
            "apiVersion: k8s.keycloak.org/v2beta1\nkind: Keycloak\nmetadata: {name: keycloak}\n---\n"
            "apiVersion: k8s.keycloak.org/v2beta1\nkind: KeycloakRealmImport\nmetadata: {name: satupintu}\n"
            "spec:\n  keycloakCRName: keycloak\n  realm: {realm: satupintu, enabeld: true}\n",
            "'enabeld' was unexpected",
            id="keycloak-realm-with-a-misspelled-field",
        ),
        pytest.param(
            "apiVersion: k8s.keycloak.org/v2beta1\nkind: KeycloakRealmImport\nmetadata: {name: satupintu}\n"
            "spec:\n  keycloakCRName: keycloak\n  realm: {realm: satupintu}\n",
            "refers to Keycloak 'keycloak', which is not rendered",
            id="realm-import-for-a-keycloak-not-rendered",
        ),
    ],
)
def test_a_broken_manifest_fails_the_validation(tmp_path: Path, broken: str, expected: str) -> None:
    kustomization = write_kustomization(tmp_path, broken)
    problems = validator().validate(validate_k8s.render(kustomization))
    assert any(expected in str(problem) for problem in problems), problems
    assert validate_k8s.main([str(kustomization)]) == 1


def test_a_reference_to_something_not_rendered_fails(tmp_path: Path) -> None:
    hpa = textwrap.dedent(
        """\
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: probe}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: missing}
          maxReplicas: 2
        """
    )
    problems = validator().validate(validate_k8s.render(write_kustomization(tmp_path, GOOD_DEPLOYMENT + hpa)))
    assert [p.message for p in problems] == ["refers to Deployment 'missing', which is not rendered"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_each_service_is_probed_bounded_protected_and_exposed(name: str) -> None:
    documents = rendered(name)
    deployments = {d["metadata"]["name"]: d for d in of_kind(documents, "Deployment")}
    assert set(deployments) == set(PORTS)
    budgets = {d["metadata"]["name"] for d in of_kind(documents, "PodDisruptionBudget")}
    services = {d["metadata"]["name"] for d in of_kind(documents, "Service")}
    for service, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[service], "protocol": "TCP"}]
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert limits["memory"] == f"{MEMORY_LIMIT_MIB}Mi"
        assert {"cpu", "memory"} <= set(requests)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["enableServiceLinks"] is False, "service links would set <SERVICE>_PORT=tcp://... in pods"
        assert service in budgets
        assert service in services


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_autoscalers_stop_at_the_partition_count(name: str) -> None:
    documents = rendered(name)
    partitions = {d["spec"]["partitions"] for d in of_kind(documents, "KafkaTopic")}
    (config,) = [d for d in of_kind(documents, "ConfigMap") if d["metadata"]["name"].startswith("satupintu-config")]
    assert partitions == {int(config["data"]["KAFKA_PARTITIONS"])}
    autoscalers = of_kind(documents, "HorizontalPodAutoscaler")
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers} == set(PORTS) - {"audit"}
    for autoscaler in autoscalers:
        assert 2 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"] <= min(partitions)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_services_are_configured_only_with_settings_they_read(name: str) -> None:
    documents = rendered(name)
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in of_kind(documents, "ConfigMap")}
    for deployment in of_kind(documents, "Deployment"):
        service = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        names = {variable["name"] for variable in container["env"]}
        for source in container["envFrom"]:
            names |= set(config_maps[source["configMapRef"]["name"]])
        assert names - known_environment(service) == set(), service


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_each_services_database_is_migrated_by_a_job_with_the_owners_secret_which_the_service_never_sees(
    name: str,
) -> None:
    documents = rendered(name)
    jobs = {d["metadata"]["name"]: d for d in of_kind(documents, "Job")}
    assert set(jobs) == {f"{service}-migrate" for service in PORTS}
    for deployment in of_kind(documents, "Deployment"):
        service = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        job = jobs[f"{service}-migrate"]
        pod = job["spec"]["template"]["spec"]
        (migrate,) = pod["containers"]
        assert migrate["image"] == container["image"]
        assert migrate["command"] == ["satupintu-service", "migrate"]
        assert pod["restartPolicy"] == "Never"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
        assert migrate["resources"]["limits"]["memory"]
        secrets = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in migrate["env"] if "valueFrom" in v}
        assert secrets["DATABASE_OWNER_URL"] == {"name": f"{service}-database-owner", "key": "url"}
        # The Job creates the very role (name and password) the service connects as.
        service_secrets = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container["env"] if "valueFrom" in v}
        assert (
            secrets["DATABASE_URL"] == service_secrets["DATABASE_URL"] == {"name": f"{service}-database", "key": "url"}
        )
        assert "DATABASE_OWNER_URL" not in service_secrets
        assert {v["name"] for v in migrate["env"]} - known_environment(service) == set(), service


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_secrets_are_referenced_by_name_never_inlined(name: str) -> None:
    documents = rendered(name)
    assert not of_kind(documents, "Secret")
    for config_map in of_kind(documents, "ConfigMap"):
        secret_like = [
            key
            for key in config_map["data"]
            if any(w in key for w in ("PASSWORD", "SECRET", "TOKEN", "ENCRYPTION_KEYS", "HASH_KEY"))
        ]
        assert secret_like == [], config_map["metadata"]["name"]
    for deployment in [*of_kind(documents, "Deployment"), *of_kind(documents, "Job")]:
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        for variable in container["env"]:
            if any(word in variable["name"] for word in ("PASSWORD", "KEY", "SECRET", "TOKEN", "URL")):
                public = variable["name"].endswith(("_PATH", "_DIR", "_BASE_URL", "_PUBLIC_URL"))
                assert "value" not in variable or public, variable


def test_every_topic_and_key_topic_and_their_dead_letter_twins_are_kafka_topics() -> None:
    topics = {d["spec"]["topicName"]: d["spec"] for d in of_kind(rendered("production"), "KafkaTopic")}
    codes = load_catalogue().agency_codes()
    key_topics = set(key_topic_names(codes))
    assert set(topics) == set(all_topic_names(codes)) | key_topics
    for name, spec in topics.items():
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        if name in key_topics and not name.endswith(".dlq"):  # a citizen's latest key (or tombstone) is kept
            assert spec["config"]["cleanup.policy"] == "compact", name
            assert "retention.ms" not in spec["config"], name
        else:
            assert spec["config"]["cleanup.policy"] == "delete", name
            assert spec["config"]["retention.ms"] > 0, name


def test_an_agency_may_read_its_tasks_and_keys_dead_letter_them_and_write_its_decisions_and_nothing_else() -> None:
    users = {d["metadata"]["name"]: d["spec"] for d in of_kind(rendered("production"), "KafkaUser")}
    for code in load_catalogue().agency_codes():
        spec = users[f"agency-{code}"]
        assert spec["authentication"] == {"type": "scram-sha-512"}
        grants = {
            (acl["resource"]["type"], acl["resource"]["name"], acl["resource"]["patternType"]): set(acl["operations"])
            for acl in spec["authorization"]["acls"]
        }
        assert grants == {
            ("topic", Topic.AGENCY_TASKS.name_for(code), "literal"): {"Describe", "Read"},
            ("topic", dead_letter_topic(Topic.AGENCY_TASKS.name_for(code)), "literal"): {"Describe", "Write"},
            ("topic", Topic.AGENCY_DECISIONS.name_for(code), "literal"): {"Describe", "Write"},
            ("group", f"satupintu.agency.{code}.", "prefix"): {"Describe", "Read"},
            ("topic", KeyTopic.AGENCY.name_for(code), "literal"): {"Describe", "Read"},
            ("topic", dead_letter_topic(KeyTopic.AGENCY.name_for(code)), "literal"): {"Describe", "Write"},
        }
        assert consumer_group(code, "worker").startswith(f"satupintu.agency.{code}."), "the SDK's group is granted"


def test_every_service_has_its_own_kafka_credential_and_the_cluster_requires_tls_and_scram() -> None:
    documents = rendered("production")
    users = {d["metadata"]["name"] for d in of_kind(documents, "KafkaUser")}
    assert users == {f"satupintu-{service}" for service in PORTS} | {"satupintu-operator"} | {
        f"agency-{code}" for code in load_catalogue().agency_codes()
    }
    (kafka,) = of_kind(documents, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    pools = of_kind(documents, "KafkaNodePool")
    assert sorted(role for pool in pools for role in pool["spec"]["roles"]) == ["broker", "controller"]


def subscriptions(service: str, keys_dir: Path) -> set[tuple[str, str]]:
    """(topic, consumer group) of every subscription ``service``'s code makes, from an app that connects nothing."""
    settings = importlib.import_module(f"satupintu.{service}.config")
    settings_class = getattr(settings, f"{service.capitalize()}Settings")
    app = importlib.import_module(f"satupintu.{service}.main").create_app(
        settings_class(auth=AuthSettings(keys_dir=keys_dir))
    )
    return {
        (topic.name, subscriber.group_id)
        for subscriber in app.state.runtime.broker.subscribers
        for topic in subscriber.topics
    }


@pytest.mark.parametrize("service", PORTS)
def test_each_services_kafka_user_may_consume_what_its_code_subscribes_to(service: str, tmp_path: Path) -> None:
    (user,) = [
        d for d in of_kind(rendered("production"), "KafkaUser") if d["metadata"]["name"] == f"satupintu-{service}"
    ]
    granted: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        assert resource["patternType"] == "literal" or resource["type"] == "group", acl
        granted.setdefault((resource["type"], resource["name"]), set()).update(acl["operations"])
    for topic, group in subscriptions(service, tmp_path):
        assert "Read" in granted.get(("topic", topic), set()), f"{service} reads {topic}"
        assert "Read" in granted.get(("group", group), set()), f"{service} consumes in {group}"
        if service != "audit" and not topic.endswith(".dlq"):  # audit appends everything and dead-letters nothing
            assert "Write" in granted.get(("topic", f"{topic}.dlq"), set()), f"{service} dead-letters {topic}"


# Settings that a service otherwise makes up as a local development key, which a pod cannot (AUTH_KEYS_DIR points
# nowhere writable): each must come from a secret, or the service stops at start-up.
LOCAL_KEY_SETTINGS = ("encryption_keys", "lookup_hash_key", "hash_key", "session_secret")


def environment_of(documents: tuple[dict[str, Any], ...], service: str) -> dict[str, dict[str, Any]]:
    """The variables ``service``'s container gets: its own ``env`` entries and those of its ConfigMaps (as values)."""
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in of_kind(documents, "ConfigMap")}
    (deployment,) = [d for d in of_kind(documents, "Deployment") if d["metadata"]["name"] == service]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    variables = {
        name: {"value": value}
        for source in container["envFrom"]
        for name, value in config_maps[source["configMapRef"]["name"]].items()
    }
    return variables | {variable["name"]: variable for variable in container["env"]}


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_key_a_service_would_make_up_locally_comes_from_a_secret(name: str) -> None:
    documents = rendered(name)
    shared = {
        (service, variable): secret.secret_name
        for secret in install_secrets.SHARED_SECRETS
        for service, variable in secret.variables.items()
    }
    for service in PORTS:
        settings = importlib.import_module(f"satupintu.{service}.config")
        fields = getattr(settings, f"{service.capitalize()}Settings").model_fields
        environment = environment_of(documents, service)
        for setting in LOCAL_KEY_SETTINGS:
            if setting in fields:
                name_of_variable = f"{service.upper()}_{setting.upper()}"
                variable = environment.get(name_of_variable)
                assert variable is not None, f"{service} {setting}"
                expected = shared.get((service, name_of_variable), f"{service}-keys")
                assert variable["valueFrom"]["secretKeyRef"]["name"] == expected, f"{service} {setting}"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_intake_and_the_desk_hold_the_same_documents_keys_from_one_secret(name: str) -> None:
    documents = rendered(name)
    for shared in install_secrets.SHARED_SECRETS:
        for service, variable in shared.variables.items():
            reference = environment_of(documents, service)[variable]["valueFrom"]["secretKeyRef"]
            assert reference == {"name": shared.secret_name, "key": shared.secret_key}, (service, variable)


def test_the_mall_in_production_knows_its_addresses_time_zone_and_the_publics_rate_limits() -> None:
    environment = {
        name: variable.get("value") for name, variable in environment_of(rendered("production"), "mall").items()
    }
    assert environment["MALL_PUBLIC_URL"].startswith("https://")
    assert environment["MALL_INTAKE_URL"].startswith("https://")
    assert environment["MALL_TIMEZONE"] == "Asia/Jakarta"
    assert environment["MALL_SECURE_COOKIES"] == "true"
    assert environment["MALL_FORWARDED_ALLOW_IPS"]
    for limit in ("KIOSK_RATE_LIMIT_PER_MINUTE", "KIOSK_RATE_LIMIT_BURST", "RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_BURST"):
        assert int(environment[f"MALL_{limit}"]) > 0, limit


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_intakes_temporary_directory_holds_every_upload_it_lets_in_at_once(name: str) -> None:
    documents = rendered(name)
    environment = {name: variable.get("value") for name, variable in environment_of(documents, "intake").items()}
    (deployment,) = [d for d in of_kind(documents, "Deployment") if d["metadata"]["name"] == "intake"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (tmp,) = [volume for volume in pod["volumes"] if volume["name"] == "tmp"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108 (the pod's, not ours)
    settings = IntakeSettings(
        max_document_bytes=int(environment["INTAKE_MAX_DOCUMENT_BYTES"]),
        max_upload_bytes_in_flight=int(environment["INTAKE_MAX_UPLOAD_BYTES_IN_FLIGHT"]),
        upload_bytes_per_client_per_hour=int(environment["INTAKE_UPLOAD_BYTES_PER_CLIENT_PER_HOUR"]),
    )
    limits = UploadLimits(settings, load_catalogue())
    limits.check(settings)  # the largest upload can come in at all

    assert mebibytes(tmp["emptyDir"]["sizeLimit"]) * 2**20 >= settings.max_upload_bytes_in_flight + 16 * 2**20
    assert mebibytes(container["resources"]["limits"]["memory"]) * 2**20 >= settings.max_upload_bytes_in_flight + (
        150 * 2**20
    )  # a service's resident memory (docs/operations.md, "Scaling") besides the uploads it holds


def mebibytes(quantity: str) -> int:
    assert quantity.endswith("Mi"), quantity
    return int(quantity.removesuffix("Mi"))


def keycloak_version() -> str:
    """The Keycloak release the local stack runs (deploy/local/keycloak/keycloak.sha256 names its archive)."""
    match = re.search(
        r"keycloak-quarkus-dist-(.+)\.tar\.gz", (DEPLOY / "local" / "keycloak" / "keycloak.sha256").read_text()
    )
    assert match
    return match.group(1)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_keycloak_runs_the_local_stacks_release_on_its_own_database_with_a_bounded_memory(name: str) -> None:
    (keycloak,) = of_kind(rendered(name), "Keycloak")
    spec = keycloak["spec"]
    assert spec["image"] == f"quay.io/keycloak/keycloak:{keycloak_version()}"
    assert spec["db"]["vendor"] == "postgres"
    assert spec["db"]["database"] == "keycloak"
    assert spec["db"]["passwordSecret"] == {"name": "keycloak-database", "key": "password"}
    assert spec["bootstrapAdmin"]["user"]["secret"] == "keycloak-bootstrap-admin"
    assert spec["resources"]["limits"]["memory"]
    assert {"name": "health-enabled", "value": "true"} in spec["additionalOptions"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_services_trust_the_issuer_the_keycloak_serves_and_its_published_keys(name: str) -> None:
    documents = rendered(name)
    (keycloak,) = of_kind(documents, "Keycloak")
    (realm_import,) = of_kind(documents, "KeycloakRealmImport")
    issuer = f"{keycloak['spec']['hostname']['hostname']}/realms/{realm_import['spec']['realm']['realm']}"
    for service in PORTS:
        environment = {key: value.get("value") for key, value in environment_of(documents, service).items()}
        assert environment["AUTH_ISSUER"] == issuer, service
        assert environment["AUTH_JWKS_URL"] == f"{issuer}/protocol/openid-connect/certs", service
        assert environment["AUTH_AUDIENCE"] == "satupintu"
        assert json.loads(environment["AUTH_ALGORITHMS"]) == ["RS256"]
        settings = AuthSettings(
            issuer=environment["AUTH_ISSUER"],
            jwks_url=environment["AUTH_JWKS_URL"],
            algorithms=json.loads(environment["AUTH_ALGORITHMS"]),
        )
        assert settings.production_problems() == []
    assert issuer.startswith("https://")


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_realm_import_holds_no_local_user_client_or_secret_and_each_services_client_takes_its_secret(
    name: str,
) -> None:
    documents = rendered(name)
    (realm_import,) = of_kind(documents, "KeycloakRealmImport")
    realm, placeholders = realm_import["spec"]["realm"], realm_import["spec"]["placeholders"]
    assert "users" not in realm
    clients = {client["clientId"]: client for client in realm["clients"]}
    assert "satupintu-cli" not in clients
    for service, client_id in install_secrets.OIDC_CLIENTS.items():
        placeholder = install_secrets.client_secret_placeholder(client_id)
        assert clients[client_id]["secret"] == f"${{{placeholder}}}"
        reference = {"name": install_secrets.OIDC_CLIENT_SECRETS, "key": client_id}
        assert placeholders[placeholder] == {"secret": reference}
        environment = environment_of(documents, service)
        assert environment["OIDC_CLIENT_ID"]["value"] == client_id
        assert environment["OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == reference
        assert environment["OIDC_ISSUER"]["value"] == environment["AUTH_ISSUER"]["value"]
    others = set(clients) - set(install_secrets.OIDC_CLIENTS.values())
    assert others, "the agency systems' clients"
    assert not [client_id for client_id in others if "secret" in clients[client_id]]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_desk_signs_with_the_agencies_secret_and_writes_issued_documents_to_the_volume_intake_serves(
    name: str,
) -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind(rendered(name), "Deployment")}
    pods = {service: deployments[service]["spec"]["template"]["spec"] for service in ("agency", "intake")}
    containers = {service: pod["containers"][0] for service, pod in pods.items()}
    desk_environment = {variable["name"]: variable.get("value") for variable in containers["agency"]["env"]}
    desk_mounts = {mount["name"]: mount for mount in containers["agency"]["volumeMounts"]}
    desk_volumes = {volume["name"]: volume for volume in pods["agency"]["volumes"]}
    (signing,) = [
        name
        for name, volume in desk_volumes.items()
        if "secret" in volume and volume["secret"]["secretName"] == install_secrets.AGENCY_SIGNING_KEYS
    ]

    assert desk_mounts[signing]["mountPath"] == desk_environment["AGENCY_SIGNING_KEYS_DIR"]
    assert desk_mounts[signing]["readOnly"] is True
    assert "items" not in desk_volumes[signing]["secret"], "the whole Secret: every issuing agency's files"
    intake_url = {v["name"]: v.get("value") for v in containers["intake"]["env"]}["OIDC_PUBLIC_URL"]
    assert desk_environment["AGENCY_VERIFICATION_BASE_URL"] == intake_url, "the QR code links to intake's /verify"
    for service, pod in pods.items():
        (claim,) = [volume for volume in pod["volumes"] if "persistentVolumeClaim" in volume]
        (mount,) = [mount for mount in pod["containers"][0]["volumeMounts"] if mount["name"] == claim["name"]]
        environment = {v["name"]: v.get("value") for v in pod["containers"][0]["env"]}
        assert claim["persistentVolumeClaim"] == {"claimName": "satupintu-documents"}, service
        assert mount["mountPath"] == environment[f"{service.upper()}_DOCUMENTS_DIR"], service
        assert not mount.get("readOnly"), f"{service} writes documents"
    (claim,) = [
        d
        for d in of_kind(rendered(name), "PersistentVolumeClaim")
        if d["metadata"]["name"].endswith("satupintu-documents")
    ]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
