"""Billing on the real broker and database: a fee service's submission is billed once with a QRIS payload carrying
the billing code and amount, a service without a fee is not billed, a rejection withdraws an open bill, the expiry
watch reminds then expires once each as time moves, and the bills are read over HTTP (the QR image decoded back)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
import zxingcpp
from PIL import Image

from satupintu.common.catalogue import load_catalogue
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment import qris
from satupintu.payment.storage.repository import BillRepository

from .conftest import RunningPayment

pytestmark = pytest.mark.integration

SKCK_FEE = 30_000  # the catalogue's skck: PNBP, paid before the first stage, 7 days
PBG_FEE = 1_500_000  # the catalogue's pbg: retribusi, paid before issuing, 14 days


async def count_bills(payment: RunningPayment, application_id: str) -> int:
    async with payment.app.state.runtime.sessions() as session:
        return 1 if await BillRepository(session).of_application(application_id) is not None else 0


async def test_a_fee_services_submission_is_billed_once_with_a_qris_payload_for_its_code_and_amount(
    payment: RunningPayment,
) -> None:
    submitted = await payment.submit("skck")

    billed = (await payment.events(submitted.subject, "payment.billed"))[0].payload
    await payment.redeliver(submitted)
    later = await payment.submit("skck")  # a later event on the topic: once it is billed, the redelivery was seen
    await payment.events(later.subject, "payment.billed")

    assert (billed.amount, billed.kind, billed.agency, billed.pay_before_stage) == (SKCK_FEE, "pnbp", "polres", 0)
    assert billed.expires_at - billed.billed_at == timedelta(days=7)
    assert len(billed.billing_code) == 15
    fields = qris.parse(billed.qris)  # raises on a wrong CRC
    assert fields["54"] == str(SKCK_FEE)
    assert fields["62"] == {"01": billed.billing_code}
    assert fields["63"] == f"{qris.crc16_ccitt_false(billed.qris[:-4].encode()):04X}"
    assert len(await payment.all_events(submitted.subject, "payment.billed")) == 1
    assert await count_bills(payment, submitted.subject) == 1


async def test_a_retribusi_fee_paid_before_issuing_is_billed_with_a_regional_code(payment: RunningPayment) -> None:
    submitted = await payment.submit("pbg")

    billed = (await payment.events(submitted.subject, "payment.billed"))[0].payload

    pbg = load_catalogue().service("pbg")
    assert pbg is not None
    assert (billed.amount, billed.kind, billed.pay_before_stage) == (PBG_FEE, "retribusi", pbg.issuing_stage())
    assert billed.billing_code.startswith("327399")
    assert len(billed.billing_code) == 18
    assert billed.expires_at - billed.billed_at == timedelta(days=14)


async def test_a_service_without_a_fee_is_not_billed(payment: RunningPayment) -> None:
    free = await payment.submit("akta-kelahiran")
    paid = await payment.submit("skck")  # after the free one on the topic: once it is billed, the free one was seen

    await payment.events(paid.subject, "payment.billed")

    assert await payment.all_events(free.subject, "payment.billed") == []
    assert (await payment.client.get(f"/applications/{free.subject}/bill")).status_code == 404


async def test_a_rejection_cancels_the_open_bill(payment: RunningPayment) -> None:
    submitted = await payment.submit("skck")
    bill = await payment.bill_of(submitted.subject)

    await payment.reject(submitted, payment.clock.now)

    cancelled = (await payment.events(submitted.subject, "payment.cancelled"))[0].payload
    assert (cancelled.bill_id, cancelled.reason) == (bill["bill_id"], "application_rejected")
    assert (await payment.client.get(f"/bills/{bill['bill_id']}")).json()["status"] == "cancelled"


async def test_the_watch_reminds_before_expiry_then_expires_the_bill_once_each(payment: RunningPayment) -> None:
    submitted = await payment.submit("paspor")
    bill = await payment.bill_of(submitted.subject)
    expires_at = datetime.fromisoformat(bill["expires_at"])
    start = payment.clock.now
    try:
        payment.clock.set(expires_at - timedelta(hours=25))
        await payment.watch.check_once()
        payment.clock.set(expires_at - timedelta(hours=23))
        await payment.watch.check_once()
        await payment.watch.check_once()
        expiring = (await payment.events(submitted.subject, "payment.expiring"))[0].payload
        payment.clock.set(expires_at + timedelta(minutes=1))
        await payment.watch.check_once()
        await payment.watch.check_once()
        expired = (await payment.events(submitted.subject, "payment.expired"))[0].payload
    finally:
        payment.clock.set(start)

    assert (expiring.bill_id, expiring.amount, expiring.expires_at) == (bill["bill_id"], 350_000, expires_at)
    assert expired.bill_id == bill["bill_id"]
    assert len(await payment.all_events(submitted.subject, "payment.expiring")) == 1
    assert len(await payment.all_events(submitted.subject, "payment.expired")) == 1
    assert (await payment.client.get(f"/bills/{bill['bill_id']}")).json()["status"] == "expired"


async def test_a_bill_is_read_by_id_and_by_application_and_its_qr_image_decodes_to_its_payload(
    payment: RunningPayment,
) -> None:
    submitted = await payment.submit("skck")
    by_application = await payment.bill_of(submitted.subject)

    by_id = await payment.client.get(f"/bills/{by_application['bill_id']}")
    image = await payment.client.get(by_application["qris_png"])

    assert by_id.status_code == 200
    assert by_id.json() == by_application
    assert {key: by_application[key] for key in ("amount", "kind", "agency", "service_code", "status")} == {
        "amount": SKCK_FEE,
        "kind": "pnbp",
        "agency": "polres",
        "service_code": "skck",
        "status": "open",
    }
    assert "applicant" not in by_application
    assert "nik" not in str(by_application).lower()
    assert image.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.content)))
    assert [barcode.text for barcode in decoded] == [by_application["qris"]]


async def test_an_unknown_bill_answers_404_problem_json(payment: RunningPayment) -> None:
    for path in ("/bills/no-such-bill", "/bills/no-such-bill/qris.png", "/applications/no-such-application/bill"):
        response = await payment.client.get(path)

        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path


async def test_the_openapi_document_describes_the_bills(payment: RunningPayment) -> None:
    paths = (await payment.client.get("/openapi.json")).json()["paths"]

    assert {"/bills/{bill_id}", "/bills/{bill_id}/qris.png", "/applications/{application_id}/bill"} <= set(paths)
    await eventually(lambda: payment.client.get("/readyz"), lambda r: r.status_code == 200, what="payment ready")
