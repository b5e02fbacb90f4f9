"""A citizen pays an SKCK's fee from the tracking page, in headless Chromium at phone width, with intake, routing and
the real payment service on the real broker and database: the citizen applies through the form, opens the tracking
page and sees the bill the payment service issued ("Menunggu pembayaran", ``Rp30.000``, PNBP, its billing code) with
its QRIS code; the code, read off the page as the browser shows it, decodes (zxing-cpp) to the bill's payload, whose
CRC checks and whose tags 54 and 62 carry the amount and the billing code. In English the bill says "Awaiting
payment", ``IDR 30,000``. Unpaid, the police have no task; a gateway's signed callback pays it: the police's task is
assigned and the page, reloaded, says "Lunas" with the gateway's reference and no QR code any more. Screenshots:
``docs/screenshots/bill-with-qris.png`` and ``bill-paid.png``."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from fastapi import FastAPI
from PIL import Image
from playwright.async_api import Page, ViewportSize, async_playwright, expect
from sqlalchemy import text

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, screenshot_path, serving
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.payment import qris, signatures
from satupintu.payment.config import PaymentSettings
from satupintu.payment.main import create_app as create_payment
from tests.support import events_on, wait_for_events

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")
PROVIDER = "qris-sim"
SECRET = "test-qris-sim-callback-secret-for-the-browser-test"
SKCK_FEE = 30_000


@pytest.fixture
async def payment(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The payment service on the session's broker and database, accepting the test gateway's callbacks; a client
    to it."""
    await service_database(database_settings, "payment")
    settings = PaymentSettings(
        kafka=kafka_settings,
        database=database_settings,
        watch_interval_seconds=3600,
        auth={"keys_dir": tmp_path / "payment-keys"},
        callback_secrets={PROVIDER: SECRET},
    )
    app = create_payment(settings)
    async with running(app) as client:
        await eventually(lambda: _relay_active(app), what="payment's outbox relay active")
        yield client


async def _relay_active(app: FastAPI) -> bool:
    return bool(app.state.runtime.relay.is_active)


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> FastAPI:
    """Intake, not yet served (the test serves it to the browser)."""
    settings = await make_settings(IntakeSettings, "intake", documents_dir=tmp_path / "documents")
    return create_intake(settings)


async def application_id_of(intake: FastAPI, tracking_code: str) -> str:
    """The id of the application with ``tracking_code``, from intake's database."""
    async with intake.state.runtime.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id FROM applications WHERE tracking_code = :code"), {"code": tracking_code}
        )
        return str(found.scalar_one())


async def bill_of(payment: httpx.AsyncClient, application_id: str) -> dict[str, Any]:
    """The payment service's bill of the application, once it issued one."""

    async def answer() -> httpx.Response:
        return await payment.get(f"/applications/{application_id}/bill")

    found = await eventually(answer, lambda r: r.status_code == 200, what=f"the bill of {application_id}")
    bill: dict[str, Any] = found.json()
    return bill


async def pay_at_the_gateway(payment: httpx.AsyncClient, bill: dict[str, Any]) -> dict[str, Any]:
    """Post the gateway's signed callback that ``bill`` was paid in full now; the service's answer."""
    callback = {
        "transaction_id": f"TRX-{uuid.uuid4().hex[:12].upper()}",
        "billing_code": bill["billing_code"],
        "amount": bill["amount"],
        "paid_at": datetime.now(UTC).isoformat(),
    }
    body = json.dumps(callback).encode()
    timestamp = str(int(datetime.now(UTC).timestamp()))
    answer = await payment.post(
        f"/payments/callbacks/{PROVIDER}",
        content=body,
        headers={
            "Content-Type": "application/json",
            signatures.TIMESTAMP_HEADER: timestamp,
            signatures.SIGNATURE_HEADER: signatures.sign(SECRET, timestamp, body),
        },
    )
    assert answer.status_code == 200, answer.text
    confirmation: dict[str, Any] = answer.json()
    return {**confirmation, "transaction_id": callback["transaction_id"]}


async def bill_state_after_reload(page: Page) -> str:
    """Reload the tracking page; the bill's state it shows (empty while it shows no bill)."""
    await page.reload()
    state = page.locator("#bill-state")
    return (await state.inner_text()).strip() if await state.count() else ""


async def paid_with_a_task_after_reload(page: Page) -> tuple[str, bool]:
    """Reload the tracking page; the bill's state and whether a task is listed."""
    state = await bill_state_after_reload(page)
    return state, await page.locator(".task-list__item").count() > 0


async def qr_image_loaded(page: Page) -> int:
    """The natural width of the QR image on the page (0 until it has loaded)."""
    width: int = await page.locator("#bill-qris").evaluate("image => image.complete ? image.naturalWidth : 0")
    return width


def decoded(png: bytes) -> str:
    """The one QR code zxing-cpp reads in the PNG ``png``."""
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    text_read: str = code.text
    return text_read


async def fits(page: Page) -> bool:
    """Whether the page needs no sideways scrolling."""
    fitting: bool = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return fitting


