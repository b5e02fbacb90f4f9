"""The real payment service in the end-to-end flows: served by uvicorn on a free port (a gateway's callback comes over
real HTTP), on a clock that follows the real time until a test moves it past a bill's expiry, with a payment gateway
simulator that signs and posts callbacks as the real one (outside this machine) would. Nothing here runs another
service."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from satupintu.devtools.testing.browser import serving
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment import signatures
from satupintu.payment.config import PaymentSettings
from satupintu.payment.main import create_app
from satupintu.payment.services import ExpiryWatch

PROVIDER = "qris-sim"
SECRET = "e2e-qris-sim-callback-secret-shared-with-the-gateway"


class MovableClock:
    """The real time, shifted by what the test moved it (nothing until then)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def move_to(self, moment: datetime) -> None:
        """From now on, answer ``moment`` and onwards."""
        self.shift = moment - datetime.now(UTC)

    def reset(self) -> None:
        """Back to the real time."""
        self.shift = timedelta()


class GatewaySimulator:
    """A payment gateway as the payment service sees it: signs each callback with the secret it shares with us (HMAC
    over the timestamp and the raw body) and posts it over HTTP, as the real one (outside this machine) would. The
    payment service's own tests and the end-to-end flows both pay with it."""

    def __init__(
        self,
        base_url: str,
        clock: Callable[[], datetime],
        provider: str = PROVIDER,
        secret: str = SECRET,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=30)
        self._clock = clock
        self.provider = provider
        self._secret = secret
        self._sent = 0

    def callback(self, bill: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """The callback of a payment of ``bill`` in full now, under a new transaction id; ``overrides`` change
        fields."""
        self._sent += 1
        return {
            "transaction_id": f"TRX-{secrets.token_hex(6).upper()}-{self._sent}",
            "billing_code": bill["billing_code"],
            "amount": bill["amount"],
            "paid_at": self._clock().isoformat(),
            "issuer": "BANK SIMULASI",  # gateways send more than the service reads
            **overrides,
        }

    async def send(
        self,
        callback: dict[str, Any],
        *,
        signed_at: datetime | None = None,
        secret: str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """Sign ``callback`` (at ``signed_at``, now by default; with ``secret``, the shared one by default) and post
        it; the service's answer. A given ``signature`` replaces the right one."""
        body = json.dumps(callback).encode()
        timestamp = str(int((signed_at or self._clock()).timestamp()))
        headers = {
            "Content-Type": "application/json",
            signatures.TIMESTAMP_HEADER: timestamp,
            signatures.SIGNATURE_HEADER: signature or signatures.sign(secret or self._secret, timestamp, body),
        }
        return await self._client.post(f"/payments/callbacks/{self.provider}", content=body, headers=headers)

    async def close(self) -> None:
        await self._client.aclose()


@dataclass
class ServedPayment:
    """The payment service served over HTTP, a client to it, its clock and the gateway that pays its bills."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: MovableClock
    gateway: GatewaySimulator

    @property
    def watch(self) -> ExpiryWatch:
        """The expiry watch (the tests run it once instead of waiting for its interval)."""
        watch: ExpiryWatch = self.app.state.payment.watch
        return watch

    async def bill_of(self, application_id: str) -> dict[str, Any]:
        """The application's bill (``GET /applications/{id}/bill``), once the payment service issued it."""

        async def answer() -> httpx.Response:
            return await self.client.get(f"/applications/{application_id}/bill")

        found = await eventually(answer, lambda r: r.status_code == 200, what=f"the bill of {application_id}")
        bill: dict[str, Any] = found.json()
        return bill

    async def status(self, bill: dict[str, Any]) -> str:
        """The bill's status now (``GET /bills/{id}``)."""
        status: str = (await self.client.get(f"/bills/{bill['bill_id']}")).json()["status"]
        return status

    async def pay(self, bill: dict[str, Any]) -> dict[str, Any]:
        """Have the gateway pay ``bill`` in full; the service's confirmation (outcome ``confirmed``)."""
        answer = await self.gateway.send(self.gateway.callback(bill))
        assert answer.status_code == 200, answer.text
        confirmation: dict[str, Any] = answer.json()
        assert confirmation["outcome"] == "confirmed", confirmation
        return confirmation


@asynccontextmanager
async def serving_payment(settings: PaymentSettings) -> AsyncIterator[ServedPayment]:
    """Serve the payment service built from ``settings`` (its callback secrets replaced by the gateway's) on a free
    port, once its outbox relay runs."""
    clock = MovableClock()
    app = create_app(settings.model_copy(update={"callback_secrets": {PROVIDER: SECRET}}), clock)
    async with serving(app, "the payment service") as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await eventually(lambda: _relay_active(app), what="payment's outbox relay active")
        gateway = GatewaySimulator(base_url, clock)
        try:
            yield ServedPayment(app, client, clock, gateway)
        finally:
            await gateway.close()


async def _relay_active(app: FastAPI) -> bool:
    return bool(app.state.runtime.relay.is_active)
