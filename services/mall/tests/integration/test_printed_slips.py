"""The printed slips, read back by tools no one here wrote: the kiosk's ticket and the counter's application receipt
are PDF pages 80 mm wide (Poppler's pdfinfo), their text says the number, service and time (pdftotext), and their
QR code (rendered by pdftoppm, decoded by zbar's zbarimg) leads to the ticket's page or intake's tracking page. The
receipt is for a signed-in clerk of the agency serving the application (through the local Keycloak)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.browser import screenshot_path
from satupintu.devtools.testing.sign_in import KeycloakAdmin

from .conftest import RunningMall
from .test_staff_pages import BASE_URL, browser, take

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
POINTS_PER_MM = 72 / 25.4


@pytest.fixture(scope="module")
def mall_settings(keycloak: LocalKeycloak) -> dict[str, Any]:
    """The mall signs staff in through a client of the local Keycloak registered for the tests' address."""
    return {"oidc": KeycloakAdmin(keycloak).register_web_client("mall", BASE_URL)}


def tool(name: str) -> str:
    """The Debian tool ``name``; the test fails, not skips, without it."""
    executable = shutil.which(name)
    if executable is None:
        pytest.fail(f"{name} is needed: `make system-packages` installs poppler-utils and zbar-tools")
    return executable


def saved(answer: httpx.Response, tmp_path: Path, name: str = "slip") -> Path:
    """The PDF an answer carries, as the file ``name``.pdf."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline;")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(answer.content)
    return path


def page_size_mm(pdf: Path) -> tuple[float, float]:
    """The pages' width and height in millimetres, as Poppler's pdfinfo reads them; one page only."""
    info = subprocess.run([tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    found = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert found, info
    return float(found.group(1)) / POINTS_PER_MM, float(found.group(2)) / POINTS_PER_MM


def text_of(pdf: Path) -> str:
    """The PDF's text as Poppler's pdftotext reads it, spaces run together."""
    text = subprocess.run([tool("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def rendered(pdf: Path) -> Path:
    """The page as a 150 dpi PNG rendered by Poppler's pdftoppm."""
    stem = pdf.with_suffix("")
    subprocess.run(
        [tool("pdftoppm"), "-png", "-r", "150", "-singlefile", str(pdf), str(stem)], check=True, capture_output=True
    )
    return stem.with_suffix(".png")


def qr_codes_on(image: Path) -> list[str]:
    """Every QR code zbar's zbarimg finds on ``image``, as raw text."""
    decoded = subprocess.run([tool("zbarimg"), "--raw", "-q", str(image)], check=False, capture_output=True, text=True)
    assert decoded.returncode in {0, 4}, decoded.stderr  # 4: no code found
    return decoded.stdout.splitlines()


async def test_kiosk_ticket_prints_on_80_mm_paper_with_number_service_time_wait_and_a_qr_code_to_its_page(
    mall: RunningMall, tmp_path: Path
) -> None:
    mall.clock.now = datetime(2026, 10, 7, 8, 5, tzinfo=WIB)
    await take(mall, "nib")
    ticket = await take(mall, "nib")
    page = await mall.client.get(f"/kiosk/tickets/{ticket['ticket_id']}")
    assert f'id="print-ticket" href="/kiosk/tickets/{ticket["ticket_id"]}/print.pdf"' in page.text
    assert "Cetak tiket" in page.text

    pdf = saved(await mall.client.get(f"/kiosk/tickets/{ticket['ticket_id']}/print.pdf"), tmp_path)

    width, height = page_size_mm(pdf)
    assert round(width, 1) == 80.0
    assert 60 < height < 200  # as tall as its content, not a sheet
    text = text_of(pdf)
    assert ticket["number"] in text
    assert "Nomor Induk Berusaha (NIB)" in text
    assert "7 Oktober 2026 08.05 WIB" in text
    assert "1 antrean di depan" in text
    status_url = f"https://mpp.example.go.id/kiosk/tickets/{ticket['ticket_id']}"
    image = rendered(pdf)
    assert qr_codes_on(image) == [status_url]
    shutil.copyfile(image, screenshot_path("printed-ticket.png"))

    english = text_of(
        saved(await mall.client.get(f"/kiosk/tickets/{ticket['ticket_id']}/print.pdf?lang=en"), tmp_path, "en")
    )
    assert "Business Identification Number (NIB)" in english
    assert "7 October 2026 08:05 WIB" in english


async def test_an_unknown_ticket_prints_nothing(mall: RunningMall) -> None:
    answer = await mall.client.get("/kiosk/tickets/no-such-ticket/print.pdf")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


async def test_the_clerk_prints_the_application_receipt_with_its_tracking_code_as_text_and_qr_code(
    mall: RunningMall, tmp_path: Path
) -> None:
    mall.clock.now = datetime(2026, 10, 8, 9, 0, tzinfo=WIB)
    ticket = await take(mall, "nib")
    submitted = await mall.submit("nib", submitted_at=datetime(2026, 10, 8, 9, 12, tzinfo=WIB))
    code = submitted.payload.tracking_code

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        await clerk.open("/staff/counter")
        mall.clock.now += timedelta(minutes=2)
        await clerk.send("/staff/counter/call", service_code="nib", counter="Loket 2")
        await clerk.open("/staff/counter")
        await clerk.send(f"/staff/counter/tickets/{ticket['ticket_id']}/link", tracking_code=code)

        pdf = saved(await clerk.client.get(f"/staff/receipts/{code}.pdf"), tmp_path)

        english = text_of(saved(await clerk.client.get(f"/staff/receipts/{code}.pdf?lang=en"), tmp_path, "en"))
        unknown = await clerk.client.get("/staff/receipts/SP-NOT-KNOWN.pdf")

    assert round(page_size_mm(pdf)[0], 1) == 80.0
    text = text_of(pdf)
    assert "Tanda terima permohonan" in text
    assert code in text
    assert "Nomor Induk Berusaha (NIB)" in text
    assert "8 Oktober 2026 09.12 WIB" in text
    assert ticket["number"] in text
    assert "Siti" not in text  # nobody's name, NIK or contact
    assert "3171015506900002" not in text
    assert qr_codes_on(rendered(pdf)) == [f"https://satupintu.example.go.id/track/{code}"]
    assert "Application receipt" in english
    assert unknown.status_code == 404


async def test_the_receipt_needs_a_signed_in_clerk_of_the_agency_serving_the_application(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 10, 9, 9, 0, tzinfo=WIB)
    code = (await mall.submit("nib")).payload.tracking_code

    nobody = await mall.client.get(f"/staff/receipts/{code}.pdf")
    assert (nobody.status_code, nobody.headers["location"]) == (303, "/staff/login")

    async with browser(mall) as polres:
        await polres.sign_in("officer-polres")
        elsewhere = await polres.client.get(f"/staff/receipts/{code}.pdf")
    assert elsewhere.status_code == 403
    assert "application/pdf" not in elsewhere.headers["content-type"]