async def test_a_citizen_sees_the_bill_with_its_qris_code_pays_it_and_the_police_get_the_task(
    intake: FastAPI, routing: None, payment: httpx.AsyncClient, *, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    ktp = tmp_path / "ktp.pdf"
    ktp.write_bytes(f"%PDF-1.4 KTP Siti Rahayu {uuid.uuid4()}\n%%EOF\n".encode())

    async with serving(intake, "intake") as base_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(base_url=base_url, viewport=PHONE, locale="id-ID")
            page = await context.new_page()

            # The citizen applies for an SKCK through the form.
            await page.goto("/")
            await page.get_by_role("link", name="Surat Keterangan Catatan Kepolisian (SKCK)").click()
            await page.get_by_label("NIK (Nomor Induk Kependudukan)").fill("3171015506900002")
            await page.get_by_label("Nama lengkap").fill("Siti Rahayu")
            await page.get_by_label("Alamat email").fill("siti@example.id")
            await page.get_by_label("Keperluan").fill("Melamar pekerjaan")
            await page.get_by_label("Alamat domisili").fill("Jl. Merdeka No. 1, Jakarta")
            await page.get_by_label("KTP", exact=True).set_input_files(ktp)
            await page.get_by_role("button", name="Kirim permohonan").click()
            await expect(page.get_by_role("heading", name="Permohonan terkirim")).to_be_visible()
            tracking_code = (await page.locator("#tracking-code").inner_text()).strip()
            application_id = await application_id_of(intake, tracking_code)
            bill = await bill_of(payment, application_id)

            # The tracking page shows the bill the payment service issued, once intake heard of it.
            await page.get_by_role("link", name="Lihat status permohonan").click()
            await expect(page.get_by_role("heading", name="Status permohonan", level=1)).to_be_visible()
            await eventually(
                lambda: bill_state_after_reload(page),
                lambda state: state == "Menunggu pembayaran",
                what="the bill on the tracking page",
            )
            section = page.locator("#bill")
            await expect(section.get_by_role("heading", name="Biaya")).to_be_visible()
            await expect(page.locator("#bill-amount")).to_have_text("Rp30.000")
            await expect(page.locator("#bill-kind")).to_contain_text("PNBP")
            await expect(page.locator("#bill-billing-code")).to_have_text(bill["billing_code"])
            await expect(section).to_contain_text("Permohonan Anda baru diproses setelah biaya ini dibayar.")
            image = page.locator("#bill-qris")
            await expect(image).to_have_attribute(
                "alt", f"Kode QRIS untuk membayar Rp30.000 dengan kode billing {bill['billing_code']}"
            )
            await eventually(lambda: qr_image_loaded(page), lambda width: width > 0, what="the QR image loaded")
            assert await fits(page)

            # The QR code as the page shows it, and as the browser fetched it, is the bill's QRIS payload.
            shown = decoded(await image.screenshot())
            source = await image.get_attribute("src")
            assert source is not None
            fetched = await context.request.get(source)
            assert fetched.ok
            assert fetched.headers["content-type"] == "image/png"
            assert decoded(await fetched.body()) == shown == bill["qris"]
            tags = qris.parse(shown)  # raises unless its CRC (tag 63) matches
            assert tags["54"] == str(SKCK_FEE)
            assert tags["62"] == {"01": bill["billing_code"]}
            assert tags["53"] == qris.RUPIAH
            assert tags["01"] == qris.DYNAMIC
            await page.screenshot(path=str(screenshot_path("bill-with-qris.png")), full_page=True)

            # In English, the same bill.
            await page.get_by_role("link", name="English").click()
            await expect(page.locator("#bill-state")).to_have_text("Awaiting payment")
            await expect(page.locator("#bill-amount")).to_have_text("IDR 30,000")
            await expect(page.locator("#bill-kind")).to_have_text("PNBP (non-tax state revenue)")
            await expect(page.locator("#bill-billing-code")).to_have_text(bill["billing_code"])
            await expect(page.locator("#bill-qris")).to_have_attribute(
                "alt", f"QRIS code to pay IDR 30,000 with billing code {bill['billing_code']}"
            )
            await page.get_by_role("link", name="Bahasa Indonesia").click()
            await expect(page.locator("#bill-state")).to_have_text("Menunggu pembayaran")

            # Unpaid, the police have no task yet (routing holds the application before its first stage).
            assert await events_on(kafka_settings, POLRES_TASKS, application_id) == []
            await expect(page.locator(".task-list__item")).to_have_count(0)

            # The gateway says it was paid: routing starts the police's stage, and the page says paid.
            confirmation = await pay_at_the_gateway(payment, bill)
            assert confirmation["outcome"] == "confirmed", confirmation
            [assigned] = await wait_for_events(kafka_settings, POLRES_TASKS, application_id, "task.assigned")
            assert assigned.payload.agency == "polres"
            await eventually(
                lambda: paid_with_a_task_after_reload(page),
                lambda seen: seen == ("Lunas", True),
                what="the paid bill and the police's task on the tracking page",
            )
            await expect(page.locator("#bill-reference")).to_have_text(confirmation["transaction_id"])
            await expect(page.locator("#bill-qris")).to_have_count(0)
            await expect(page.locator(".task-list__item").first).to_contain_text("Kepolisian Resor")
            assert await fits(page)
            await page.screenshot(path=str(screenshot_path("bill-paid.png")), full_page=True)
            gone = await context.request.get(source)
            assert gone.status == 404
        finally:
            await browser.close()

    for name in ("bill-with-qris", "bill-paid"):
        assert screenshot_path(f"{name}.png").stat().st_size > 0
