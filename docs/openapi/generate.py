"""Regenerate ``docs/openapi/<service>.json`` from the code: ``make openapi``.

A test (tests/contract/test_openapi_drift.py) fails when the committed documents differ from what the code says.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")


def document(service: str) -> dict[str, Any]:
    """The OpenAPI document of one service, built from a fresh app (nothing is connected)."""
    app = importlib.import_module(f"satupintu.{service}.main").create_app()
    found: dict[str, Any] = app.openapi()
    return found


def render(service: str) -> str:
    """The document as committed: pretty, sorted keys, newline at the end."""
    return json.dumps(document(service), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for name in sys.argv[1:] or SERVICES:
        (HERE / f"{name}.json").write_text(render(name))
        print(f"wrote docs/openapi/{name}.json")
