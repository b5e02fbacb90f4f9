"""One sign-in for everyone, in headless Chromium on the real local Keycloak: a supervisor who is both an officer
and an auditor signs in once at the desk on Keycloak's login page, then opens the mall's counter and the audit
pages without typing the password again; signing out at the desk on that shared counter PC ends the counter and
audit sessions too (back-channel logout), and the next sign-in asks for the password again. A citizen signs in to
intake and sees "my applications" across two services. Screenshots go to ``docs/screenshots/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as desk_app
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as audit_app
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, free_port, screenshot_path, serving
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as intake_app
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as mall_app
from tests.support import upload_document

pytestmark = pytest.mark.browser

CITIZEN_NIK = "3171015506900001"
"""The realm's local user `citizen` holds this NIK as its verified attribute."""


async def sign_in_at_keycloak(page: Page, keycloak: LocalKeycloak, username: str, password: str) -> None:
    """Type the password into Keycloak's own login page (the browser is there)."""
    await expect(page).to_have_url(re.compile(re.escape(keycloak.issuer)))
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("#kc-login").click()


async def follow_sign_in_link(page: Page) -> None:
    """Click the page's link that starts a sign-in at the provider."""
    await page.locator('a[href^="/auth/login"]').first.click()


async def test_signing_out_at_the_desk_of_a_shared_counter_pc_ends_the_counter_and_audit_sessions_too(
    keycloak: LocalKeycloak,
    agency_settings: AgencySettings,
    make_settings: Callable[..., Awaitable[Any]],
) -> None:
    admin = KeycloakAdmin(keycloak)
    username, password = f"pengawas-{uuid.uuid4().hex[:6]}", "pengawas-rahasia-2026"
    admin.create_user(username, password, roles=["officer", "auditor"], group="/agencies/polres", name="Dian Pengawas")
    ports = {name: free_port() for name in ("desk", "mall", "audit")}
    at = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    clients = {name: admin.register_web_client(name, at[name]) for name in ports}
    desk = desk_app(agency_settings.model_copy(update={"oidc": clients["desk"]}))
    mall = mall_app(await make_settings(MallSettings, "mall", oidc=clients["mall"]))
    audit = audit_app(await make_settings(AuditSettings, "audit", oidc=clients["audit"]))

    async with AsyncExitStack() as stack, async_playwright() as playwright:
        for name, app in (("desk", desk), ("mall", mall), ("audit", audit)):
            await stack.enter_async_context(serving(app, f"the {name}", port=ports[name]))
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="id-ID")
            await page.goto(f"{at['desk']}/desk")
            await follow_sign_in_link(page)
            await sign_in_at_keycloak(page, keycloak, username, password)
            await expect(page).to_have_url(f"{at['desk']}/desk")
            await expect(page.locator("header")).to_contain_text("Dian Pengawas")

            await page.goto(f"{at['mall']}/staff/counter")  # the same person, no password again
            await follow_sign_in_link(page)
            await expect(page).to_have_url(re.compile(re.escape(at["mall"])))
            await expect(page.get_by_role("button", name=re.compile("Keluar"))).to_be_visible()

            await page.goto(f"{at['audit']}/audit/ui")
            await follow_sign_in_link(page)
            await expect(page).to_have_url(f"{at['audit']}/audit/ui")
            await expect(page.get_by_role("button", name=re.compile("Keluar"))).to_be_visible()
            await page.screenshot(path=str(screenshot_path("audit-signed-in.png")), full_page=True)

            await page.goto(f"{at['desk']}/desk")
            await page.get_by_role("button", name="Keluar").click()  # at the desk, then at Keycloak
            await expect(page).to_have_url(f"{at['desk']}/login?signed_out=1")

            await page.goto(f"{at['mall']}/staff/counter")
            await expect(page).to_have_url(re.compile(re.escape(f"{at['mall']}/staff/login")))
            await page.goto(f"{at['audit']}/audit/ui")
            await expect(page.get_by_role("button", name=re.compile("Keluar"))).to_have_count(0)
            await follow_sign_in_link(page)
            await expect(page.locator("#password")).to_be_visible()  # Keycloak asks for the password again
        finally:
            await browser.close()


async def test_a_citizen_signs_in_and_sees_their_applications_of_two_services(
    keycloak: LocalKeycloak, make_settings: Callable[..., Awaitable[Any]], tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    oidc = KeycloakAdmin(keycloak).register_web_client("intake", base_url)
    app = intake_app(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path, oidc=oidc))
    applicant = {"nik": CITIZEN_NIK, "name": "Rina Kusuma", "email": "rina@example.id", "language": "id"}

    async with serving(app, "intake", port=port), httpx.AsyncClient(base_url=base_url) as client:
        tax = await client.post(
            "/applications",
            json={
                "service_code": "npwp",
                "applicant": applicant,
                "data": {"occupation": "Guru", "monthly_income": 7_500_000, "address": "Jl. Melati 9"},
                "consent_reuse": False,
            },
        )
        police = await client.post(
            "/applications",
            json={
                "service_code": "skck",
                "applicant": applicant,
                "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Melati 9"},
                "documents": [{"name": "ktp", "sha256": await upload_document(client)}],
                "consent_reuse": False,
            },
        )
        assert tax.status_code == police.status_code == 202, (tax.text, police.text)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID")
                await page.goto(f"{base_url}/my-applications")
                await sign_in_at_keycloak(page, keycloak, "citizen", "local-citizen")
                await expect(page).to_have_url(f"{base_url}/my-applications")
                for application in (tax, police):
                    link = page.locator(f'a[href="/my-applications/{application.json()["application_id"]}"]')
                    await expect(link.first).to_be_visible()
                await expect(page.locator("main")).to_contain_text("SKCK")
                await expect(page.locator("main")).to_contain_text("NPWP")
                await page.screenshot(path=str(screenshot_path("intake-my-applications.png")), full_page=True)
            finally:
                await browser.close()
