"""Hypothesis strategies for JSON documents a JSON Schema allows, for testing a published contract against the
service behind it."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema


def closed_objects(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects ``schema`` allows, where it is a closed object of named properties (``additionalProperties: false``):
    every required property, some optional ones, no others; each value drawn by hypothesis-jsonschema.

    The object is put together here because hypothesis-jsonschema 0.23.1's own object strategy no longer runs on
    the Hypothesis we have (``'many' object has no attribute 'more'``)."""
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise ValueError("closed_objects draws only closed objects (type object, additionalProperties false)")
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: from_schema(value) for name, value in properties.items() if name in required},
        optional={name: from_schema(value) for name, value in properties.items() if name not in required},
    )
