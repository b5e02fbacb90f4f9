"""The clerk's one screen (issue 22, decision 0036), in headless Chromium with intake and the mall served on ports and
the real local Keycloak: the mall's clerk signs in on Keycloak's login page, calls the next ticket, and on the same
page fills in the NIB application for the citizen in front of them (the service's form from the catalogue, the KTP
uploaded), has the code sent to the citizen's e-mail, types the code the citizen reads out and submits (a typo in a
field is refused by intake as the citizen's would be, named on the page, and corrected): the page says
"Diajukan" with the tracking code and the link to print the receipt (the receipt, fetched as the clerk, names both),
intake published the application with the channel ``counter`` and the clerk as actor, and the mall linked the ticket
and marked it served. Screenshot
``docs/screenshots/clerk-one-screen.png``."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, free_port, screenshot_path, serving
from satupintu.devtools.testing.sealing import delivered_notices
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as intake_app
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as mall_app
from tests.support import wait_for_events

pytestmark = pytest.mark.browser

CLERK, CLERK_PASSWORD = "clerk-mall", "local-clerk-mall"
"""The realm's local officer of DPMPTSP, the mall's agency."""
TRACKING_CODE = re.compile(r"[A-Z0-9-]{6,}")


async def code_sent_to(kafka: KafkaSettings, recipient: str) -> str:
    """The one-time code notification delivers to ``recipient`` (read off the topic and opened as it opens it)."""

    async def delivered() -> list[str]:
        notices = await delivered_notices(kafka, AuthSettings().keys_dir, "verification.code_issued")
        return [str(p["code"]) for p in notices if p["recipient"] == recipient]

    codes = await eventually(delivered, lambda found: len(found) >= 1, what=f"a code to {recipient}")
    return codes[-1]


async def sign_in_at_keycloak(page: Page, keycloak: LocalKeycloak) -> None:
    """The clerk types their password into Keycloak's own login page."""
    await expect(page).to_have_url(re.compile(re.escape(keycloak.issuer)))
    await page.locator("#username").fill(CLERK)
    await page.locator("#password").fill(CLERK_PASSWORD)
    await page.locator("#kc-login").click()


def text_of(pdf: bytes) -> str:
    """The text ``pdftotext`` reads from a PDF."""
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


