"""Reading a JSON request body defensively: the right media type, a bounded size and nesting, and problem+json
answers that say exactly what was wrong."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from satupintu.common.problems import Problem, documented_problems

MAX_NESTING = 16
JSON_BODY_PROBLEMS = documented_problems(
    {
        400: "The body is not valid JSON, or nests too deep (problem+json).",
        413: "The body is larger than the endpoint accepts (problem+json).",
        415: "The body is not sent as `application/json` (problem+json).",
    }
)
"""What :func:`read_json_body` may answer, for the ``responses`` of every endpoint that reads its body with it."""


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(current, dict):
            stack.extend((child, depth + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def read_json_body(request: Request, max_bytes: int, max_nesting: int = MAX_NESTING) -> tuple[bytes, Any]:
    """The request's JSON body, raw and parsed, or a :class:`Problem`: 415 not JSON, 413 too large, 400 malformed or
    too deep."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise Problem(
            415,
            "unsupported-media-type",
            f"send the body as application/json, not {media_type or 'no content type'}",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise Problem(413, "payload-too-large", f"the body is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise Problem(413, "payload-too-large", f"the body is larger than {max_bytes} bytes")
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as malformed:
        raise Problem(400, "malformed-json", f"the body is not valid JSON: {malformed}") from malformed
    if _depth(document, max_nesting) > max_nesting:
        raise Problem(400, "nesting-too-deep", f"the body nests deeper than {max_nesting} levels")
    return bytes(body), document
