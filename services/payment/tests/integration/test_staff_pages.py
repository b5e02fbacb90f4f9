"""Payment's staff pages on the real broker, database and local Keycloak: a counter clerk signs in on Keycloak's
login page, finds a bill by its billing code, records a cash payment (the bill is paid and `payment.confirmed`
names the clerk); a wrong amount or a missing receipt number is shown beside its field and changes nothing, as does
a form without the sign-in's CSRF token or a second payment of a paid bill; nobody signed in is sent to the sign-in
page and an auditor may not record payments; the day's reconciliation page shows the counter's payments."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment.config import PaymentSettings
from satupintu.payment.domain import WIB
from satupintu.payment.main import create_app
from tests.support import events_on, produce, record_of, submitted_event, wait_for_events

from .conftest import APPLICATIONS

pytestmark = pytest.mark.integration

BASE_URL = "http://testserver"
"""Where the tests' browsers reach the payment service (in process); the test client Keycloak knows sends them back
here."""
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SKCK_FEE, PASPOR_FEE = 30_000, 350_000


def a_quiet_day() -> date:
    """A day no other test bills on, so its reconciliation counts only this test's bills."""
    return date(2031, 1, 1) + timedelta(days=secrets.randbelow(20_000))


def receipt() -> str:
    return f"KW-{secrets.randbelow(10**9)}"


def text_of(page: httpx.Response, element_id: str) -> str:
    """The text of the element ``element_id`` (its first text, tags and surrounding space left out)."""
    found = re.search(rf'id="{element_id}"[^>]*>\s*([^<]*)<', page.text)
    return found.group(1).strip() if found else ""


@dataclass
class Staff:
    """The payment service running with its staff sign-in at a test client of the local Keycloak."""

    app: Any
    client: httpx.AsyncClient
    kafka: KafkaSettings
    clock: SettableClock

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

    async def confirmed(self, bill: dict[str, Any]) -> list[Event[Any]]:
        events = await events_on(self.kafka, APPLICATIONS, bill["application_id"])
        return [event for event in events if event.type == "payment.confirmed"]

    async def settled(self) -> None:
        """Wait until what the service published before now is on the topic: a new bill's `payment.billed` is."""
        later = await self.bill("skck")
        await wait_for_events(self.kafka, APPLICATIONS, later["application_id"], "payment.billed")


@pytest.fixture(scope="module")
async def staff_pages(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    keycloak: LocalKeycloak,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Staff]:
    """The payment service on topics of this module's own, signing staff in through a client of the local Keycloak
    registered for the tests' address, on a clock set to a quiet day."""
    await service_database(database_settings, "payment")
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}payment-staff."})
    clock = SettableClock(datetime.combine(a_quiet_day(), time(9), tzinfo=WIB))
    settings = PaymentSettings(
        kafka=kafka,
        database=database_settings,
        watch_interval_seconds=3600,
        oidc=KeycloakAdmin(keycloak).register_web_client("payment", BASE_URL),
        auth={"keys_dir": tmp_path_factory.mktemp("payment-staff-keys")},
    )
    app = create_app(settings, clock)
    async with running(app) as client:
        await eventually(lambda: _relay_active(app), what="payment's outbox relay active")
        yield Staff(app, client, kafka, clock)


async def _relay_active(app: Any) -> bool:
    return bool(app.state.runtime.relay.is_active)


@dataclass
class Browser:
    """A client that keeps payment's cookies and the last page's CSRF token, and the person at it (who keeps
    Keycloak's cookies), as a browser would."""

    client: httpx.AsyncClient
    person: Person | None = None
    csrf: str = ""
    pages: list[httpx.Response] = field(default_factory=list)

    async def open(self, path: str, **params: str) -> httpx.Response:
        page = await self.client.get(path, params=params or None)
        found = CSRF.search(page.text)
        if found:
            self.csrf = found.group(1)
        return page

    async def send(self, path: str, **fields: str) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": self.csrf, **fields})

    async def sign_in(self, username: str) -> httpx.Response:
        """Sign ``username`` (a local realm user) in on Keycloak's login page; the callback's answer."""
        self.person = Person.named(username)
        return await self.person.sign_in(self.client, "/staff")

    async def record(self, bill: dict[str, Any], **fields: str) -> httpx.Response:
        """Open the bill by its billing code and post the payment form with ``fields`` over what it pre-fills."""
        page = await self.open("/staff/bills", code=bill["billing_code"])
        assert page.status_code == 200, page.text
        form = {"method": "cash", "receipt_number": "", "amount": str(bill["amount"]), **fields}
        return await self.send(f"/staff/bills/{bill['bill_id']}/counter-payments", **form)


