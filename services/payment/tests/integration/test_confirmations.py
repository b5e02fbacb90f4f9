"""Confirmations from where money moves, on the real broker, database and local Keycloak, with the payment service
served over real HTTP: a gateway simulator run by the test signs and posts callbacks (a good one pays the bill and
publishes `payment.confirmed` once, the same one twice confirms once, a wrong amount, an expired or a cancelled bill
are kept unmatched and change nothing, a bad signature or a stale timestamp is refused with 401 and audited); a
clerk signed in at Keycloak records a counter payment (401, 403, 404, 409, 422 otherwise); the day's
reconciliation counts and totals what these did and lists the unmatched payments."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import serving
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.keycloak import user_token
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment.config import PaymentSettings
from satupintu.payment.domain import WIB
from satupintu.payment.main import create_app
from satupintu.payment.services import ExpiryWatch
from satupintu.payment.storage.tables import ConfirmationRecord
from tests.payment_gateway import GatewaySimulator
from tests.support import events_on, produce, record_of, submitted_event, wait_for_events

from .conftest import APPLICATIONS

pytestmark = pytest.mark.integration

ACCESS = Topic.ACCESS.name_for()
PROVIDER = "qris-sim"
SECRET = "test-qris-sim-callback-secret-of-enough-length"
SKCK_FEE, PASPOR_FEE, PBG_FEE = 30_000, 350_000, 1_500_000


@dataclass
class Served:
    """The payment service served over HTTP, with what the tests need around it."""

    app: Any
    base_url: str
    client: httpx.AsyncClient
    kafka: KafkaSettings
    clock: SettableClock
    gateway: GatewaySimulator
    tokens: dict[str, str]

    def staff(self, username: str) -> dict[str, str]:
        """The headers of a request by the local realm's ``username``."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    @property
    def watch(self) -> ExpiryWatch:
        watch: ExpiryWatch = self.app.state.payment.watch
        return watch

    async def bill(self, service_code: str) -> dict[str, Any]:
        """Submit an application of ``service_code`` as intake would; its bill once issued."""
        submitted = submitted_event(service_code, submitted_at=self.clock.now)
        await produce(self.kafka, APPLICATIONS, [record_of(submitted)])

        async def answer() -> httpx.Response:
            return await self.client.get(f"/applications/{submitted.subject}/bill")

        found = await eventually(answer, lambda r: r.status_code == 200, what=f"the bill of {submitted.subject}")
        bill: dict[str, Any] = found.json()
        return bill

    async def status(self, bill: dict[str, Any]) -> str:
        status: str = (await self.client.get(f"/bills/{bill['bill_id']}")).json()["status"]
        return status

    async def confirmed(self, bill: dict[str, Any], count: int = 1) -> list[Event[Any]]:
        """Wait for ``count`` `payment.confirmed` of the bill's application; all of them."""
        return await wait_for_events(self.kafka, APPLICATIONS, bill["application_id"], "payment.confirmed", count)

    async def all_confirmed(self, bill: dict[str, Any]) -> list[Event[Any]]:
        events = await events_on(self.kafka, APPLICATIONS, bill["application_id"])
        return [event for event in events if event.type == "payment.confirmed"]

    async def audited(self, subject_id: str, reason_start: str) -> Event[Any]:
        """Wait for a refused `access.recorded` of ``subject_id`` whose reason starts with ``reason_start``."""

        async def found() -> list[Event[Any]]:
            return [
                event
                for event in await events_on(self.kafka, ACCESS, subject_id)
                if event.payload.outcome == "denied" and (event.payload.reason or "").startswith(reason_start)
            ]

        return (await eventually(found, what=f"{reason_start} audited on {subject_id}"))[0]

    async def confirmations_of(self, reference: str) -> list[ConfirmationRecord]:
        async with self.app.state.runtime.sessions() as session:
            from sqlmodel import select  # noqa: PLC0415 (only this helper reads the table directly)

            statement = select(ConfirmationRecord).where(ConfirmationRecord.reference == reference)
            return list((await session.execute(statement)).scalars().all())

    def at(self, day: date, hour: int = 9) -> None:
        """Move the service's clock to ``hour`` o'clock WIB on ``day``."""
        self.clock.set(datetime.combine(day, time(hour), tzinfo=WIB))


