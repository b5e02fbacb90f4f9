"""The end of a citizen's journey in headless Chromium: an SKCK submitted at intake and approved at the desk (over
their APIs) is issued; the citizen opens the tracking page with the tracking code, downloads the signed PDF with the
applicant's NIK, follows the QR code printed on it (decoded by ``zbarimg`` from the page ``pdftoppm`` rendered) to
intake's verification page, which says valid; a police officer signs in to the desk at Keycloak and revokes the
document with a reason on ``/desk/documents``; the verification page, reloaded, says revoked, with the reason, in
Indonesian and in English, and so does the tracking page. Screenshots of the PDF's first page, the verification page
and the desk's documents go to ``docs/screenshots/``."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as create_desk
from satupintu.common.auth import TokenIssuer
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import CHROMIUM_ARGS, chromium, free_port, screenshot_path, serving
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from tests.desk import Desk
from tests.support import skck_application, wait_for_events

pytestmark = pytest.mark.browser

APPLICATIONS = Topic.APPLICATIONS.name_for()
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")
NIK = "3171015506900002"  # the applicant of tests.support.skck_application
OUTPUTS = {"skck_number": "S-7", "criminal_record": "Tidak ada catatan kepolisian", "purpose": "Melamar pekerjaan"}
REASON = "Data pemohon keliru."


@pytest.fixture
def intake_port() -> int:
    """The port intake is served on, known before the desk is built (its QR codes point at intake)."""
    return free_port()


@pytest.fixture
async def served_desk(
    agency_settings: AgencySettings,
    keycloak: LocalKeycloak,
    intake_port: int,
    *,
    clock: SettableClock,
    issuer: TokenIssuer,
    topics: None,
) -> AsyncIterator[Desk]:
    """The desk served on a free port, its officers signing in at the local Keycloak, its documents' QR codes
    pointing at the intake this test serves; its client talks to it over HTTP."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = agency_settings.model_copy(
        update={
            "oidc": KeycloakAdmin(keycloak).register_web_client("desk", base_url),
            "verification_base_url": f"http://127.0.0.1:{intake_port}",
        }
    )
    app = create_desk(settings, clock=clock)
    async with serving(app, "the desk", port=port), httpx.AsyncClient(base_url=base_url) as client:
        yield Desk(app, client, clock, settings.kafka, issuer)


@pytest.fixture
async def intake(
    make_settings: Callable[..., Any], auth_settings: AuthSettings, documents_dir: Path, intake_port: int
) -> AsyncIterator[str]:
    """Intake served on ``intake_port``, reading the document store the desk writes; its base URL."""
    settings = await make_settings(IntakeSettings, "intake", auth=auth_settings, documents_dir=documents_dir)
    async with serving(create_intake(settings), "intake", port=intake_port) as base_url:
        yield base_url


async def submit_and_approve(intake: str, desk: Desk) -> tuple[str, str]:
    """Submit an SKCK over intake's API and approve its police task over the desk's; its id and tracking code."""
    async with httpx.AsyncClient(base_url=intake) as citizen:
        answer = await citizen.post("/applications", json=await skck_application(citizen))
    assert answer.status_code == 202, answer.text
    application_id: str = answer.json()["application_id"]
    await pay(desk.kafka, application_id)
    officer = desk.token("polres", "rina")
    [assignment] = await wait_for_events(desk.kafka, POLRES_TASKS, application_id, "task.assigned")
    task_id = assignment.payload.task_id
    await desk.wait_for_task(officer, task_id)
    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    assert claimed.status_code == 200, claimed.text
    decided = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved", "outputs": OUTPUTS}
    )
    assert decided.status_code == 202, decided.text
    return application_id, answer.json()["tracking_code"]


def first_page(pdf: Path, resolution: int, image: Path) -> Path:
    """The PDF's first page rendered by ``pdftoppm`` as the PNG ``image``."""
    stem = image.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(resolution), "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    return image


def qr_codes(image: Path) -> list[str]:
    """What ``zbarimg`` reads from an image."""
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


async def issued_document_listed(page: Page, document_id: str) -> int:
    """Reload the tracking page; how many sections show the document."""
    await page.reload()
    return await page.locator(f"#document-{document_id}").count()


async def verdict_after_reload(page: Page) -> str:
    """Reload the verification page; the verdict it shows."""
    await page.reload()
    return (await page.locator("#document-status").inner_text()).strip()