@asynccontextmanager
async def browser(staff: Staff) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=staff.app, client=("127.0.0.1", 50123))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        opened = Browser(client)
        try:
            yield opened
        finally:
            if opened.person is not None:
                await opened.person.close()


async def test_nobody_signed_in_is_sent_to_sign_in_and_an_auditor_may_not_record_payments(
    staff_pages: Staff,
) -> None:
    bill = await staff_pages.bill("skck")
    async with browser(staff_pages) as nobody:
        for path in ("/staff", "/staff/bills", "/staff/reconciliation"):
            sent = await nobody.client.get(path)
            assert (sent.status_code, sent.headers["location"]) == (303, "/staff/login"), path
        unsigned = await nobody.send(
            f"/staff/bills/{bill['bill_id']}/counter-payments", method="cash", receipt_number=receipt(), amount="30000"
        )
        assert (unsigned.status_code, unsigned.headers["location"]) == (303, "/staff/login")
        login = await nobody.client.get("/staff/login")
        assert 'id="sign-in" href="/auth/login?next=%2Fstaff"' in login.text

    async with browser(staff_pages) as auditor:
        assert (await auditor.sign_in("auditor")).headers["location"] == "/staff"
        assert (await auditor.client.get("/staff")).headers["location"] == "/staff/reconciliation"
        refused = await auditor.open("/staff/bills", code=bill["billing_code"])
        assert refused.status_code == 403
        assert "Hanya petugas loket" in text_of(refused, "notice")
        posted = await auditor.send(
            f"/staff/bills/{bill['bill_id']}/counter-payments", method="cash", receipt_number=receipt(), amount="30000"
        )
        assert posted.status_code == 403
        assert (await auditor.open("/staff/reconciliation")).status_code == 200

    async with browser(staff_pages) as citizen:
        assert (await citizen.sign_in("citizen")).status_code == 403  # no staff role: nobody signed in
    assert await staff_pages.status(bill) == "open"


async def test_a_clerk_finds_a_bill_by_its_billing_code_and_records_a_cash_payment(staff_pages: Staff) -> None:
    bill = await staff_pages.bill("skck")
    number = receipt()
    async with browser(staff_pages) as clerk:
        assert (await clerk.sign_in("clerk-mall")).headers["location"] == "/staff"
        assert (await clerk.client.get("/staff")).headers["location"] == "/staff/bills"
        code = bill["billing_code"]
        spaced = " ".join(code[i : i + 4] for i in range(0, len(code), 4))  # as printed on the bill
        page = await clerk.open("/staff/bills", code=spaced)
        assert page.status_code == 200, page.text
        assert "Masuk sebagai clerk-mall (Dinas Penanaman Modal" in page.text
        assert text_of(page, "bill-amount") == "Rp30.000"
        assert text_of(page, "bill-status") == "Belum dibayar"
        assert text_of(page, "bill-agency").startswith("Kepolisian")
        assert text_of(page, "bill-kind") == "PNBP"
        assert text_of(page, "bill-expiry").endswith("WIB")
        assert 'name="amount" value="30000"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "script-src" not in page.headers["content-security-policy"]

        recorded = await clerk.send(
            f"/staff/bills/{bill['bill_id']}/counter-payments", method="cash", receipt_number=number, amount="30.000"
        )
        assert recorded.status_code == 303, recorded.text
        shown = await clerk.open(recorded.headers["location"])
        assert text_of(shown, "recorded") == f"Pembayaran dicatat: Rp30.000, kuitansi {number}. Tagihan lunas."
        assert text_of(shown, "bill-status") == "Lunas"
        assert text_of(shown, "bill-paid-how") == f"Loket (kuitansi {number})"
        assert 'id="record-form"' not in shown.text

        again = await clerk.send(
            f"/staff/bills/{bill['bill_id']}/counter-payments", method="card", receipt_number=receipt(), amount="30000"
        )
        assert again.status_code == 409
        assert text_of(again, "problem") == "Tagihan ini lunas; pembayaran tidak dicatat."

        english = await clerk.open("/staff/bills", code=code, lang="en")
        assert text_of(english, "bill-amount") == "IDR 30,000"
        assert text_of(english, "bill-status") == "Paid"

    (confirmed,) = await wait_for_events(staff_pages.kafka, APPLICATIONS, bill["application_id"], "payment.confirmed")
    assert (confirmed.payload.channel, confirmed.payload.reference, confirmed.payload.amount) == (
        "counter",
        number,
        SKCK_FEE,
    )
    assert confirmed.actor == "officer:dpmptsp:clerk-mall"
    assert await staff_pages.status(bill) == "paid"
    await staff_pages.settled()
    assert len(await staff_pages.confirmed(bill)) == 1


