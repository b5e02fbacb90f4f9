"""An application's fee on the tracking page and API, on the real broker and database: ``payment.billed`` shows what
to pay (``Rp30.000`` / ``IDR 30,000``, PNBP, the billing code, the deadline in WIB) and the QRIS code, whose PNG a
QR decoder (zxing-cpp) reads back to the very payload; a redelivered bill is recorded once; a payment shows "Lunas"
with its date and reference and takes the QR code away; an expired bill and routing's ``application.cancelled`` show
"Kedaluwarsa" and "Dibatalkan", and a late word on a settled bill changes nothing."""

from __future__ import annotations

import binascii
import io
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from fastapi import FastAPI
from PIL import Image

from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationCancelled
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of

from .conftest import count
from .test_document_download import applied

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
BILLED_AT = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # 10.00 WIB
EXPIRES_AT = BILLED_AT + timedelta(days=7)


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = await make_settings(IntakeSettings, "intake", documents_dir=tmp_path, rate_limit_per_minute=0)
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def qris_payload(billing_code: str, amount: int) -> str:
    """A dynamic QRIS payload as the payment service builds it (decision 0030), its CRC-16/CCITT-FALSE included."""
    body = "".join(
        [
            tlv("00", "01"),
            tlv("01", "12"),
            tlv("26", tlv("00", "ID.CO.BANKNAGARI.WWW") + tlv("01", "936000180000000001") + tlv("02", "SATUPINTU01")),
            tlv("51", tlv("00", "ID.CO.QRIS.WWW") + tlv("02", "ID1026000000001")),
            tlv("52", "9399"),
            tlv("53", "360"),
            tlv("54", str(amount)),
            tlv("58", "ID"),
            tlv("59", "MPP SATU PINTU"),
            tlv("60", "SAMARINDA"),
            tlv("61", "75123"),
            tlv("62", tlv("01", billing_code)),
        ]
    )
    crc = binascii.crc_hqx((body + "6304").encode(), 0xFFFF)
    return f"{body}6304{crc:04X}"


def payment_event(application_id: str, payload: Any) -> Event[Any]:
    """An event as the payment service publishes it, keyed by the application."""
    return Event(payload=payload, source="/satupintu/payment", subject=application_id, actor="service:payment")


def billed(application_id: str) -> tuple[PaymentBilled, dict[str, str]]:
    bill = {"application_id": application_id, "bill_id": str(uuid.uuid4()), "billing_code": "899" + "4" * 11 + "7"}
    return (
        PaymentBilled(
            **bill,
            service_code="skck",
            agency="polres",
            kind="pnbp",
            amount=30_000,
            qris=qris_payload(bill["billing_code"], 30_000),
            pay_before_stage=0,
            expires_at=EXPIRES_AT,
            billed_at=BILLED_AT,
        ),
        bill,
    )


