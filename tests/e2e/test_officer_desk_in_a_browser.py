"""An officer at the desk in headless Chromium: logs in, opens the task routing assigned, reads the applicant's
document, claims and approves the task, the task leaves the desk once routing accepted it, and the application
completes (routing runs in this process). Screenshots go to ``docs/screenshots/``."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from playwright.async_api import async_playwright, expect

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app
from satupintu.common.auth import Principal, Role
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import DocumentRef
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, screenshot_path
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-petugas-2026"
APPLICATIONS = Topic.APPLICATIONS.name_for()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def served_desk(agency_settings: AgencySettings) -> AsyncIterator[tuple[str, Any]]:
    """The desk served by uvicorn on a free loopback port: its base URL and its app."""
    app = create_app(agency_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        if serving.done():
            serving.result()  # raises what stopped the server
        return server.started

    await eventually(started, what="the desk listening")
    try:
        yield f"http://127.0.0.1:{server.config.port}", app
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=30)


async def test_an_officer_logs_in_claims_and_approves_a_task_and_the_application_completes(
    served_desk: tuple[str, Any],
    routing: Any,
    kafka_settings: KafkaSettings,
    store_document: Callable[[bytes], str],
    assign: Any,
) -> None:
    base_url, app = served_desk
    username = f"budi-{uuid.uuid4().hex[:4]}"
    await app.state.agency.officers.add(username, "polres", PASSWORD, "Budi Santoso")
    ktp = store_document(f"%PDF-1.4 KTP Siti Rahayu {uuid.uuid4()}".encode())
    submitted = submitted_event("skck", documents=(DocumentRef(name="ktp", sha256=ktp),))
    application_id = submitted.subject
    now = datetime.now(UTC)
    await assign(
        "polres", due_at=now - timedelta(hours=3), fields={"purpose": "Melamar CPNS", "address": "Jl. Anggrek 2"}
    )
    await assign("polres", due_at=now + timedelta(hours=5), fields={"purpose": "Visa kerja", "address": "Jl. Mawar 5"})
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
    [assignment] = await wait_for_events(
        kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), application_id, "task.assigned"
    )
    task_id = assignment.payload.task_id
    officer = Principal(subject=username, roles=frozenset({Role.OFFICER}), agency="polres")
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
            await page.get_by_label("Nama pengguna").fill(username)
            await page.get_by_label("Kata sandi").fill(PASSWORD)
            await page.screenshot(path=str(screenshot_path("agency-login.png")))
            await page.get_by_role("button", name="Masuk").click()
            await expect(page).to_have_url(f"{base_url}/desk")

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
        finally:
            await browser.close()

    [completed] = await wait_for_events(
        kafka_settings, APPLICATIONS, application_id, "application.completed", timeout=60
    )
    assert document.status == 200
    assert document.headers["content-type"] == "application/pdf"
    assert completed.payload.outputs == {"polres": {"skck_number": "SKCK/YAN.2.3/2026/0042"}}
