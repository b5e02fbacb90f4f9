"""The outside parties of the notification bench, in a process of their own: an SMTP sink (aiosmtpd) and an HTTP
sink standing in for the SMS gateway, each accepting everything and counting what arrived and when.

``python -m bench.sinks --smtp-port P --http-port Q``; ``GET /stats`` on the HTTP port answers the counts and the
times (Unix seconds) of the first and last message on each, ``POST /reset`` forgets them.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Tally:
    """How many messages arrived, and when the first and the last did."""

    count: int = 0
    first: float = 0.0
    last: float = 0.0

    def add(self) -> None:
        """Count one message, now."""
        now = time.time()
        if self.count == 0:
            self.first = now
        self.count += 1
        self.last = now

    def summary(self) -> dict[str, float]:
        """The tally as JSON."""
        return {"count": self.count, "first": self.first, "last": self.last}


SMTP = Tally()
HTTP = Tally()


class CountingHandler:
    """Accepts every e-mail and counts it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        """Accept the message."""
        SMTP.add()
        return "250 OK"


async def receive(request: Request) -> Response:
    """Accept a gateway request and count it."""
    await request.body()
    HTTP.add()
    return JSONResponse({"status": "queued"})


async def stats(request: Request) -> Response:
    """The tallies."""
    return JSONResponse({"smtp": SMTP.summary(), "http": HTTP.summary()})


async def reset(request: Request) -> Response:
    """Forget the tallies."""
    for tally in (SMTP, HTTP):
        tally.count, tally.first, tally.last = 0, 0.0, 0.0
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/messages", receive, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]
)


def main() -> None:
    """Run both sinks until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    options = parser.parse_args()
    controller = Controller(CountingHandler(), hostname="127.0.0.1", port=options.smtp_port)
    controller.start()
    try:
        uvicorn.run(app, host="127.0.0.1", port=options.http_port, log_level="warning", access_log=False)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