async def bill_shown(
    client: httpx.AsyncClient, tracking_code: str, condition: Callable[[dict[str, Any] | None], bool]
) -> dict[str, Any]:
    """The tracking API's answer, once its bill meets ``condition``."""

    async def status() -> dict[str, Any]:
        answer = await client.get(f"/applications/{tracking_code}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    return await eventually(status, lambda found: condition(found["bill"]), what=f"the bill of {tracking_code}")


async def test_a_bill_shows_what_to_pay_and_a_qris_code_that_decodes_to_its_payload_recorded_once(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    application_id, tracking_code = await applied(client)
    payload, _ = billed(application_id)
    event = payment_event(application_id, payload)
    await produce(kafka_settings, APPLICATIONS, [record_of(event), record_of(event)])  # redelivered

    status = await bill_shown(client, tracking_code, lambda bill: bill is not None)
    png = await client.get(f"/applications/{tracking_code.lower()}/bill/qris.png")
    indonesian = await client.get(f"/track/{tracking_code}?lang=id")
    english = await client.get(f"/track/{tracking_code}?lang=en")

    bill = status["bill"]
    assert bill == {
        "kind": "pnbp",
        "agency": "polres",
        "agency_name": bill["agency_name"],
        "amount": 30_000,
        "currency": "IDR",
        "billing_code": payload.billing_code,
        "qris": payload.qris,
        "qris_png": f"/applications/{tracking_code}/bill/qris.png",
        "status": "awaiting_payment",
        "pay_before_stage": 0,
        "billed_at": "2026-11-16T03:00:00Z",
        "expires_at": "2026-11-23T03:00:00Z",
        "paid_at": None,
        "channel": None,
        "reference": None,
        "ended_at": None,
    }
    assert "bill_id" not in bill
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "no-store"
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.text == payload.qris
    assert tlv("62", tlv("01", payload.billing_code)) in decoded.text
    crc = binascii.crc_hqx(decoded.text[:-4].encode(), 0xFFFF)
    assert decoded.text.endswith(f"{crc:04X}")
    for text in ("Menunggu pembayaran", "Rp30.000", "PNBP (Penerimaan Negara Bukan Pajak)", payload.billing_code):
        assert text in indonesian.text
    assert "diteruskan ke instansi terkait setelah biayanya dibayar" in indonesian.text  # not "sedang diteruskan"
    assert "23 November 2026 10.00 WIB" in indonesian.text
    assert f'src="/applications/{tracking_code}/bill/qris.png"' in indonesian.text
    assert "Tagihan biaya diterbitkan" in indonesian.text  # the timeline
    assert "IDR 30,000" in english.text
    assert "Awaiting payment" in english.text
    assert "23 November 2026 10:00 WIB" in english.text
    assert await count(app, "SELECT count(*) FROM application_bills WHERE application_id = :id", id=application_id) == 1
    timeline = await count(
        app,
        "SELECT count(*) FROM application_timeline WHERE application_id = :id AND kind = 'payment.billed'",
        id=application_id,
    )
    assert timeline == 1


async def test_a_paid_bill_shows_lunas_with_its_date_and_reference_and_its_qr_code_is_gone(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    _, client = intake
    application_id, tracking_code = await applied(client)
    payload, bill = billed(application_id)
    paid_at = BILLED_AT + timedelta(days=1, hours=2)
    confirmed = PaymentConfirmed(
        **bill, amount=30_000, channel="gateway", reference="TRX-8812-0042", paid_at=paid_at, confirmed_at=paid_at
    )
    expired = PaymentExpired(**bill, expired_at=EXPIRES_AT)
    await produce(
        kafka_settings,
        APPLICATIONS,
        [record_of(payment_event(application_id, p)) for p in (payload, confirmed, expired)],  # a late expiry: no-op
    )

    status = await bill_shown(client, tracking_code, lambda found: found is not None and found["status"] == "paid")
    page = await client.get(f"/track/{tracking_code}?lang=id")
    png = await client.get(f"/applications/{tracking_code}/bill/qris.png")

    assert status["bill"]["paid_at"] == "2026-11-17T05:00:00Z"
    assert status["bill"]["channel"] == "gateway"
    assert status["bill"]["reference"] == "TRX-8812-0042"
    assert status["bill"]["qris_png"] is None
    assert "Lunas" in page.text
    assert "17 November 2026 12.00 WIB" in page.text
    assert "TRX-8812-0042" in page.text
    assert "bill-qris" not in page.text
    assert png.status_code == 404
    assert png.json()["type"].endswith("/no-open-bill")


async def test_an_expired_bill_and_the_cancelled_application_show_kedaluwarsa_and_dibatalkan(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    _, client = intake
    application_id, tracking_code = await applied(client)
    payload, bill = billed(application_id)
    expired = PaymentExpired(**bill, expired_at=EXPIRES_AT)
    cancelled = Event(
        payload=ApplicationCancelled(application_id=application_id, reason="payment_expired", cancelled_at=EXPIRES_AT),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )
    await produce(
        kafka_settings,
        APPLICATIONS,
        [record_of(payment_event(application_id, p)) for p in (payload, expired)] + [record_of(cancelled)],
    )

    async def cancelled_status() -> dict[str, Any]:
        found: dict[str, Any] = (await client.get(f"/applications/{tracking_code}")).json()
        return found

    status = await eventually(cancelled_status, lambda found: found["status"] == "cancelled", what="cancelled")
    indonesian = await client.get(f"/track/{tracking_code}?lang=id")
    english = await client.get(f"/track/{tracking_code}?lang=en")

    assert status["bill"]["status"] == "expired"
    assert status["bill"]["ended_at"] == "2026-11-23T03:00:00Z"
    assert status["bill"]["qris_png"] is None
    assert "Kedaluwarsa" in indonesian.text
    assert "Dibatalkan" in indonesian.text
    assert "dibatalkan karena biayanya tidak dibayar sampai batas waktu" in indonesian.text
    assert "Permohonan dibatalkan: biaya tidak dibayar tepat waktu" in indonesian.text  # the timeline
    assert "Expired" in english.text
    assert "Cancelled" in english.text
    assert (await client.get(f"/applications/{tracking_code}/bill/qris.png")).status_code == 404


async def test_a_bill_withdrawn_after_a_rejection_shows_dibatalkan(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    _, client = intake
    application_id, tracking_code = await applied(client)
    payload, bill = billed(application_id)
    withdrawn = PaymentCancelled(**bill, reason="application_rejected", cancelled_at=BILLED_AT + timedelta(days=2))
    await produce(
        kafka_settings, APPLICATIONS, [record_of(payment_event(application_id, p)) for p in (payload, withdrawn)]
    )

    status = await bill_shown(client, tracking_code, lambda found: found is not None and found["status"] == "cancelled")
    page = await client.get(f"/track/{tracking_code}?lang=id")

    assert status["bill"]["qris_png"] is None
    assert "Tagihan ini dibatalkan dan tidak perlu dibayar lagi." in page.text
    assert "tag--cancelled" in page.text


async def test_an_application_without_a_bill_has_none_and_no_qr_code(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = intake
    _, tracking_code = await applied(client)

    status = (await client.get(f"/applications/{tracking_code}")).json()
    png = await client.get(f"/applications/{tracking_code}/bill/qris.png")
    unknown = await client.get("/applications/SP-AAAAA-BBBBBB-CCCCCC/bill/qris.png")

    assert status["bill"] is None
    assert png.status_code == 404
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/unknown-tracking-code")
