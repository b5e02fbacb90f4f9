"""A fee paid through the real payment service, end to end on the real broker and database: intake takes an SKCK,
the payment service bills it (its QRIS code decoded by zxing-cpp, its CRC checked), routing holds the application
until a gateway's signed callback (sent over HTTP by a simulator in the test) pays it, then the police decide at
the desk and the SKCK is issued. A duplicate callback confirms once; a wrong amount or a bad signature changes
nothing and is audited; an unpaid bill's expiry cancels the application and a late payment is kept unmatched; the
day's reconciliation lists what these flows did.

The tests share one payment service (and its database) for the module and run in order: the last one reconciles
the days the others paid, expired and refused on."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import text

from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.keycloak import user_token
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.payment import qris
from satupintu.payment.config import PaymentSettings
from satupintu.payment.domain import WIB
from tests.conftest import running
from tests.payment_gateway import PROVIDER, ServedPayment, serving_payment
from tests.support import events_on, skck_application, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")
SKCK_FEE = 30_000
OUTPUTS = {"skck_number": "S-1", "criminal_record": "Tidak ada catatan kepolisian", "purpose": "Melamar pekerjaan"}


@dataclass
class Ledger:
    """What this module's flows did at the payment service, for the reconciliation at its end: the bills by
    billing code with what became of them, and the payments that matched no bill by transaction id."""

    bills: dict[str, dict[str, Any]] = field(default_factory=dict)
    unmatched: dict[str, dict[str, Any]] = field(default_factory=dict)

    def billed(self, bill: dict[str, Any]) -> None:
        self.bills[bill["billing_code"]] = dict(bill)

    def settled(self, bill: dict[str, Any], status: str, at: datetime) -> None:
        self.bills[bill["billing_code"]] |= {"status": status, "settled_at": at}


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture(scope="module")
async def payment(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    keycloak: LocalKeycloak,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ServedPayment]:
    """The payment service of this module, verifying the local Keycloak's tokens (for reconciliation); its expiry
    watch runs when a test runs it."""
    await service_database(database_settings, "payment")
    settings = PaymentSettings(
        kafka=kafka_settings,
        database=database_settings,
        watch_interval_seconds=3600,
        auth=AuthSettings(
            issuer=keycloak.issuer,
            audience="satupintu",
            jwks_url=f"{keycloak.issuer}/protocol/openid-connect/certs",
            algorithms=["RS256"],
            keys_dir=tmp_path_factory.mktemp("payment-keys"),
        ),
    )
    async with serving_payment(settings) as served:
        yield served


@pytest.fixture
async def intake(
    make_settings: Callable[..., Any], auth_settings: AuthSettings, documents_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Intake, storing documents where the desk reads them; a client to it."""
    settings = await make_settings(IntakeSettings, "intake", auth=auth_settings, documents_dir=documents_dir)
    async with running(create_intake(settings)) as client:
        yield client


async def submit_skck(intake: httpx.AsyncClient) -> tuple[str, str]:
    """A citizen's SKCK application at intake; its application id and tracking code."""
    answer = await intake.post("/applications", json=await skck_application(intake))
    assert answer.status_code == 202, answer.text
    return answer.json()["application_id"], answer.json()["tracking_code"]


async def tracked(intake: httpx.AsyncClient, tracking_code: str) -> dict[str, Any]:
    """The application as intake's tracking API shows it."""
    answer = await intake.get(f"/applications/{tracking_code}")
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


async def tracked_until(intake: httpx.AsyncClient, tracking_code: str, done: Callable[[Any], bool], what: str) -> Any:
    """Poll intake's tracking API until ``done`` holds; the application's status then."""
    return await eventually(lambda: tracked(intake, tracking_code), done, what=what)


def decoded(png: bytes) -> str:
    """The one QR code zxing-cpp reads in ``png``."""
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    payload: str = code.text
    return payload


async def police_tasks(kafka: KafkaSettings, application_id: str) -> list[Any]:
    """The ``task.assigned`` events of the application on the police's tasks topic now."""
    return [event for event in await events_on(kafka, POLRES_TASKS, application_id) if event.type == "task.assigned"]


