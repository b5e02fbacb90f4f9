"""Offline validation of Kubernetes manifests: render a kustomization, then check every document against the
schemas kept in ``deploy/schemas/`` (Kubernetes' OpenAPI v3, the CRDs of Strimzi and of Keycloak's operator), with no
cluster and no download.

A document fails on an unknown kind (no schema for its apiVersion and kind), on any schema violation, and on an
unknown field: like ``kubectl apply``'s strict field validation, every object schema that lists its properties
accepts no others unless it says ``x-kubernetes-preserve-unknown-fields``. A few rules the API server enforces
in code rather than in the schema are checked too (:func:`server_rule_problems`), and references between the
rendered documents must resolve (:func:`reference_problems`). CEL rules (``x-kubernetes-validations``) are not
evaluated.

Usage: ``uv run python deploy/tools/validate_k8s.py deploy/k8s/base deploy/k8s/overlays/production``
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = REPOSITORY / "deploy" / "schemas"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
WORKLOAD_KINDS = {"Deployment", "Job"}
CUSTOM_RESOURCE_SCHEMAS = ("strimzi-*.json", "keycloak-*.json")
"""The files of custom resources' schemas (one per operator, ``{"kinds": {"group/version/Kind": schema}}``)."""


@dataclass(frozen=True)
class Problem:
    """One reason a document is refused: which document, where in it, and why."""

    document: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.document}: {self.path or '(document)'}: {self.message}"


def strict(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object that lists properties and does not
    preserve unknown fields: the API server's strict field validation, which rejects fields it does not know."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict(value) for key, value in schema.items()}
    if (
        isinstance(schema.get("properties"), dict)
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def _only_file(pattern: str, schemas_dir: Path) -> Path:
    matches = sorted(schemas_dir.glob(pattern))
    if len(matches) != 1:
        raise RuntimeError(f"expected exactly one {pattern} in {schemas_dir}, found {[m.name for m in matches]}")
    return matches[0]


class ManifestValidator:
    """Checks rendered documents against the Kubernetes, Strimzi and Keycloak schemas in ``schemas_dir``."""

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR) -> None:
        kubernetes = json.loads(_only_file("kubernetes-*.json", schemas_dir).read_text())
        custom_kinds: dict[str, Any] = {}
        for pattern in CUSTOM_RESOURCE_SCHEMAS:
            custom_kinds |= json.loads(_only_file(pattern, schemas_dir).read_text())["kinds"]
        components: dict[str, Any] = {
            name: strict(schema) for name, schema in kubernetes["components"]["schemas"].items()
        }
        self._roots: dict[str, str] = dict(kubernetes["kinds"])
        for kind_key, schema in custom_kinds.items():
            name = f"crd.{kind_key.replace('/', '.')}"
            custom = strict(schema)
            # A CRD's metadata is the API server's ObjectMeta; its schema only says "object". apiVersion and kind
            # are always accepted, whether the CRD's schema lists them (Strimzi's do, Keycloak's do not) or not.
            custom["properties"]["metadata"] = {"$ref": f"#/components/schemas/{OBJECT_META}"}
            custom["properties"].setdefault("apiVersion", {"type": "string"})
            custom["properties"].setdefault("kind", {"type": "string"})
            components[name] = custom
            self._roots[kind_key] = name
        self._components = components

    @property
    def kinds(self) -> list[str]:
        """Every ``apiVersion/kind`` this validator knows."""
        return sorted(self._roots)

    @cached_property
    def _validators(self) -> dict[str, Draft7Validator]:
        document = {"components": {"schemas": self._components}}
        return {
            kind_key: Draft7Validator({**document, "$ref": f"#/components/schemas/{root}"})
            for kind_key, root in self._roots.items()
        }

    def validate(self, documents: Iterable[dict[str, Any]]) -> list[Problem]:
        """Every problem of every document, and of the references between them."""
        documents = list(documents)
        problems: list[Problem] = []
        for document in documents:
            problems += self.document_problems(document)
        problems += reference_problems(documents)
        return problems

    def document_problems(self, document: Any) -> list[Problem]:
        """The problems of one document on its own."""
        if not isinstance(document, dict):
            return [Problem("(not a mapping)", "", f"a manifest document must be a mapping, not {document!r}")]
        label = describe(document)
        api_version, kind = document.get("apiVersion"), document.get("kind")
        if not api_version or not kind:
            return [Problem(label, "", "apiVersion and kind are required")]
        if kind == "Secret":
            return [Problem(label, "", "Secrets are never kept in manifests: create them out of band, refer by name")]
        validator = self._validators.get(f"{api_version}/{kind}")
        if validator is None:
            return [Problem(label, "", f"unknown kind {api_version} {kind}: no schema in deploy/schemas/")]
        problems = [
            Problem(label, "/".join(str(part) for part in error.absolute_path), error.message)
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        ]
        return problems + server_rule_problems(document)


def describe(document: dict[str, Any]) -> str:
    """``Kind namespace/name`` of a document, for messages."""
    metadata = document.get("metadata") or {}
    namespace = f"{metadata['namespace']}/" if isinstance(metadata, dict) and metadata.get("namespace") else ""
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    return f"{document.get('kind', '?')} {namespace}{name}"


def _containers(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    for field in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(field) or []):
            if isinstance(container, dict):
                yield f"spec/template/spec/{field}/{index}", container


def server_rule_problems(document: dict[str, Any]) -> list[Problem]:
    """Rules the API server enforces in code, not in its OpenAPI schema."""
    label, problems = describe(document), []
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem(label, "metadata/name", "a name is required"))
    elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        problems.append(Problem(label, "metadata/name", f"{name!r} is not a DNS-1123 subdomain"))
    elif document["kind"] == "Service" and (len(name) > 63 or not DNS_LABEL.match(name)):
        problems.append(Problem(label, "metadata/name", f"a Service name must be a DNS-1035 label, not {name!r}"))
    if document["kind"] in WORKLOAD_KINDS:
        for path, container in _containers(document):
            if not container.get("image"):
                problems.append(Problem(label, f"{path}/image", "a container needs an image"))
        spec = document.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        selected = document["kind"] != "Deployment" or (  # a Job's selector is generated
            selector and all(template_labels.get(key) == value for key, value in selector.items())
        )
        if not selected:
            problems.append(Problem(label, "spec/selector", "the selector must match the pod template's labels"))
    return problems


