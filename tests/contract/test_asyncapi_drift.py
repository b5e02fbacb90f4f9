"""The committed AsyncAPI documents (docs/asyncapi/) say what the code does; regenerate with `make asyncapi`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "asyncapi"))

import generate  # noqa: E402

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("service", generate.SERVICES)
def test_committed_asyncapi_document_matches_the_code(service: str) -> None:
    committed = (ROOT / "docs" / "asyncapi" / f"{service}.json").read_text()
    assert committed == generate.render(service), f"docs/asyncapi/{service}.json is stale: run `make asyncapi`"


def test_a_schema_change_without_regenerating_is_detected() -> None:
    committed = json.loads((ROOT / "docs" / "asyncapi" / "intake.json").read_text())
    schemas = committed["components"]["schemas"]
    name = next(key for key in schemas if key.endswith("ApplicationSubmitted"))
    schemas[name]["properties"].pop("tracking_code")
    stale = json.dumps(committed, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    assert stale != generate.render("intake")