async def confirmations(kafka: KafkaSettings, application_id: str) -> list[Any]:
    """The ``payment.confirmed`` events of the application on ``applications`` now."""
    events = await events_on(kafka, APPLICATIONS, application_id)
    return [event for event in events if event.type == "payment.confirmed"]


async def audited_access(audit: FastAPI, subject: str) -> list[dict[str, Any]]:
    """The ``access.recorded`` entries of ``subject`` in the audit log, their payloads."""
    async with audit.state.runtime.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM audit_log WHERE subject = :subject AND type = 'access.recorded' ORDER BY seq"),
            {"subject": subject},
        )
        return [row.payload for row in rows]


async def approve(desk: Any, kafka: KafkaSettings, application_id: str) -> None:
    """The police officer claims and approves the application's task at the desk."""
    officer = desk.token("polres", "rina")
    [assignment] = await wait_for_events(kafka, POLRES_TASKS, application_id, "task.assigned")
    task_id = assignment.payload.task_id
    await desk.wait_for_task(officer, task_id)
    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    assert claimed.status_code == 200, claimed.text
    decided = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved", "outputs": OUTPUTS}
    )
    assert decided.status_code == 202, decided.text


def test_the_crc_routine_gives_the_standard_check_value() -> None:
    assert qris.crc16_ccitt_false(b"123456789") == 0x29B1


async def test_a_paid_skck_waits_for_its_fee_then_is_decided_and_issued(
    payment: ServedPayment,
    intake: httpx.AsyncClient,
    desk: Any,
    routing: None,
    ledger: Ledger,
    *,
    kafka_settings: KafkaSettings,
) -> None:
    application_id, tracking_code = await submit_skck(intake)
    bill = await payment.bill_of(application_id)
    ledger.billed(bill)
    png = await payment.client.get(bill["qris_png"])
    payload = decoded(png.content)
    tags = qris.parse(payload)  # raises unless the CRC in tag 63 matches the rest
    crc = qris.crc16_ccitt_false(payload[:-4].encode("ascii"))
    print(f"QRIS payload of bill {bill['billing_code']}: {payload}")  # -s: the closing note quotes it
    print(f"its CRC-16/CCITT-FALSE: tag 63 = {tags['63']}, recomputed 0x{crc:04X}")
    unpaid = await tracked_until(
        intake, tracking_code, lambda status: status["bill"] is not None, "intake shows the bill"
    )
    assert not await police_tasks(kafka_settings, application_id)  # routing holds it until it is paid

    confirmation = await payment.pay(bill)
    [confirmed] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "payment.confirmed")
    ledger.settled(bill, "paid", datetime.fromisoformat(confirmation["paid_at"]))
    await approve(desk, kafka_settings, application_id)
    [issued] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "document.issued")
    done = await tracked_until(
        intake,
        tracking_code,
        lambda status: status["bill"]["status"] == "paid" and status["status"] == "completed" and status["documents"],
        "intake shows the bill paid and the document issued",
    )

    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert payload == bill["qris"]
    assert (bill["amount"], bill["kind"], bill["agency"], bill["status"]) == (SKCK_FEE, "pnbp", "polres", "open")
    assert (tags["00"], tags["01"], tags["53"], tags["58"]) == (qris.PAYLOAD_FORMAT, qris.DYNAMIC, qris.RUPIAH, "ID")
    assert tags["54"] == "30000"
    assert tags["62"] == {"01": bill["billing_code"]}
    assert tags["63"] == f"{crc:04X}" == payload[-4:]
    assert (unpaid["bill"]["status"], unpaid["bill"]["billing_code"]) == ("awaiting_payment", bill["billing_code"])
    assert (confirmed.payload.bill_id, confirmed.payload.amount) == (bill["bill_id"], SKCK_FEE)
    assert (confirmed.payload.channel, confirmed.payload.reference) == ("gateway", confirmation["reference"])
    assert confirmed.actor == "service:payment"
    assert issued.payload.agency == "polres"
    assert done["bill"]["reference"] == confirmation["reference"]
    assert done["bill"]["qris_png"] is None
    assert [document["number"] for document in done["documents"]] == [issued.payload.number]
    assert await payment.status(bill) == "paid"