async def test_the_clerk_calls_the_next_ticket_and_submits_the_citizens_application_on_the_same_screen(
    keycloak: LocalKeycloak,
    kafka_settings: KafkaSettings,
    make_settings: Callable[..., Awaitable[Any]],
    tmp_path: Path,
) -> None:
    admin = KeycloakAdmin(keycloak)
    ports = {"intake": free_port(), "mall": free_port()}
    at = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    provider_tokens = AuthSettings(
        issuer=keycloak.issuer,
        audience="satupintu",
        jwks_url=f"{keycloak.issuer}/protocol/openid-connect/certs",
        algorithms=["RS256"],
    )
    intake = intake_app(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path, auth=provider_tokens))
    mall = mall_app(
        await make_settings(
            MallSettings, "mall", oidc=admin.register_web_client("mall", at["mall"]), intake_api_url=at["intake"]
        )
    )
    email = f"warga-{uuid.uuid4().hex[:8]}@example.id"
    ktp = tmp_path / "ktp.pdf"
    ktp.write_bytes(f"%PDF-1.4 ktp {uuid.uuid4()}".encode())

    async with AsyncExitStack() as stack, async_playwright() as playwright:
        for name, app in (("intake", intake), ("mall", mall)):
            await stack.enter_async_context(serving(app, name, port=ports[name]))
        public = await stack.enter_async_context(httpx.AsyncClient(base_url=at["mall"]))
        ticket = (await public.post("/queue/tickets", json={"service_code": "nib"})).json()
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000}, locale="id-ID")
            await page.goto(f"{at['mall']}/staff/counter")
            await page.locator('a[href^="/auth/login"]').first.click()
            await sign_in_at_keycloak(page, keycloak)
            await expect(page).to_have_url(f"{at['mall']}/staff/counter")

            await page.locator("#counter").fill("Loket 5")
            await page.locator("#call-nib").click()
            form = page.locator(f"#apply-{ticket['number']}")
            await expect(form).to_be_visible()
            await form.locator("#apply-nik").fill("3171015506900002")
            await form.locator("#apply-name").fill("Siti Aminah")
            await form.locator("#apply-email").fill(email)
            await form.locator("#apply-field_business_name").fill("Warung Siti")
            await form.locator("#apply-field_business_scale").select_option("mikro")
            await form.locator("#apply-field_kbli").fill("56103")
            await form.locator("#apply-field_business_address").fill("Jl. Melati No. 2, Samarinda")
            await form.locator("#apply-document-ktp").set_input_files(str(ktp))
            await form.locator(f"#send-code-{ticket['number']}").click()

            form = page.locator(f"#apply-{ticket['number']}")
            await expect(form.locator("#code-sent")).to_be_visible()
            await expect(form.locator("#uploaded-ktp")).to_be_visible()
            await expect(form.locator("#apply-field_business_name")).to_have_value("Warung Siti")  # kept
            code = await code_sent_to(kafka_settings, email)
            await form.locator("#apply-field_kbli").fill("561")  # a typo: intake refuses it as the citizen's
            await form.locator("#apply-code").fill(code)
            await form.locator(f"#submit-{ticket['number']}").click()

            form = page.locator(f"#apply-{ticket['number']}")
            await expect(form.locator("#apply-problem")).to_contain_text("data/kbli")
            await expect(form.locator("#apply-field_kbli")).to_have_attribute("aria-invalid", "true")
            await expect(form.locator("#uploaded-ktp")).to_be_visible()
            await form.locator("#apply-field_kbli").fill("56103")
            await form.locator("#apply-code").fill(code)  # not spent by the refused submission
            await form.locator(f"#submit-{ticket['number']}").click()

            await expect(page.locator("#submitted")).to_contain_text("Diajukan")
            tracking_code = (await page.locator("#submitted-code").inner_text()).strip()
            assert TRACKING_CODE.fullmatch(tracking_code), tracking_code
            await expect(page.locator("#print-receipt")).to_have_attribute(
                "href", f"/staff/receipts/{tracking_code}.pdf"
            )
            await expect(page.locator("#print-receipt")).to_have_text("Cetak tanda terima")
            await expect(page.locator(f"#apply-{ticket['number']}")).to_have_count(0)  # done with this visitor
            await page.screenshot(path=str(screenshot_path("clerk-one-screen.png")), full_page=True)

            async def ticket_now() -> dict[str, Any]:
                found: dict[str, Any] = (await public.get(f"/queue/tickets/{ticket['ticket_id']}")).json()
                return found

            served = await eventually(ticket_now, lambda t: t["state"] == "served", what="the ticket served")
            [linked] = await wait_for_events(
                kafka_settings, Topic.MALL.name_for(), ticket["ticket_id"], "ticket.linked"
            )

            async def receipt_now() -> Any:
                return await page.context.request.get(f"{at['mall']}/staff/receipts/{tracking_code}.pdf")

            receipt = await eventually(receipt_now, lambda answer: answer.status == 200, what="the receipt printed")
            receipt_pdf = await receipt.body()
            receipt_type = receipt.headers["content-type"]
        finally:
            await browser.close()

    assert served["tracking_code"] == tracking_code
    assert linked.payload.tracking_code == tracking_code
    assert linked.actor == f"officer:dpmptsp:{CLERK}"
    [submitted] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), linked.payload.application_id, "application.submitted"
    )
    assert (submitted.payload.channel, submitted.payload.ticket_id) == ("counter", ticket["ticket_id"])
    assert submitted.actor == f"officer:dpmptsp:{CLERK}"
    assert receipt_type == "application/pdf"
    printed = text_of(receipt_pdf)
    assert tracking_code in printed
    assert ticket["number"] in printed  # the ticket it was linked to