async def test_a_wrong_amount_or_a_missing_receipt_is_shown_beside_the_field_and_nothing_changes(
    staff_pages: Staff,
) -> None:
    bill = await staff_pages.bill("skck")
    async with browser(staff_pages) as clerk:
        await clerk.sign_in("clerk-mall")
        wrong = await clerk.record(bill, receipt_number=receipt(), amount="25000")
        assert wrong.status_code == 422
        assert text_of(wrong, "amount-error") == "Jumlahnya harus Rp30.000, jumlah tagihan ini; tidak ada yang dicatat."
        assert 'name="amount" value="25000"' in wrong.text  # what the clerk typed, to correct

        no_receipt = await clerk.record(bill, receipt_number=" ")
        assert no_receipt.status_code == 422
        assert text_of(no_receipt, "receipt_number-error") == "Isi nomor kuitansi."
        assert text_of(no_receipt, "amount-error") == ""

        not_a_number = await clerk.record(bill, receipt_number=receipt(), amount="tiga puluh ribu")
        assert text_of(not_a_number, "amount-error") == "Isi jumlah dalam rupiah, angka bulat."

        unknown = await clerk.open("/staff/bills", code="899" + "0" * 12)
        assert unknown.status_code == 404
        assert text_of(unknown, "code-error") == f"Tidak ada tagihan dengan kode billing 899{'0' * 12}."
        malformed = await clerk.open("/staff/bills", code="12AB")
        assert text_of(malformed, "code-error") == "Kode billing berisi 15 sampai 20 angka."

    assert await staff_pages.status(bill) == "open"
    await staff_pages.settled()
    assert await staff_pages.confirmed(bill) == []


async def test_a_form_without_the_sign_ins_csrf_token_is_refused_and_records_nothing(staff_pages: Staff) -> None:
    bill = await staff_pages.bill("skck")
    async with browser(staff_pages) as clerk:
        await clerk.sign_in("clerk-mall")
        await clerk.open("/staff/bills", code=bill["billing_code"])
        path = f"/staff/bills/{bill['bill_id']}/counter-payments"
        payment = {"method": "cash", "receipt_number": receipt(), "amount": "30000"}
        forged = await clerk.client.post(path, data={"csrf_token": "forged", **payment})
        missing = await clerk.client.post(path, data=payment)
        assert (forged.status_code, missing.status_code) == (403, 403)
        assert "Formulir ditolak" in forged.text

    assert await staff_pages.status(bill) == "open"
    await staff_pages.settled()
    assert await staff_pages.confirmed(bill) == []


async def test_the_reconciliation_page_shows_the_days_counter_payments_in_rupiah(staff_pages: Staff) -> None:
    day = a_quiet_day()
    staff_pages.clock.set(datetime.combine(day, time(10), tzinfo=WIB))
    skck, paspor = await staff_pages.bill("skck"), await staff_pages.bill("paspor")
    async with browser(staff_pages) as clerk:
        await clerk.sign_in("clerk-mall")
        paid = await clerk.record(paspor, method="card", receipt_number=receipt())
        assert paid.status_code == 303, paid.text

        page = await clerk.open("/staff/reconciliation", day=day.isoformat())
        assert page.status_code == 200, page.text
        assert 'type="date" id="day" name="day" value="' + day.isoformat() + '"' in page.text
        cells = r'<td class="num">(\d+)</td><td class="num">([^<]+)</td>'
        rows = {
            key: re.search(rf'id="total-{key}"[^>]*>.*?{cells}', page.text)
            for key in ("issued", "paid", "paid_counter", "paid_gateway")
        }
        figures = {key: found.groups() if found else None for key, found in rows.items()}
        assert figures == {
            "issued": ("2", "Rp380.000"),
            "paid": ("1", "Rp350.000"),
            "paid_counter": ("1", "Rp350.000"),
            "paid_gateway": ("0", "Rp0"),
        }
        assert 'id="unmatched-none"' in page.text
        english = await clerk.open("/staff/reconciliation", day=day.isoformat(), lang="en")
        assert "IDR 350,000" in english.text
        assert "Per agency and fee kind" in english.text

        bad_day = await clerk.open("/staff/reconciliation", day="20-11-2026")
        assert bad_day.status_code == 422
        assert text_of(bad_day, "day-error") == "Isi tanggal seperti 2026-11-20."

    async with browser(staff_pages) as auditor:
        await auditor.sign_in("auditor")
        seen = await auditor.open("/staff/reconciliation", day=day.isoformat())
        assert re.search(r'id="total-paid".*?Rp350\.000', seen.text)
    assert await staff_pages.status(skck) == "open"