async def test_a_duplicate_callback_confirms_once_and_a_wrong_amount_or_bad_signature_changes_nothing_audited(
    payment: ServedPayment,
    intake: httpx.AsyncClient,
    routing: None,
    ledger: Ledger,
    *,
    make_settings: Callable[..., Any],
    kafka_settings: KafkaSettings,
) -> None:
    audit = create_audit(await make_settings(AuditSettings, "audit"))
    async with running(audit):
        twice_id, _ = await submit_skck(intake)
        short_id, short_code = await submit_skck(intake)
        twice, short = await payment.bill_of(twice_id), await payment.bill_of(short_id)
        ledger.billed(twice)
        ledger.billed(short)

        callback = payment.gateway.callback(twice)
        first = await payment.gateway.send(callback)
        again = await payment.gateway.send(callback)
        wrong_amount = payment.gateway.callback(short, amount=SKCK_FEE - 5_000)
        unmatched = await payment.gateway.send(wrong_amount)
        forged = await payment.gateway.send(payment.gateway.callback(short), secret="not-the-shared-secret-at-all")
        await wait_for_events(kafka_settings, POLRES_TASKS, twice_id, "task.assigned")
        still_open = await payment.status(short)
        tasks_before_paid = await police_tasks(kafka_settings, short_id)
        tracked_before_paid = await tracked(intake, short_code)

        # Paid in full afterwards: the one confirmation, published after all of the above (one outbox, in order).
        paid = await payment.pay(short)
        await wait_for_events(kafka_settings, POLRES_TASKS, short_id, "task.assigned")
        refused_audited = await eventually(
            lambda: audited_access(audit, f"payment-callback:{PROVIDER}"), what="the refused callback audited"
        )
        unmatched_audited = await eventually(
            lambda: audited_access(audit, short_id), what="the unmatched payment audited"
        )
    ledger.settled(twice, "paid", datetime.fromisoformat(first.json()["paid_at"]))
    ledger.settled(short, "paid", datetime.fromisoformat(paid["paid_at"]))
    ledger.unmatched[wrong_amount["transaction_id"]] = wrong_amount | {"reason": "amount_mismatch"}

    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    assert (first.json()["outcome"], first.json()["reason"]) == ("confirmed", None)
    assert len(await confirmations(kafka_settings, twice_id)) == 1
    assert len(await police_tasks(kafka_settings, twice_id)) == 1
    assert unmatched.status_code == 200, unmatched.text
    assert (unmatched.json()["outcome"], unmatched.json()["reason"]) == ("unmatched", "amount_mismatch")
    assert forged.status_code == 401, forged.text
    assert forged.headers["content-type"] == "application/problem+json"
    assert still_open == "open"
    assert tasks_before_paid == []
    assert tracked_before_paid["bill"]["status"] == "awaiting_payment"
    assert [event.payload.reference for event in await confirmations(kafka_settings, short_id)] == [paid["reference"]]
    assert len(await police_tasks(kafka_settings, short_id)) == 1
    [refused] = refused_audited
    assert refused["outcome"] == "denied"
    assert refused["reason"].startswith("BadSignature")
    assert short["billing_code"] not in json.dumps(refused)  # who, what and why; never the body
    [kept] = unmatched_audited
    assert (kept["principal"], kept["outcome"]) == (f"gateway:{PROVIDER}", "denied")
    assert kept["resource"] == f"payment/gateway/{PROVIDER}/{wrong_amount['transaction_id']}"
    assert kept["reason"].startswith("amount_mismatch")


