"""Entry point of the payment service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app
from satupintu.payment import handlers
from satupintu.payment.api import bills as bills_api
from satupintu.payment.config import PaymentSettings
from satupintu.payment.factory import PaymentContext
from satupintu.payment.migrations import SCHEMA

TITLE = "Satu Pintu payment: fees billed, with billing codes and QRIS"
DESCRIPTION = (
    "Bills an application whose service has a fee on `application.submitted` (`payment.billed`), reminds before a "
    "bill expires (`payment.expiring`), expires it (`payment.expired`) and withdraws it when the application is "
    "rejected or cancelled (`payment.cancelled`). The citizen's pages read bills here."
)


def create_app(settings: PaymentSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the payment service: the consumer that bills and withdraws bills, the expiry watch, the bills API, and
    the outbox relay of the ``payment.*`` events."""
    settings = settings or PaymentSettings()
    context = PaymentContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.billing)
    app = create_service_app(context.runtime, TITLE, DESCRIPTION, sign_in=context.sign_in)
    app.state.payment = context
    app.include_router(bills_api.router)
    return app


def main() -> None:
    """Console script ``satupintu-payment``: serves the service; ``satupintu-payment migrate`` upgrades its
    database."""
    service_main(SCHEMA, PaymentSettings, create_app)
