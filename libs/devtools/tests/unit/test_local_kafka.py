"""The local Kafka's cluster id: the storage tool takes it as an argument, so it never starts with ``-``."""

from __future__ import annotations

import base64
import uuid
from unittest import mock

import pytest

from satupintu.devtools.localstack.kafka import new_cluster_id

pytestmark = pytest.mark.unit


def test_a_cluster_id_that_would_start_with_a_dash_is_drawn_again() -> None:
    dash = uuid.UUID(bytes=b"\xf8" + bytes(15))  # base64url "-A..."
    plain = uuid.UUID(bytes=bytes(16))
    assert base64.urlsafe_b64encode(dash.bytes).decode().startswith("-")

    with mock.patch("satupintu.devtools.localstack.kafka.uuid.uuid4", side_effect=[dash, dash, plain]):
        cluster_id = new_cluster_id()

    assert cluster_id == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")
    assert len(cluster_id) == 22


def test_cluster_ids_are_random_and_never_start_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