def a_quiet_day() -> date:
    """A day no other test bills on (the clock is set to it), so its reconciliation counts only this test's."""
    return date(2031, 1, 1) + timedelta(days=secrets.randbelow(20_000))


@pytest.fixture(scope="module")
async def served(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    keycloak: LocalKeycloak,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Served]:
    """The payment service on topics of this module's own, verifying the local realm's tokens, with the gateway
    simulator's secret, served by uvicorn on a free port."""
    await service_database(database_settings, "payment")
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}payment-callbacks."})
    clock = SettableClock(datetime.combine(a_quiet_day(), time(9), tzinfo=WIB))
    settings = PaymentSettings(
        kafka=kafka,
        database=database_settings,
        watch_interval_seconds=3600,
        callback_secrets={PROVIDER: SECRET, "bank-sim": "another-gateway-secret-of-enough-length"},
        auth=AuthSettings(
            issuer=keycloak.issuer,
            audience="satupintu",
            jwks_url=f"{keycloak.issuer}/protocol/openid-connect/certs",
            algorithms=["RS256"],
            keys_dir=tmp_path_factory.mktemp("payment-keys"),
        ),
    )
    app = create_app(settings, clock)
    tokens = {user: user_token(keycloak, user) for user in ("clerk-mall", "auditor", "citizen")}
    async with serving(app, "the payment service") as base_url, httpx.AsyncClient(base_url=base_url) as client:
        await eventually(lambda: _relay_active(app), what="payment's outbox relay active")
        gateway = GatewaySimulator(base_url, clock, secret=SECRET)
        try:
            yield Served(app, base_url, client, kafka, clock, gateway, tokens)
        finally:
            await gateway.close()


async def _relay_active(app: Any) -> bool:
    return bool(app.state.runtime.relay.is_active)


async def test_a_signed_callback_pays_the_bill_once_even_when_the_gateway_sends_it_twice(served: Served) -> None:
    bill = await served.bill("skck")
    callback = served.gateway.callback(bill)

    first = await served.gateway.send(callback)
    second = await served.gateway.send(callback)
    (confirmed,) = await served.confirmed(bill)

    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json()
    assert (first.json()["outcome"], first.json()["reason"]) == ("confirmed", None)
    assert (confirmed.payload.amount, confirmed.payload.channel) == (SKCK_FEE, "gateway")
    assert confirmed.payload.reference == callback["transaction_id"]
    assert confirmed.payload.paid_at == datetime.fromisoformat(callback["paid_at"])
    assert confirmed.actor == "service:payment"
    assert await served.status(bill) == "paid"
    assert len(await served.confirmations_of(callback["transaction_id"])) == 1
    later = await served.bill("skck")  # published after the second callback: once it is billed, all before it is out
    await wait_for_events(served.kafka, APPLICATIONS, later["application_id"], "payment.billed")
    assert len(await served.all_confirmed(bill)) == 1


async def test_a_wrong_amount_is_kept_unmatched_and_audited_and_the_bill_stays_open(served: Served) -> None:
    bill = await served.bill("paspor")
    short = served.gateway.callback(bill, amount=PASPOR_FEE - 50_000)

    answer = await served.gateway.send(short)

    assert answer.status_code == 200, answer.text
    assert (answer.json()["outcome"], answer.json()["reason"]) == ("unmatched", "amount_mismatch")
    audited = await served.audited(bill["application_id"], "amount_mismatch")
    assert audited.payload.principal == f"gateway:{PROVIDER}"
    assert audited.payload.resource == f"payment/gateway/{PROVIDER}/{short['transaction_id']}"
    assert await served.status(bill) == "open"
    paid = served.gateway.callback(bill)  # the full amount, afterwards: the only confirmation
    assert (await served.gateway.send(paid)).json()["outcome"] == "confirmed"
    (confirmed,) = await served.confirmed(bill)
    assert confirmed.payload.reference == paid["transaction_id"]