async def test_a_citizen_downloads_the_issued_document_follows_its_qr_code_and_sees_it_valid_then_revoked(
    served_desk: Desk,
    routing: None,
    intake: str,
    *,
    keycloak: LocalKeycloak,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    desk = served_desk
    application_id, tracking_code = await submit_and_approve(intake, desk)
    [issued] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "document.issued", timeout=60)
    document = issued.payload
    document_id = str(document.document_id)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                base_url=intake, viewport={"width": 1024, "height": 900}, locale="id-ID", accept_downloads=True
            )
            page = await context.new_page()

            # The tracking page, from the tracking code, lists the issued document once intake heard of it.
            await page.goto("/track")
            await page.get_by_label("Kode pelacakan").fill(tracking_code.lower())
            await page.get_by_role("button", name="Lihat status").click()
            await expect(page.get_by_role("heading", name="Status permohonan", level=1)).to_be_visible()
            await eventually(
                lambda: issued_document_listed(page, document_id),
                lambda count: count == 1,
                what="the issued document on the tracking page",
            )
            section = page.locator(f"#document-{document_id}")
            await expect(section.get_by_role("heading", name="Surat Keterangan Catatan Kepolisian")).to_be_visible()
            await expect(section).to_contain_text(document.number)
            await expect(page.locator(f"#document-state-{document_id}")).to_have_text("Sah")

            # The download, with the applicant's NIK: the very PDF the desk issued.
            await section.get_by_label("NIK (Nomor Induk Kependudukan)").fill(NIK)
            async with page.expect_download() as downloading:
                await section.get_by_role("button", name="Unduh dokumen (PDF)").click()
            download = await downloading.value
            pdf = tmp_path / download.suggested_filename
            await download.save_as(pdf)

            # Its QR code, as a phone would read it off the page, leads to the verification page.
            [link] = qr_codes(first_page(pdf, 150, tmp_path / "page.png"))
            first_page(pdf, 80, screenshot_path("issued-document-first-page.png"))
            await page.goto(link)
            await expect(page.get_by_role("heading", name="Verifikasi dokumen", level=1)).to_be_visible()
            await expect(page.locator("#document-status")).to_have_text("Sah")
            await expect(page.get_by_text("Dokumen ini diterbitkan oleh Kepolisian Resor")).to_be_visible()
            await expect(page.locator("#document-number")).to_have_text(document.number)
            await expect(page.locator("#document-holder")).to_have_text("S. R. (************0002)")
            await expect(page.locator("#document-sha256")).to_have_text(document.sha256)
            await page.screenshot(path=str(screenshot_path("verification-page-valid.png")), full_page=True)

            # An officer of the police signs in to the desk at Keycloak and revokes it there, with a reason.
            officer = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="id-ID")
            await officer.goto(f"{desk.client.base_url}/desk/documents")
            await officer.get_by_role("link", name="Masuk dengan akun Satu Pintu").click()
            await expect(officer).to_have_url(re.compile(re.escape(keycloak.issuer)))
            await officer.locator("#username").fill("officer-polres")
            await officer.locator("#password").fill("local-officer-polres")
            await officer.locator("#kc-login").click()
            await expect(officer.locator("header")).to_contain_text("Budi Santoso")
            await officer.goto(f"{desk.client.base_url}/desk/documents")
            row = officer.locator(f'tr[data-document-id="{document_id}"]')
            await expect(row).to_contain_text(document.number)
            await expect(row).to_contain_text("Berlaku")
            await row.get_by_label("Alasan pencabutan").fill(REASON)
            await row.get_by_role("button", name="Cabut").click()
            await expect(officer.get_by_role("status")).to_have_text(
                f"Dokumen {document.number} dicabut. Halaman verifikasinya kini menyatakan dicabut."
            )
            await expect(row).to_contain_text("Dicabut")
            await expect(row).to_contain_text(REASON)
            await officer.screenshot(path=str(screenshot_path("agency-issued-documents.png")), full_page=True)

            # The same verification page, reloaded, says so, and why.
            await eventually(
                lambda: verdict_after_reload(page),
                lambda verdict: verdict == "Dicabut",
                what="the verification page says revoked",
            )
            await expect(page.get_by_role("heading", name="Alasan pencabutan")).to_be_visible()
            await expect(page.locator("#revocation-reason")).to_have_text(REASON)
            await expect(page.get_by_text("Dokumen ini sudah dicabut oleh Kepolisian Resor")).to_be_visible()
            await page.screenshot(path=str(screenshot_path("verification-page-revoked.png")), full_page=True)
            await page.get_by_role("link", name="English").click()
            await expect(page.locator("#document-status")).to_have_text("Revoked")
            await expect(page.get_by_role("heading", name="Reason for revocation")).to_be_visible()

            # And the tracking page tells the citizen too, in the language they chose.
            await page.goto(f"/track/{tracking_code}")
            await expect(page.locator(f"#document-state-{document_id}")).to_have_text("Revoked")
            await expect(page.get_by_text("Its issuer has revoked this document")).to_be_visible()
        finally:
            await browser.close()

    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert download.suggested_filename.endswith(".pdf")
    assert link == f"{intake}/verify/{document_id}"
    shots = (
        "issued-document-first-page",
        "verification-page-valid",
        "verification-page-revoked",
        "agency-issued-documents",
    )
    for name in shots:
        assert screenshot_path(f"{name}.png").stat().st_size > 0
