"""The committed Strimzi topics and users (deploy/k8s/base/kafka/) are what the generator makes from the code."""

from __future__ import annotations

import pytest

from satupintu.common.catalogue import load_catalogue
from tests.deploy.support import tool

pytestmark = pytest.mark.unit
generator = tool("generate_k8s_kafka")


def test_committed_kafka_resources_match_the_generator() -> None:
    for path, content in generator.rendered_files(load_catalogue().agency_codes()).items():
        assert path.read_text() == content, (
            f"{path.name} is stale: run `uv run python deploy/tools/generate_k8s_kafka.py`"
        )
    assert generator.main(["--check"]) == 0


def test_a_new_agency_would_change_the_generated_resources() -> None:
    codes = load_catalogue().agency_codes()
    before = generator.rendered_files(codes)
    after = generator.rendered_files({*codes, "bapenda"})
    assert all(before[path] != after[path] for path in before)
    assert "agency.bapenda.tasks.dlq" in next(text for path, text in after.items() if path.name == "topics.yaml")
    assert "name: agency-bapenda" in next(text for path, text in after.items() if path.name == "users.yaml")