def _pod_references(document: dict[str, Any]) -> Iterator[tuple[str, str, Any, bool]]:
    """(path, kind, name, optional) of each ConfigMap and claim a workload's pods use."""
    for path, container in _containers(document):
        for index, source in enumerate(container.get("envFrom") or []):
            reference = source.get("configMapRef")
            if reference:
                yield f"{path}/envFrom/{index}", "ConfigMap", reference.get("name"), reference.get("optional", False)
        for index, variable in enumerate(container.get("env") or []):
            reference = (variable.get("valueFrom") or {}).get("configMapKeyRef")
            if reference:
                yield f"{path}/env/{index}", "ConfigMap", reference.get("name"), reference.get("optional", False)
    pod = ((document.get("spec") or {}).get("template") or {}).get("spec") or {}
    for index, volume in enumerate(pod.get("volumes") or []):
        path = f"spec/template/spec/volumes/{index}"
        if "configMap" in volume:
            yield path, "ConfigMap", volume["configMap"].get("name"), volume["configMap"].get("optional", False)
        if "persistentVolumeClaim" in volume:
            yield path, "PersistentVolumeClaim", volume["persistentVolumeClaim"].get("claimName"), False


def _references(document: dict[str, Any]) -> Iterator[tuple[str, str, Any, bool]]:
    """(path, kind, name, optional) of everything ``document`` names by kind and name."""
    kind, spec = document.get("kind"), document.get("spec") or {}
    if kind in WORKLOAD_KINDS:
        yield from _pod_references(document)
    elif kind == "HorizontalPodAutoscaler":
        target = spec.get("scaleTargetRef") or {}
        yield "spec/scaleTargetRef", target.get("kind"), target.get("name"), False
    elif str(document.get("apiVersion", "")).startswith("kafka.strimzi.io/") and kind != "Kafka":
        cluster = (document.get("metadata", {}).get("labels") or {}).get("strimzi.io/cluster")
        yield "metadata/labels/strimzi.io~1cluster", "Kafka", cluster, False
    elif kind == "KeycloakRealmImport":
        yield "spec/keycloakCRName", "Keycloak", spec.get("keycloakCRName"), False


def reference_problems(documents: list[dict[str, Any]]) -> list[Problem]:
    """References that must resolve among the rendered documents: ConfigMaps and claims a pod uses, what an
    autoscaler scales, what a Service or disruption budget selects, the Kafka cluster a Strimzi resource names and
    the Keycloak a realm import is for.
    Secrets are deliberately not checked: they are created out of band."""
    mappings = [d for d in documents if isinstance(d, dict)]
    present = {(d.get("kind"), (d.get("metadata") or {}).get("name")) for d in mappings}
    pod_labels = [
        ((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        for d in mappings
        if d.get("kind") in WORKLOAD_KINDS
    ]
    problems = [
        Problem(describe(document), path, f"refers to {kind} {name!r}, which is not rendered")
        for document in mappings
        for path, kind, name, optional in _references(document)
        if not optional and (kind, name) not in present
    ]
    for document in mappings:
        if document.get("kind") not in {"Service", "PodDisruptionBudget"}:
            continue
        selector = (document.get("spec") or {}).get("selector") or {}
        if document["kind"] == "PodDisruptionBudget":
            selector = selector.get("matchLabels") or {}
        if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in pod_labels):
            problems.append(Problem(describe(document), "spec/selector", f"selects no pods: {selector}"))
    return problems


def kustomize_command() -> list[str]:
    """``kubectl kustomize`` where kubectl is installed, else a standalone ``kustomize build``."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    raise RuntimeError("neither kubectl nor kustomize is installed: run `bash deploy/tools/install-tools.sh`")


def render(kustomization: Path) -> list[Any]:
    """The documents ``kustomization`` renders to."""
    result = subprocess.run(
        [*kustomize_command(), str(kustomization)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize failed on {kustomization}:\n{result.stderr}")
    return [document for document in yaml.safe_load_all(result.stdout) if document is not None]


def main(argv: list[str] | None = None) -> int:
    """Render and validate each kustomization given; print the problems; exit 1 if there are any."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kustomizations", nargs="+", type=Path)
    arguments = parser.parse_args(argv)
    validator, failed = ManifestValidator(), False
    for kustomization in arguments.kustomizations:
        documents = render(kustomization)
        problems = validator.validate(documents)
        for problem in problems:
            print(f"{kustomization}: {problem}")
        print(f"{kustomization}: {len(documents)} documents, {len(problems)} problems")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
