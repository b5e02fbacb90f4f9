"""The counter and the now-calling display, in headless Chromium: visitors take numbers, an officer of the police
signs in to the counter page on the local Keycloak's login page, calls the next visitor to Loket 3, marks them served
and calls the next; the wall screen over the waiting area shows the number called last, the counter it goes to and
the calls before it, and picks up the officer's next call by fetching itself again; the officer signs out, here and at
Keycloak. The screenshots go to ``docs/screenshots/mall-now-calling.png`` and ``mall-counter-signed-in.png``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import ViewportSize, async_playwright, expect

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app

from .support import CHROMIUM_ARGS, SCREENSHOTS, Clock, chromium, free_port, serving

pytestmark = pytest.mark.browser

WIB = ZoneInfo("Asia/Jakarta")
WALL: ViewportSize = {"width": 1920, "height": 1080}
DESK: ViewportSize = {"width": 1280, "height": 900}


async def test_the_display_shows_the_number_an_officer_calls_to_a_counter(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, keycloak: LocalKeycloak
) -> None:
    # A topic prefix and database of its own, so the display shows this morning's calls and nothing else.
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}display."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}display_"})
    await service_database(database, "mall")
    clock = Clock(datetime.combine(datetime.now(WIB).date(), time(8, 30), tzinfo=WIB))
    port = free_port()
    oidc = KeycloakAdmin(keycloak).register_web_client("mall", f"http://127.0.0.1:{port}")
    settings = MallSettings(kafka=kafka, database=database, display_refresh_seconds=2, oidc=oidc)
    app = create_app(settings, clock=clock)
    private_pem, _ = load_or_create_local_keys(settings.auth.keys_dir)
    issuer = TokenIssuer(AuthSettings(), private_key_pem=private_pem)
    imigrasi = {"Authorization": f"Bearer {issuer.issue('wati', {Role.OFFICER}, 'imigrasi')}"}

    async with serving(app, port=port) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        for service_code in ("skck", "paspor", "skck", "nib", "skck", "paspor", "skck"):
            clock.advance(timedelta(minutes=2))
            taken = await client.post("/queue/tickets", json={"service_code": service_code})
            assert taken.status_code == 201, taken.text
        clock.advance(timedelta(minutes=5))
        called = await client.post("/queue/services/paspor/call", json={"counter": "Loket 7"}, headers=imigrasi)
        assert called.json()["number"] == "PASPOR-001"

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                officer = await browser.new_page(viewport=DESK)
                await officer.goto(f"{base_url}/staff/counter")
                await expect(officer.get_by_role("heading", name="Masuk petugas", level=1)).to_be_visible()
                await officer.get_by_role("link", name="Masuk", exact=True).click()
                await officer.locator("#username").fill("officer-polres")  # Keycloak's own login page
                await officer.locator("#password").fill("local-officer-polres")
                await officer.locator("#kc-login").click()
                await expect(officer.get_by_role("heading", name="Loket antrean", level=1)).to_be_visible()
                await expect(officer.locator("#signed-in-as")).to_contain_text("officer-polres")
                await expect(officer.locator('tr[data-service="skck"] .queue__waiting')).to_have_text("4")
                await officer.get_by_label("Loket Anda").fill("Loket 3")
                clock.advance(timedelta(minutes=1))
                await officer.locator("#call-skck").click()
                await expect(officer.locator("#flash")).to_have_text("SKCK-001 dipanggil ke Loket 3.")
                clock.advance(timedelta(minutes=4))
                await officer.locator("#served-SKCK-001").click()
                await expect(officer.locator("#flash")).to_have_text("SKCK-001 selesai dilayani.")
                await expect(officer.get_by_label("Loket Anda")).to_have_value("Loket 3")
                await officer.locator("#call-skck").click()
                await expect(officer.locator("#flash")).to_have_text("SKCK-002 dipanggil ke Loket 3.")

                display = await browser.new_page(viewport=WALL)
                await display.goto(f"{base_url}/display")
                await expect(display.get_by_role("heading", name="Nomor dipanggil", level=1)).to_be_visible()
                await expect(display.get_by_role("button", name="Ketuk untuk menyalakan suara")).to_be_visible()
                await expect(display.locator("#calling-number")).to_have_text("SKCK-002")
                await expect(display.locator("#calling-counter")).to_have_text("Silakan ke Loket 3")
                await expect(display.locator("#recent-calls tbody tr")).to_have_count(2)
                await expect(display.locator("#recent-calls tbody tr").first).to_contain_text("SKCK-001")
                await expect(display.locator("#recent-calls tbody tr").last).to_contain_text("Loket 7")

                clock.advance(timedelta(minutes=6))
                await officer.locator("#served-SKCK-002").click()
                await officer.locator("#call-skck").click()
                await expect(officer.locator("#flash")).to_have_text("SKCK-003 dipanggil ke Loket 3.")
                # The wall screen's script fetches the page again every 2 seconds and shows the new call.
                await expect(display.locator("#calling-number")).to_have_text("SKCK-003", timeout=15_000)
                await expect(display.locator("#recent-calls tbody tr")).to_have_count(3)
                assert await display.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await display.screenshot(path=str(SCREENSHOTS / "mall-now-calling.png"))
                await officer.screenshot(path=str(SCREENSHOTS / "mall-counter-signed-in.png"), full_page=True)

                # Signing out ends the session here and at Keycloak: the counter asks for a sign-in again.
                await officer.get_by_role("button", name="Keluar").click()
                await expect(officer.locator("#signed-out")).to_have_text("Anda sudah keluar.")
                await officer.goto(f"{base_url}/staff/counter")
                await expect(officer.get_by_role("heading", name="Masuk petugas", level=1)).to_be_visible()
                await officer.get_by_role("link", name="Masuk", exact=True).click()
                await expect(officer.locator("#password")).to_be_visible()  # Keycloak asks for the password again
            finally:
                await browser.close()
