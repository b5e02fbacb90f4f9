"""What payment's routers read of the process: its context (``app.state.payment``)."""

from __future__ import annotations

from fastapi import Request

from satupintu.payment.factory import PaymentContext


async def payment(request: Request) -> PaymentContext:
    """The process's context, as a route dependency."""
    found: PaymentContext = request.app.state.payment
    return found
