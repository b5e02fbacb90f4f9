"""Spoken calls and priority service, in headless Chromium: a walk-in takes a number, then a visitor with a small
child takes a priority number at the kiosk page; on the wall screen a person taps once to turn sound on; the counter
calls the next visitor and it is the priority number, which the display shows and announces by fetching its audio
(``/display/announcements/{number}.wav``, a WAV); the walk-in goes next. The screenshot goes to
``docs/screenshots/display-spoken-calls.png``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Request, ViewportSize, async_playwright, expect

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app

from .support import CHROMIUM_ARGS, SCREENSHOTS, Clock, chromium, free_port, serving

pytestmark = pytest.mark.browser

WIB = ZoneInfo("Asia/Jakarta")
WALL: ViewportSize = {"width": 1920, "height": 1080}
KIOSK: ViewportSize = {"width": 1080, "height": 1600}


async def test_a_priority_number_is_called_before_an_earlier_walk_in_and_the_display_speaks_it(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A topic prefix and database of their own, so the display shows this test's calls and nothing else.
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}spoken."})
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}spoken_"})
    await service_database(database, "mall")
    clock = Clock(datetime.combine(datetime.now(WIB).date(), time(9, 0), tzinfo=WIB))
    settings = MallSettings(
        kafka=kafka,
        database=database,
        display_refresh_seconds=2,
        announcement_cache_dir=tmp_path_factory.mktemp("announcements"),
    )
    app = create_app(settings, clock=clock)
    private_pem, _ = load_or_create_local_keys(settings.auth.keys_dir)
    issuer = TokenIssuer(AuthSettings(), private_key_pem=private_pem)
    djp = {"Authorization": f"Bearer {issuer.issue('budi', {Role.OFFICER}, 'djp')}"}

    async with serving(app, port=free_port()) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        walk_in = await client.post("/queue/tickets", json={"service_code": "npwp"})
        assert walk_in.json()["number"] == "NPWP-001"
        clock.advance(timedelta(minutes=3))

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                kiosk = await browser.new_page(viewport=KIOSK)
                await kiosk.goto(f"{base_url}/kiosk")
                await expect(kiosk.locator("#priority-note")).to_contain_text(
                    "Prioritas: lansia, penyandang disabilitas, ibu hamil, orang tua dengan anak kecil"
                )
                await kiosk.locator("#take-priority-npwp").click()
                await expect(kiosk.locator("#ticket-number")).to_have_text("NPWP-002")
                await expect(kiosk.locator("#ticket-priority")).to_have_text("Antrean prioritas")
                await expect(kiosk.locator("#ticket-ahead")).to_have_text("0")

                display = await browser.new_page(viewport=WALL)
                audio_requests: list[Request] = []
                display.on(
                    "request",
                    lambda request: audio_requests.append(request) if request.url.endswith(".wav") else None,
                )

                async def fetched(number: str) -> bool:
                    return any(request.url.endswith(f"/{number}.wav") for request in audio_requests)

                await display.goto(f"{base_url}/display")
                await expect(display.locator("#calling-none")).to_be_visible()
                await display.get_by_role("button", name="Ketuk untuk menyalakan suara").click()
                await expect(display.locator("#sound-toggle")).to_have_text("Suara panggilan menyala")

                clock.advance(timedelta(minutes=2))
                called = await client.post("/queue/services/npwp/call", json={"counter": "Loket 3"}, headers=djp)
                assert called.json()["number"] == "NPWP-002"  # the priority number, before the earlier walk-in

                await expect(display.locator("#calling-number")).to_have_text("NPWP-002", timeout=15_000)
                await expect(display.locator("#calling-counter")).to_have_text("Silakan ke Loket 3")
                await eventually(lambda: fetched("NPWP-002"), what="the display fetches the call's audio")
                assert audio_requests[0].url == f"{base_url}/display/announcements/NPWP-002.wav"
                response = await audio_requests[0].response()
                assert response is not None
                assert response.status == 200
                assert response.headers["content-type"] == "audio/wav"
                assert (await response.body())[:4] == b"RIFF"

                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await display.screenshot(path=str(SCREENSHOTS / "display-spoken-calls.png"))

                clock.advance(timedelta(minutes=4))
                walk_in_called = await client.post(
                    "/queue/services/npwp/call", json={"counter": "Loket 3"}, headers=djp
                )
                assert walk_in_called.json()["number"] == "NPWP-001"
                await expect(display.locator("#calling-number")).to_have_text("NPWP-001", timeout=15_000)
                await eventually(lambda: fetched("NPWP-001"), what="the display announces the next call too")
                await expect(display.locator("#recent-calls tbody tr")).to_have_count(1)
            finally:
                await browser.close()