async def test_an_unpaid_bill_expires_and_cancels_the_application_and_a_late_payment_changes_nothing(
    payment: ServedPayment,
    intake: httpx.AsyncClient,
    routing: None,
    ledger: Ledger,
    *,
    kafka_settings: KafkaSettings,
) -> None:
    application_id, tracking_code = await submit_skck(intake)
    bill = await payment.bill_of(application_id)
    ledger.billed(bill)
    past_expiry = datetime.fromisoformat(bill["expires_at"]) + timedelta(minutes=1)
    try:
        payment.clock.move_to(past_expiry)
        await payment.watch.check_once()
        [expired] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "payment.expired")
        [cancelled] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.cancelled")
        late_callback = payment.gateway.callback(bill)
        late = await payment.gateway.send(late_callback)
        status = await payment.status(bill)
    finally:
        payment.clock.reset()
    ledger.settled(bill, "expired", past_expiry)
    ledger.unmatched[late_callback["transaction_id"]] = late_callback | {"reason": "bill_expired"}
    shown = await tracked_until(
        intake, tracking_code, lambda status: status["status"] == "cancelled", "intake shows the cancellation"
    )

    assert expired.payload.bill_id == bill["bill_id"]
    assert cancelled.actor == "service:routing"
    assert late.status_code == 200, late.text
    assert (late.json()["outcome"], late.json()["reason"]) == ("unmatched", "bill_expired")
    assert status == "expired"
    assert shown["bill"]["status"] == "expired"
    assert await confirmations(kafka_settings, application_id) == []
    assert await police_tasks(kafka_settings, application_id) == []


async def test_the_reconciliation_lists_the_bills_issued_paid_and_expired_and_the_unmatched_payments(
    payment: ServedPayment, ledger: Ledger, *, keycloak: LocalKeycloak
) -> None:
    statuses = {bill["status"] for bill in ledger.bills.values()}
    assert {"paid", "expired"} <= statuses, "run the whole module: this test reconciles the flows above"
    assert ledger.unmatched, "run the whole module: this test reconciles the flows above"
    auditor = {"Authorization": f"Bearer {user_token(keycloak, 'auditor')}"}
    citizen = {"Authorization": f"Bearer {user_token(keycloak, 'citizen')}"}

    def day_of(moment: datetime | str) -> date:
        return (datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(WIB).date()

    days = sorted(
        {day_of(bill["billed_at"]) for bill in ledger.bills.values()}
        | {day_of(bill["settled_at"]) for bill in ledger.bills.values()}
    )
    reports = {}
    for day in days:
        answer = await payment.client.get("/reconciliation", params={"day": day.isoformat()}, headers=auditor)
        assert answer.status_code == 200, answer.text
        reports[day] = answer.json()
        print(f"reconciliation of {day}:\n{json.dumps(reports[day], indent=2)}")  # -s: the closing note quotes it
    refused = await payment.client.get("/reconciliation", headers=citizen)
    anonymous = await payment.client.get("/reconciliation")

    assert (refused.status_code, anonymous.status_code) == (403, 401)
    for day, report in reports.items():
        # The module's payment database is its own: every bill it counts is one of these flows'.
        issued = [bill for bill in ledger.bills.values() if day_of(bill["billed_at"]) == day]
        paid = [b for b in ledger.bills.values() if b["status"] == "paid" and day_of(b["settled_at"]) == day]
        expired = [b for b in ledger.bills.values() if b["status"] == "expired" and day_of(b["settled_at"]) == day]
        assert report["issued"] == {"count": len(issued), "amount": sum(bill["amount"] for bill in issued)}
        assert (report["paid"]["count"], report["paid"]["amount"]) == (len(paid), sum(b["amount"] for b in paid))
        assert report["paid"]["by_channel"].get("gateway", {"count": 0})["count"] == len(paid)
        assert report["expired"] == {"count": len(expired), "amount": sum(bill["amount"] for bill in expired)}
        listed = {row["transaction_id"]: row for row in report["unmatched"]["confirmations"]}
        kept = {trx: row for trx, row in ledger.unmatched.items() if day_of(row["paid_at"]) == day}
        assert set(listed) == set(kept)
        for transaction_id, callback in kept.items():
            row = listed[transaction_id]
            assert (row["billing_code"], row["amount"], row["reason"]) == (
                callback["billing_code"],
                callback["amount"],
                callback["reason"],
            )
            assert (row["channel"], row["provider"]) == ("gateway", PROVIDER)