async def test_a_bad_signature_or_a_stale_timestamp_is_refused_audited_and_changes_nothing(served: Served) -> None:
    bill = await served.bill("skck")
    forged, stale, unsigned = (served.gateway.callback(bill) for _ in range(3))

    wrong_secret = await served.gateway.send(forged, secret="not-the-shared-secret")
    too_old = await served.gateway.send(stale, signed_at=served.clock.now - timedelta(seconds=301))
    no_headers = await served.client.post(f"/payments/callbacks/{PROVIDER}", json=unsigned)

    for refused in (wrong_secret, too_old, no_headers):
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert wrong_secret.json()["type"].endswith("/callback-refused")
    subject = f"payment-callback:{PROVIDER}"
    bad = await served.audited(subject, "BadSignature")
    await served.audited(subject, "StaleTimestamp")
    await served.audited(subject, "MissingHeader")
    assert bad.payload.principal.startswith("unverified:")
    assert bill["billing_code"] not in (bad.payload.reason or "")  # who, what and why; never the body
    assert await served.status(bill) == "open"
    for callback in (forged, stale, unsigned):
        assert await served.confirmations_of(callback["transaction_id"]) == []
    paid = served.gateway.callback(bill)
    assert (await served.gateway.send(paid)).json()["outcome"] == "confirmed"
    (confirmed,) = await served.confirmed(bill)
    assert confirmed.payload.reference == paid["transaction_id"]


async def test_a_callback_from_an_unknown_provider_is_404_and_a_fractional_or_quoted_amount_is_422(
    served: Served,
) -> None:
    bill = await served.bill("skck")
    unknown = GatewaySimulator(served.base_url, served.clock, provider="nobody", secret=SECRET)
    try:
        not_found = await unknown.send(served.gateway.callback(bill))
    finally:
        await unknown.close()

    fraction = await served.gateway.send(served.gateway.callback(bill, amount=30000.0))
    quoted = await served.gateway.send(served.gateway.callback(bill, amount="30000"))
    naive = await served.gateway.send(served.gateway.callback(bill, paid_at="2031-01-01T09:00:00"))

    assert not_found.status_code == 404
    for invalid, field in ((fraction, "amount"), (quoted, "amount"), (naive, "paid_at")):
        assert invalid.status_code == 422, invalid.text
        assert invalid.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in invalid.json()["errors"]] == [field]
    assert await served.status(bill) == "open"


async def test_a_callback_for_an_expired_or_cancelled_bill_is_kept_and_changes_nothing(served: Served) -> None:
    expiring = await served.bill("skck")
    withdrawn = await served.bill("skck")
    rejected = Event(
        payload=_rejection(withdrawn["application_id"], served.clock.now),
        source="/satupintu/routing",
        subject=withdrawn["application_id"],
        actor="service:routing",
    )
    await produce(served.kafka, APPLICATIONS, [record_of(rejected)])
    await wait_for_events(served.kafka, APPLICATIONS, withdrawn["application_id"], "payment.cancelled")
    after_cancel = await served.gateway.send(served.gateway.callback(withdrawn))
    start = served.clock.now
    try:
        served.clock.set(datetime.fromisoformat(expiring["expires_at"]) + timedelta(minutes=1))
        await served.watch.check_once()
        await wait_for_events(served.kafka, APPLICATIONS, expiring["application_id"], "payment.expired")
        late = await served.gateway.send(served.gateway.callback(expiring))
    finally:
        served.clock.set(start)

    assert (late.json()["outcome"], late.json()["reason"]) == ("unmatched", "bill_expired")
    assert (after_cancel.json()["outcome"], after_cancel.json()["reason"]) == ("unmatched", "bill_cancelled")
    assert await served.status(expiring) == "expired"
    assert await served.status(withdrawn) == "cancelled"
    await served.audited(withdrawn["application_id"], "bill_cancelled")
    assert await served.all_confirmed(expiring) == []
    assert await served.all_confirmed(withdrawn) == []


