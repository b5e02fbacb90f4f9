"""The committed OpenAPI documents (docs/openapi/) say what the code does; regenerate with `make openapi`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.unit


def _generator() -> ModuleType:
    """docs/openapi/generate.py (its name clashes with docs/asyncapi/generate.py, so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location("openapi_generate", ROOT / "docs" / "openapi" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generator()


@pytest.mark.parametrize("service", generate.SERVICES)
def test_committed_openapi_document_matches_the_code(service: str) -> None:
    committed = (ROOT / "docs" / "openapi" / f"{service}.json").read_text()
    assert committed == generate.render(service), f"docs/openapi/{service}.json is stale: run `make openapi`"


def test_a_response_change_without_regenerating_is_detected() -> None:
    committed = json.loads((ROOT / "docs" / "openapi" / "payment.json").read_text())
    committed["paths"]["/bills/{bill_id}"]["get"]["responses"].pop("404")
    stale = json.dumps(committed, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    assert stale != generate.render("payment")


@pytest.mark.parametrize("service", generate.SERVICES)
def test_every_error_answer_is_published_as_a_problem_with_its_fields(service: str) -> None:
    document = json.loads((ROOT / "docs" / "openapi" / f"{service}.json").read_text())
    schemas = document["components"]["schemas"]
    errors = {
        f"{method.upper()} {path} {status}": response.get("content", {})
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status[0] in "45" and not (path == "/readyz" and status == "503")
    }

    assert "HTTPValidationError" not in schemas
    assert errors
    assert [answer for answer, content in errors.items() if "application/problem+json" not in content] == []
    assert {str(content["application/problem+json"]["schema"]) for content in errors.values()} == {
        "{'$ref': '#/components/schemas/Problem'}"
    }
