"""An officer at the desk in headless Chromium: signs in on the local Keycloak's own login page, sees only their
agency's tasks, opens the task routing assigned, reads the applicant's document, claims and approves the task, the
task leaves the desk once routing accepted it, the application completes (routing runs in this process), and signing
out ends the session here and at Keycloak. Screenshots go to ``docs/screenshots/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app
from satupintu.common.auth import Principal, Role
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import DocumentRef
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, free_port, screenshot_path, serving
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.browser

APPLICATIONS = Topic.APPLICATIONS.name_for()


@pytest.fixture
async def served_desk(agency_settings: AgencySettings, keycloak: LocalKeycloak) -> AsyncIterator[tuple[str, Any]]:
    """The desk served by uvicorn on a free loopback port with its own client at the local Keycloak: its base URL and
    its app."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    oidc = KeycloakAdmin(keycloak).register_web_client("desk", base_url)
    app = create_app(agency_settings.model_copy(update={"oidc": oidc}))
    async with serving(app, "the desk", port=port):
        yield base_url, app


async def test_an_officer_signs_in_at_keycloak_sees_only_their_agencys_tasks_approves_one_and_signs_out(
    served_desk: tuple[str, Any],
    keycloak: LocalKeycloak,
    *,
    routing: Any,
    kafka_settings: KafkaSettings,
    store_document: Callable[[bytes], str],
    assign: Any,
) -> None:
    base_url, app = served_desk
    ktp = store_document(f"%PDF-1.4 KTP Siti Rahayu {uuid.uuid4()}".encode())
    submitted = submitted_event("skck", documents=(DocumentRef(name="ktp", sha256=ktp),))
    application_id = submitted.subject
    now = datetime.now(UTC)
    await assign(
        "polres", due_at=now - timedelta(hours=3), fields={"purpose": "Melamar CPNS", "address": "Jl. Anggrek 2"}
    )
    await assign("polres", due_at=now + timedelta(hours=5), fields={"purpose": "Visa kerja", "address": "Jl. Mawar 5"})
    foreign = await assign("imigrasi", service_code="paspor", fields={"mother_name": "Sri"})
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(application_id))])
    [assignment] = await wait_for_events(
        kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), application_id, "task.assigned"
    )
    task_id = assignment.payload.task_id
    officer = Principal(subject="officer-polres", roles=frozenset({Role.OFFICER}), agency="polres")
    await eventually(
        lambda: app.state.agency.desk.open_tasks(officer),
        lambda tasks: task_id in {task.task_id for task in tasks},
        what="the task on the desk",
    )

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="id-ID")
            await page.goto(f"{base_url}/desk")
            await expect(page).to_have_url(f"{base_url}/login")
            await page.get_by_role("link", name="Masuk dengan akun Satu Pintu").click()
            await expect(page).to_have_url(re.compile(re.escape(keycloak.issuer)))  # Keycloak's own login page
            await page.locator("#username").fill("officer-polres")
            await page.locator("#password").fill("local-officer-polres")
            await page.screenshot(path=str(screenshot_path("agency-login.png")))
            await page.locator("#kc-login").click()
            await expect(page).to_have_url(f"{base_url}/desk")
            await expect(page.locator("header")).to_contain_text("Budi Santoso")
            await expect(page.locator(f'tr[data-task-id="{foreign.payload.task_id}"]')).to_have_count(0)

            row = page.locator(f'tr[data-task-id="{task_id}"]')
            await expect(row).to_contain_text("Surat Keterangan Catatan Kepolisian (SKCK)")
            await expect(row).to_contain_text("Tersedia")
            await page.screenshot(path=str(screenshot_path("agency-tasks.png")), full_page=True)

            await row.get_by_role("link", name="Buka").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Surat Keterangan Catatan Kepolisian (SKCK)"
            )
            await expect(page.get_by_role("table", name="Data permohonan")).to_contain_text("Melamar pekerjaan")
            document = await page.request.get(f"{base_url}/documents/{ktp}")
            await page.get_by_role("button", name="Ambil tugas").click()
            await expect(page.get_by_role("status")).to_contain_text("Tugas ini Anda ambil sampai")
            await page.get_by_label("Setujui").check()
            await page.get_by_label("Hasil (untuk persetujuan)").fill("skck_number = SKCK/YAN.2.3/2026/0042")
            await page.screenshot(path=str(screenshot_path("agency-task.png")), full_page=True)
            await page.get_by_role("button", name="Kirim keputusan").click()
            await expect(page).to_have_url(f"{base_url}/desk")
            await expect(page.get_by_role("status")).to_have_text("Keputusan terkirim: Disetujui.")

            async def rows_after_reload() -> int:
                await page.reload()
                return await page.locator(f'tr[data-task-id="{task_id}"]').count()

            # listed as waiting for routing until routing accepts the decision, then gone
            await eventually(rows_after_reload, lambda count: count == 0, interval=0.5, what="the task closed")

            await page.get_by_role("button", name="Keluar").click()  # out here, at Keycloak, and back
            await expect(page).to_have_url(f"{base_url}/login?signed_out=1")
            await expect(page.get_by_role("status")).to_contain_text("Anda sudah keluar")
            await page.goto(f"{base_url}/desk")
            await expect(page).to_have_url(f"{base_url}/login")
        finally:
            await browser.close()

    [completed] = await wait_for_events(
        kafka_settings, APPLICATIONS, application_id, "application.completed", timeout=60
    )
    assert document.status == 200
    assert document.headers["content-type"] == "application/pdf"
    assert completed.payload.outputs == {"polres": {"skck_number": "SKCK/YAN.2.3/2026/0042"}}