def _rejection(application_id: str, at: datetime) -> Any:
    from satupintu.contract.applications import ApplicationRejected  # noqa: PLC0415

    return ApplicationRejected(
        application_id=application_id, agency="polres", task_id="task-1", reason="Berkas tidak lengkap.", rejected_at=at
    )


async def test_a_clerk_records_a_counter_payment_once_per_receipt(served: Served) -> None:
    bill = await served.bill("paspor")
    other = await served.bill("paspor")
    path = f"/bills/{bill['bill_id']}/counter-payments"
    receipt = f"KW-{secrets.randbelow(10**9)}"
    payment = {"receipt_number": receipt, "method": "cash", "amount": PASPOR_FEE}

    anonymous = await served.client.post(path, json=payment)
    auditor = await served.client.post(path, json=payment, headers=served.staff("auditor"))
    wrong_amount = await served.client.post(
        path, json={**payment, "amount": PASPOR_FEE + 1}, headers=served.staff("clerk-mall")
    )
    no_receipt = await served.client.post(
        path, json={"method": "card", "amount": PASPOR_FEE}, headers=served.staff("clerk-mall")
    )
    recorded = await served.client.post(path, json=payment, headers=served.staff("clerk-mall"))
    again = await served.client.post(path, json=payment, headers=served.staff("clerk-mall"))
    reused = await served.client.post(
        f"/bills/{other['bill_id']}/counter-payments", json=payment, headers=served.staff("clerk-mall")
    )
    paid_already = await served.client.post(
        path, json={**payment, "receipt_number": f"{receipt}-2"}, headers=served.staff("clerk-mall")
    )
    unknown = await served.client.post(
        "/bills/no-such-bill/counter-payments", json=payment, headers=served.staff("clerk-mall")
    )
    (confirmed,) = await served.confirmed(bill)

    assert anonymous.status_code == 401
    assert auditor.status_code == 403
    assert wrong_amount.status_code == 422
    assert [error["field"] for error in wrong_amount.json()["errors"]] == ["amount"]
    assert no_receipt.status_code == 422
    assert [error["field"] for error in no_receipt.json()["errors"]] == ["receipt_number"]
    assert recorded.status_code == 201, recorded.text
    assert again.status_code == 200
    assert again.json() == recorded.json()
    assert (recorded.json()["outcome"], recorded.json()["method"], recorded.json()["source"]) == (
        "confirmed",
        "cash",
        "dpmptsp",
    )
    assert reused.status_code == 409
    assert paid_already.status_code == 409
    assert paid_already.headers["content-type"] == "application/problem+json"
    assert unknown.status_code == 404
    assert (confirmed.payload.channel, confirmed.payload.reference) == ("counter", receipt)
    assert confirmed.actor == "officer:dpmptsp:clerk-mall"
    assert await served.status(bill) == "paid"
    assert await served.status(other) == "open"
    later = await served.bill("skck")  # once this is billed, whatever the refused requests published is out too
    await wait_for_events(served.kafka, APPLICATIONS, later["application_id"], "payment.billed")
    assert len(await served.all_confirmed(bill)) == 1
    assert await served.all_confirmed(other) == []


