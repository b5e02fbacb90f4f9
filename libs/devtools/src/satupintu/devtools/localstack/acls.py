"""Applying and removing broker ACLs through Kafka's admin protocol (``CreateAcls``, ``DeleteAcls``), for the local
secured broker and its test fixture. aiokafka's admin client has no ACL methods, but aiokafka carries both requests;
the broker's jars carry no ``kafka-acls`` tool (Kafka 4 moved it to ``kafka-tools``), and one JVM per rule would be
slow besides. Each call sends every binding in one request, so the controller writes them in one go.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

from satupintu.common.kafka_acls import Acl
from satupintu.common.settings import KafkaSettings

# The protocol's codes (org.apache.kafka.common.resource.ResourceType, PatternType, acl.AclOperation and
# AclPermissionType).
_RESOURCE_TYPES = {"topic": 2, "group": 3}
_PATTERN_TYPES = {"literal": 3, "prefixed": 4}
_OPERATIONS = {"Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7, "Describe": 8}
_ANY_RESOURCE, _ANY_PATTERN, _ANY_OPERATION, _ANY_PERMISSION, _ALLOW = 1, 1, 1, 1, 3
_ANY_HOST = "*"


class AclError(RuntimeError):
    """The broker refused to create or delete a rule; the message says which and why."""


class _CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # aiokafka is untyped
    """``CreateAcls`` with many bindings (aiokafka's own ``CreateAclsRequest`` sends one)."""

    API_KEY = 30

    def __init__(self, creations: list[tuple[int, str, int, str, str, int, int]]) -> None:
        self.creations = creations

    def build(self, request_struct_class: type[Any]) -> Any:
        return request_struct_class(self.creations)


class _DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]  # aiokafka is untyped
    """``DeleteAcls`` with many filters."""

    API_KEY = 31

    def __init__(self, filters: list[tuple[int, str, int, str, None, int, int]]) -> None:
        self.filters = filters

    def build(self, request_struct_class: type[Any]) -> Any:
        return request_struct_class(self.filters)


def _bindings(rules: Iterable[Acl], prefix: str) -> list[tuple[int, str, int, str, str, int, int]]:
    """One allow binding per rule and operation, its resource name under ``prefix``."""
    return [
        (
            _RESOURCE_TYPES[rule.resource_type],
            f"{prefix}{rule.name}",
            _PATTERN_TYPES[rule.pattern_type],
            rule.principal,
            _ANY_HOST,
            _OPERATIONS[operation],
            _ALLOW,
        )
        for rule in rules
        for operation in rule.operations
    ]


async def _send(settings: KafkaSettings, request: Request) -> Any:
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=30_000, **settings.client_options()
    )
    await client.bootstrap()
    try:
        return await client.send(client.get_random_node(), request)
    finally:
        await client.close()


async def present_bindings(settings: KafkaSettings) -> set[tuple[int, str, int, str, str, int, int]]:
    """Every binding the broker's authorizer holds now (``DescribeAcls``: the broker answers from its own copy of
    the metadata, so a binding listed here is one it enforces)."""
    filter_all = DescribeAclsRequest(_ANY_RESOURCE, None, _ANY_PATTERN, None, None, _ANY_OPERATION, _ANY_PERMISSION)
    response = await _send(settings, filter_all)
    if response.error_code:
        raise AclError(f"the broker refused to describe ACLs: error {response.error_code} {response.error_message}")
    return {
        (kind, name, pattern, principal, host, operation, permission)
        for kind, name, pattern, acls in response.resources
        for principal, host, operation, permission in acls
    }


async def apply_acls(settings: KafkaSettings, rules: Iterable[Acl], within_seconds: float = 30.0) -> int:
    """Add ``rules`` (an administrator's ``settings``; names get its topic prefix, as ``apply-acls.sh`` puts
    ``KAFKA_TOPIC_PREFIX`` in front), and wait until the broker enforces them (the controller commits them first,
    the broker's authorizer follows the metadata log a moment later); the number of bindings. A binding that exists
    already is left as it is."""
    bindings = _bindings(rules, settings.topic_prefix)
    if not bindings:
        return 0
    response = await _send(settings, _CreateAcls(bindings))
    refused = [
        f"{binding[3]} {binding[1]}: error {code} {message or ''}".strip()
        for binding, (code, message) in zip(bindings, response.creation_responses, strict=True)
        if code
    ]
    if refused:
        raise AclError("the broker refused ACLs:\n" + "\n".join(refused[:20]))
    deadline = time.monotonic() + within_seconds
    while missing := set(bindings) - await present_bindings(settings):
        if time.monotonic() > deadline:
            raise AclError(f"{len(missing)} ACL bindings not in force after {within_seconds:.0f}s, e.g. {min(missing)}")
        await asyncio.sleep(0.05)
    return len(bindings)


async def remove_acls(settings: KafkaSettings, rules: Iterable[Acl], within_seconds: float = 30.0) -> int:
    """Remove every binding of each rule's principal on the rule's resource (under the settings' topic prefix), and
    wait until the broker no longer enforces them; the number removed."""
    filters = sorted(
        {
            (
                _RESOURCE_TYPES[rule.resource_type],
                f"{settings.topic_prefix}{rule.name}",
                _PATTERN_TYPES[rule.pattern_type],
                rule.principal,
                None,
                _ANY_OPERATION,
                _ANY_PERMISSION,
            )
            for rule in rules
        },
        key=str,
    )
    if not filters:
        return 0
    response = await _send(settings, _DeleteAcls(filters))
    failures = [f"error {code} {message or ''}".strip() for code, message, _ in response.filter_responses if code]
    if failures:
        raise AclError("the broker refused to delete ACLs: " + "; ".join(failures[:5]))
    removed = {(kind, name, pattern, principal) for kind, name, pattern, principal, *_ in filters}
    deadline = time.monotonic() + within_seconds
    while lingering := [binding for binding in await present_bindings(settings) if binding[:4] in removed]:
        if time.monotonic() > deadline:
            raise AclError(f"{len(lingering)} removed ACL bindings still in force after {within_seconds:.0f}s")
        await asyncio.sleep(0.05)
    return sum(len(matching) for _, _, matching in response.filter_responses)
