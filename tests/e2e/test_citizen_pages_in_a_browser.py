"""A citizen applies in headless Chromium, once in each language: chooses SKCK on the list of services, sends the
form with a mistake, follows the error summary to the field, corrects it, uploads the KTP, reads the tracking code
and opens the status page, where routing's task for the police appears. Screenshots of each page, at phone width, go
to ``docs/screenshots/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from sqlalchemy import text

from satupintu.common.settings import KafkaSettings
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, SCREENSHOTS, chromium, screenshot_path, serving
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
SMALLEST_PHONE: ViewportSize = {"width": 360, "height": 740}
NIK = "3171015506900002"

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "skck": "Surat Keterangan Catatan Kepolisian (SKCK)",
        "nik": "NIK (Nomor Induk Kependudukan)",
        "name": "Nama lengkap",
        "email": "Alamat email",
        "purpose": "Keperluan",
        "address": "Alamat domisili",
        "ktp": "KTP",
        "send": "Kirim permohonan",
        "problem": "Ada masalah",
        "sent": "Permohonan terkirim",
        "see_status": "Lihat status permohonan",
        "status": "Status permohonan",
        "received": "Diterima",
        "police": "Kepolisian Resor",
    },
    "en": {
        "skck": "Police Clearance Certificate (SKCK)",
        "nik": "NIK (national identity number)",
        "name": "Full name",
        "email": "Email address",
        "purpose": "Purpose",
        "address": "Home address",
        "ktp": "Identity card",
        "send": "Send application",
        "problem": "There is a problem",
        "sent": "Application sent",
        "see_status": "See the status of your application",
        "status": "Application status",
        "received": "Received",
        "police": "District Police",
    },
}


async def screenshot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_path(f"intake-{name}.png")), full_page=True)


async def fits(page: Page) -> bool:
    """Whether the page needs no sideways scrolling."""
    overflow: bool = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return overflow


async def apply_for_skck(
    browser: Browser, base_url: str, language: str, ktp: Path, pay_for: Callable[[str], Awaitable[None]]
) -> None:
    words = WORDS[language]
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, locale="id-ID" if language == "id" else "en-GB"
    )
    page = await context.new_page()
    try:
        await page.goto("/")
        if language == "en":
            await page.get_by_role("link", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.get_by_role("link", name=words["skck"])).to_be_visible()
        await screenshot(page, f"services-{language}")

        # A mistake first: a NIK that is not 16 digits, and no KTP.
        await page.get_by_role("link", name=words["skck"]).click()
        await page.get_by_label(words["nik"]).fill("3171 0155 069")
        await page.get_by_label(words["name"]).fill("Siti Rahayu")
        await page.get_by_label(words["email"]).fill("siti@example.id")
        await page.get_by_label(words["purpose"]).fill("Melamar pekerjaan")
        await page.get_by_label(words["address"]).fill("Jl. Merdeka No. 1, Jakarta")
        await page.get_by_role("button", name=words["send"]).click()

        summary = page.get_by_role("alert")
        await expect(summary.get_by_role("heading", name=words["problem"])).to_be_visible()
        await expect(summary).to_be_focused()
        links = summary.get_by_role("link")
        hrefs = [await link.get_attribute("href") for link in await links.all()]
        assert hrefs == ["#field-applicant-nik", "#field-document-ktp"]
        for href in hrefs:
            assert href is not None
            await expect(page.locator(href)).to_have_count(1)
        await expect(page.get_by_label(words["name"])).to_have_value("Siti Rahayu")
        await screenshot(page, f"form-errors-{language}")
        await page.set_viewport_size(SMALLEST_PHONE)
        assert await fits(page)
        await page.set_viewport_size(PHONE)

        # The summary's link leads to the field, which says what is wrong beside it.
        await links.first.click()
        nik = page.get_by_label(words["nik"])
        await expect(nik).to_be_focused()
        await expect(nik).to_have_accessible_description(re.compile("16"))
        await nik.fill(NIK)
        await page.get_by_label(words["ktp"], exact=True).set_input_files(ktp)
        await page.get_by_role("button", name=words["send"]).click()

        await expect(page.get_by_role("heading", name=words["sent"])).to_be_visible()
        code = (await page.locator("#tracking-code").inner_text()).strip()
        assert code.startswith("SP-")
        await screenshot(page, f"confirmation-{language}")
        await pay_for(code)  # SKCK's fee, paid as the payment service would say

        await page.get_by_role("link", name=words["see_status"]).click()
        await expect(page.get_by_role("heading", name=words["status"], level=1)).to_be_visible()
        await expect(page.get_by_text(code)).to_be_visible()

        async def shown() -> tuple[int, str]:  # the task and the new state come in two events, either first
            await page.reload()
            tasks = await page.locator(".task-list__item").count()
            return tasks, (await page.locator("#application-state").inner_text()).strip()

        await eventually(
            shown,
            lambda found: found[0] > 0 and found[1] != words["received"],
            what="routing's task and the application's next state on the status page",
        )
        await expect(page.locator(".task-list__item").first).to_contain_text(words["police"])
        await expect(page.locator("#application-state")).not_to_have_text(words["received"])
        assert await fits(page)
        await screenshot(page, f"status-{language}")
    finally:
        await context.close()


async def test_citizen_applies_in_each_language_and_follows_the_application(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    intake = create_intake(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path / "documents"))
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    ktp = tmp_path / "ktp.pdf"
    ktp.write_bytes(f"%PDF-1.4 KTP Siti Rahayu {uuid.uuid4()}\n%%EOF\n".encode())

    async def pay_for(tracking_code: str) -> None:
        async with intake.state.runtime.engine.connect() as connection:
            found = await connection.execute(
                text("SELECT id FROM applications WHERE tracking_code = :code"), {"code": tracking_code}
            )
            await pay(kafka_settings, str(found.scalar_one()))

    async with running(routing), serving(intake, "intake") as base_url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            for language in ("id", "en"):
                await apply_for_skck(browser, base_url, language, ktp, pay_for)
        finally:
            await browser.close()
    for language in ("id", "en"):
        for name in ("services", "form-errors", "confirmation", "status"):
            assert (SCREENSHOTS / f"intake-{name}-{language}.png").stat().st_size > 0