async def test_the_days_reconciliation_counts_what_happened_and_lists_the_unmatched_payments(served: Served) -> None:
    day = a_quiet_day()
    served.at(day)
    skck, paspor, pbg, withdrawn = (
        await served.bill("skck"),
        await served.bill("paspor"),
        await served.bill("pbg"),
        await served.bill("skck"),
    )
    paid_by_gateway = served.gateway.callback(skck)
    await served.gateway.send(paid_by_gateway)
    await served.gateway.send(paid_by_gateway)  # the gateway's retry: counted once
    await served.client.post(
        f"/bills/{paspor['bill_id']}/counter-payments",
        json={"receipt_number": f"KW-{secrets.randbelow(10**9)}", "method": "card", "amount": PASPOR_FEE},
        headers=served.staff("clerk-mall"),
    )
    short = served.gateway.callback(pbg, amount=PBG_FEE - 500_000)
    await served.gateway.send(short)
    twice = served.gateway.callback(skck)  # a second payment of a paid bill: money to refund
    await served.gateway.send(twice)
    unknown = served.gateway.callback(skck, billing_code="899" + "0" * 12, amount=12_345)
    await served.gateway.send(unknown)
    await produce(
        served.kafka,
        APPLICATIONS,
        [
            record_of(
                Event(
                    payload=_rejection(withdrawn["application_id"], served.clock.now),
                    source="/satupintu/routing",
                    subject=withdrawn["application_id"],
                    actor="service:routing",
                )
            )
        ],
    )
    await wait_for_events(served.kafka, APPLICATIONS, withdrawn["application_id"], "payment.cancelled")

    forbidden = await served.client.get(
        "/reconciliation", params={"day": day.isoformat()}, headers=served.staff("citizen")
    )
    anonymous = await served.client.get("/reconciliation", params={"day": day.isoformat()})
    answer = await served.client.get(
        "/reconciliation", params={"day": day.isoformat()}, headers=served.staff("auditor")
    )
    as_clerk = await served.client.get(
        "/reconciliation", params={"day": day.isoformat()}, headers=served.staff("clerk-mall")
    )
    print(json.dumps(answer.json(), indent=2))  # the closing note's reconciliation output (pytest -s)

    assert (forbidden.status_code, anonymous.status_code, as_clerk.status_code) == (403, 401, 200)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["day"] == day.isoformat()
    assert report["issued"] == {"count": 4, "amount": 2 * SKCK_FEE + PASPOR_FEE + PBG_FEE}
    assert report["paid"] == {
        "count": 2,
        "amount": SKCK_FEE + PASPOR_FEE,
        "by_channel": {"gateway": {"count": 1, "amount": SKCK_FEE}, "counter": {"count": 1, "amount": PASPOR_FEE}},
    }
    assert report["cancelled"] == {"count": 1, "amount": SKCK_FEE}
    assert report["expired"] == {"count": 0, "amount": 0}
    by_fee = {(row["agency"], row["kind"]): row for row in report["by_fee"]}
    assert by_fee[("polres", "pnbp")]["issued"] == {"count": 2, "amount": 2 * SKCK_FEE}
    assert by_fee[("polres", "pnbp")]["paid"] == {"count": 1, "amount": SKCK_FEE}
    assert by_fee[("imigrasi", "pnbp")]["paid"] == {"count": 1, "amount": PASPOR_FEE}
    assert by_fee[(pbg["agency"], "retribusi")]["issued"] == {"count": 1, "amount": PBG_FEE}
    assert by_fee[(pbg["agency"], "retribusi")]["paid"] == {"count": 0, "amount": 0}
    unmatched = {row["transaction_id"]: row for row in report["unmatched"]["confirmations"]}
    assert report["unmatched"]["count"] == 3
    assert report["unmatched"]["amount"] == PBG_FEE - 500_000 + SKCK_FEE + 12_345
    assert {key: row["reason"] for key, row in unmatched.items()} == {
        short["transaction_id"]: "amount_mismatch",
        twice["transaction_id"]: "already_paid",
        unknown["transaction_id"]: "unknown_billing_code",
    }
    assert unmatched[short["transaction_id"]] | {"paid_at": None, "recorded_at": None} == {
        "channel": "gateway",
        "provider": PROVIDER,
        "transaction_id": short["transaction_id"],
        "billing_code": pbg["billing_code"],
        "amount": PBG_FEE - 500_000,
        "reason": "amount_mismatch",
        "paid_at": None,
        "recorded_at": None,
    }
