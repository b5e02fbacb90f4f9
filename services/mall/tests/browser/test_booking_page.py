"""Booking a visit and checking in, in headless Chromium: a citizen opens the passport's booking page, picks
tomorrow's 09:00 slot, gives their NIK and e-mail, enters the one-time code the mall sent (read from its
``appointment.code_issued``), and gets a booking code; the next morning at the kiosk that code becomes a queue ticket,
and the officer's call brings it before the walk-in who came earlier. The screenshot goes to
``docs/screenshots/booking-page.png``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import ViewportSize, async_playwright, expect

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app
from tests.support import wait_for_events

from .support import CHROMIUM_ARGS, SCREENSHOTS, Clock, chromium, serving

pytestmark = pytest.mark.browser

WIB = ZoneInfo("Asia/Jakarta")
PHONE: ViewportSize = {"width": 900, "height": 1200}


async def test_a_visit_booked_on_the_page_checks_in_at_the_kiosk_and_is_called_before_the_walk_in(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}booking."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}booking_"})
    await service_database(database, "mall")
    clock = Clock(datetime(2026, 8, 10, 16, 0, tzinfo=WIB))  # a Monday afternoon; Tuesday 11 August is a working day
    settings = MallSettings(kafka=kafka, database=database)
    app = create_app(settings, clock=clock)
    private_pem, _ = load_or_create_local_keys(settings.auth.keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("wati", {Role.OFFICER}, "imigrasi")
    imigrasi = {"Authorization": f"Bearer {token}"}

    async with (
        serving(app) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{base_url}/")
            await page.get_by_role("link", name="Buat janji temu Paspor Baru").click()
            await expect(page.get_by_role("heading", name="Buat janji temu: Paspor Baru", level=1)).to_be_visible()
            await page.get_by_role("link", name="11 Agustus 2026").click()
            await expect(page.locator("#slot-0900")).to_be_enabled()
            await expect(page.locator("label", has=page.locator("#slot-0900"))).to_contain_text("4 tempat tersisa")
            await page.locator("#slot-0900").check()
            await page.get_by_label("NIK (16 angka, sesuai KTP)").fill("3171015506900002")
            await page.get_by_label("E-mail atau nomor ponsel").fill("siti@example.id")
            await page.screenshot(path=str(SCREENSHOTS / "booking-page.png"), full_page=True)
            await page.locator("#send-code").click()

            await expect(page.get_by_role("heading", name="Masukkan kode", level=1)).to_be_visible()
            appointment_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
            issued = await wait_for_events(kafka, Topic.MALL.name_for(), appointment_id, "appointment.code_issued")
            assert issued[0].payload.recipient == "siti@example.id"
            await page.get_by_label("Kode sekali pakai").fill(
                "000000" if issued[0].payload.code != "000000" else "111111"
            )
            await page.locator("#confirm-code").click()
            await expect(page.locator("#field-code-error")).to_contain_text("Kode salah")
            await page.get_by_label("Kode sekali pakai").fill(issued[0].payload.code)
            await page.locator("#confirm-code").click()

            await expect(page.get_by_role("heading", name="Janji temu Anda", level=1)).to_be_visible()
            booking_code = (await page.locator("#booking-code").inner_text()).strip()
            assert booking_code.startswith("BK-")
            await expect(page.locator("#booking-when")).to_have_text("11-08-2026 09:00")
            await expect(page.locator("#booking-state")).to_have_text("Terjadwal")

            clock.set(datetime(2026, 8, 11, 8, 40, tzinfo=WIB))
            walk_in = await client.post("/queue/tickets", json={"service_code": "paspor"})
            assert walk_in.status_code == 201, walk_in.text
            await page.goto(f"{base_url}/kiosk")
            await page.get_by_label("Punya janji temu? Masukkan kode booking").fill(booking_code.lower())
            await page.locator("#check-in").click()
            await expect(page.get_by_role("heading", name="Nomor antrean Anda", level=1)).to_be_visible()
            number = (await page.locator("#ticket-number").inner_text()).strip()
            assert number != walk_in.json()["number"]

            await page.goto(f"{base_url}/kiosk")
            await page.get_by_label("Punya janji temu? Masukkan kode booking").fill(booking_code)
            await page.locator("#check-in").click()
            await expect(page.locator("main")).to_contain_text("sudah dipakai")

            called = await client.post("/queue/services/paspor/call", json={"counter": "Loket 5"}, headers=imigrasi)
            assert called.json()["number"] == number  # booked, so ahead of the walk-in who came earlier
        finally:
            await browser.close()
