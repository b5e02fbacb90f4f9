"""Connection settings for the operations tools' own Kafka clients (topic creation, DLQ replay), read from the same
environment variables the services use: ``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_TOPIC_PREFIX`` and, on a cluster
that needs them, ``KAFKA_SECURITY_PROTOCOL`` (``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``),
``KAFKA_SASL_MECHANISM`` (``SCRAM-SHA-512``), ``KAFKA_SASL_USERNAME``, ``KAFKA_SASL_PASSWORD`` and
``KAFKA_SSL_CAFILE`` (the cluster CA, e.g. Strimzi's ``ca.crt``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aiokafka.helpers import create_ssl_context

PROTOCOLS = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}


def security_options(environment: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client (producer, consumer or admin) from ``environment``."""
    environment = os.environ if environment is None else environment
    protocol = environment.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL must be one of {sorted(PROTOCOLS)}, not {protocol!r}")
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.endswith("SSL"):
        options["ssl_context"] = create_ssl_context(cafile=environment.get("KAFKA_SSL_CAFILE") or None)
    if protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": environment.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            "sasl_plain_username": environment["KAFKA_SASL_USERNAME"],
            "sasl_plain_password": environment["KAFKA_SASL_PASSWORD"],
        }
    return options
