"""Entry point of the payment service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.clock import Clock, utc_now
from satupintu.common.commands import service_main
from satupintu.common.http import create_service_app
from satupintu.payment import handlers
from satupintu.payment.api import bills as bills_api
from satupintu.payment.api import callbacks as callbacks_api
from satupintu.payment.api import counter as counter_api
from satupintu.payment.api import install_domain_problems
from satupintu.payment.api import reconciliation as reconciliation_api
from satupintu.payment.config import PaymentSettings
from satupintu.payment.factory import PaymentContext
from satupintu.payment.migrations import SCHEMA
from satupintu.payment.web import router as staff_pages

TITLE = "Satu Pintu payment: fees billed, with billing codes and QRIS"
DESCRIPTION = (
    "Bills an application whose service has a fee on `application.submitted` (`payment.billed`), reminds before a "
    "bill expires (`payment.expiring`), expires it (`payment.expired`) and withdraws it when the application is "
    "rejected or cancelled (`payment.cancelled`). The citizen's pages read bills here. Payments are confirmed by a "
    "gateway's signed callback or a clerk at the counter (`payment.confirmed`); a payment that matches no open bill "
    "is kept for the day's reconciliation."
)


def create_app(settings: PaymentSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    """Build the payment service: the consumer that bills and withdraws bills, the expiry watch, the bills API, the
    confirmations (gateway callbacks, counter payments), reconciliation, their staff pages (the counter's bills, the
    day's reconciliation), and the outbox relay of the ``payment.*`` events."""
    settings = settings or PaymentSettings()
    context = PaymentContext.build(settings, clock)
    handlers.subscribe(context.runtime, context.billing)
    app = create_service_app(context.runtime, TITLE, DESCRIPTION, sign_in=context.sign_in)
    app.state.payment = context
    install_domain_problems(app)
    app.include_router(bills_api.router)
    app.include_router(callbacks_api.router)
    app.include_router(counter_api.router)
    app.include_router(reconciliation_api.router)
    app.include_router(staff_pages)
    return app


def main() -> None:
    """Console script ``satupintu-payment``: serves the service; ``satupintu-payment migrate`` upgrades its
    database."""
    service_main(SCHEMA, PaymentSettings, create_app)
