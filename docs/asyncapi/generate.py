"""Regenerate ``docs/asyncapi/<service>.json`` from the code: ``make asyncapi``.

A test (tests/contract/test_asyncapi_drift.py) fails when the committed documents differ from what the code says.
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
    """The AsyncAPI document of one service, built from a fresh app (nothing is connected)."""
    from satupintu.common.asyncapi import asyncapi_document  # noqa: PLC0415

    app = importlib.import_module(f"satupintu.{service}.main").create_app()
    runtime = app.state.runtime
    return asyncapi_document(runtime.broker, service, f"Satu Pintu {service}")


def render(service: str) -> str:
    """The document as committed: pretty, sorted keys, newline at the end."""
    return json.dumps(document(service), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for name in sys.argv[1:] or SERVICES:
        (HERE / f"{name}.json").write_text(render(name))
        print(f"wrote docs/asyncapi/{name}.json")
