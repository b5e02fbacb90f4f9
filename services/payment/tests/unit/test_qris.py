"""Dynamic QRIS payloads: the CRC against the standard check value, a bill's fields read back from its payload, a
changed payload refused, and the QR image decoded back to the payload by zxing-cpp (not by segno, which drew it)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image

from satupintu.payment.qris import (
    InvalidQrisPayload,
    Merchant,
    build,
    crc16_ccitt_false,
    dynamic_payload,
    parse,
    parse_fields,
    qr_png,
    tlv,
)

pytestmark = pytest.mark.unit

MERCHANT = Merchant(
    name="MPP KOTA BANDUNG",
    city="BANDUNG",
    postal_code="40111",
    acquirer_guid="ID.CO.BANKDAERAH.WWW",
    merchant_pan="9360011000012345678",
    merchant_id="MPP000000000001",
    nmid="ID1026123456789",
)
BILLING_CODE = "899123456789013"


def bitwise_crc16_ccitt_false(data: bytes) -> int:
    """The textbook shift-register CRC, to hold the library routine against."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc_gives_the_standard_check_value_for_123456789() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


@pytest.mark.parametrize("data", [b"", b"A", b"000201010212", bytes(range(256))])
def test_crc_agrees_with_the_bitwise_definition(data: bytes) -> None:
    assert crc16_ccitt_false(data) == bitwise_crc16_ccitt_false(data)


def test_tlv_writes_tag_two_digit_length_and_value_and_nests_templates() -> None:
    assert tlv("54", "350000") == "5406350000"
    assert build([("00", "01"), ("62", [("01", "123")])]) == "000201" + "6207" + "0103123"
    assert parse_fields("000201" + "6207" + "0103123") == [("00", "01"), ("62", "0103123")]


@pytest.mark.parametrize(
    ("tag", "value", "reason"),
    [("5", "x", "two digits"), ("59", "", "empty"), ("59", "x" * 100, "more than 99"), ("59", "Rp\n1", "ASCII")],
)
def test_tlv_refuses_a_field_it_cannot_encode(tag: str, value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        tlv(tag, value)


def test_bill_payload_reads_back_tag_by_tag() -> None:
    payload = dynamic_payload(MERCHANT, 350_000, BILLING_CODE)

    assert parse(payload) == {
        "00": "01",
        "01": "12",
        "26": {
            "00": "ID.CO.BANKDAERAH.WWW",
            "01": "9360011000012345678",
            "02": "MPP000000000001",
            "03": "URE",
        },
        "51": {"00": "ID.CO.QRIS.WWW", "02": "ID1026123456789", "03": "URE"},
        "52": "9399",
        "53": "360",
        "54": "350000",
        "58": "ID",
        "59": "MPP KOTA BANDUNG",
        "60": "BANDUNG",
        "61": "40111",
        "62": {"01": BILLING_CODE},
        "63": payload[-4:],
    }


def test_bill_payload_ends_with_the_crc_of_everything_up_to_6304() -> None:
    payload = dynamic_payload(MERCHANT, 350_000, BILLING_CODE)

    assert payload.startswith("000201010212")
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{bitwise_crc16_ccitt_false(payload[:-4].encode()):04X}"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda payload: payload.replace("5406350000", "5406035000"),
        lambda payload: payload.replace(BILLING_CODE, "899123456789014"),
        lambda payload: payload[:-1] + ("0" if payload[-1] != "0" else "1"),
    ],
    ids=["amount", "billing code", "crc"],
)
def test_changed_payload_fails_its_crc(tamper: Callable[[str], str]) -> None:
    payload = dynamic_payload(MERCHANT, 350_000, BILLING_CODE)
    tampered = tamper(payload)
    assert tampered != payload

    with pytest.raises(InvalidQrisPayload, match="CRC mismatch"):
        parse(tampered)


def test_payload_without_a_crc_is_refused() -> None:
    payload = dynamic_payload(MERCHANT, 350_000, BILLING_CODE)

    with pytest.raises(InvalidQrisPayload, match="does not end with its CRC"):
        parse(payload[:-8])


def test_field_running_past_the_end_is_refused_even_with_a_matching_crc() -> None:
    body = "000201" + "5499123" + "6304"
    payload = f"{body}{crc16_ccitt_false(body.encode()):04X}"

    with pytest.raises(InvalidQrisPayload, match="runs past the end"):
        parse(payload)


def test_field_whose_length_covers_the_crc_is_refused() -> None:
    body = "000201" + "5912ABCD" + "6304"
    payload = f"{body}{crc16_ccitt_false(body.encode()):04X}"

    with pytest.raises(InvalidQrisPayload, match="last field is not the CRC"):
        parse(payload)


@pytest.mark.parametrize(
    ("amount", "billing_code", "field"),
    [
        (0, BILLING_CODE, "amount"),
        (-5, BILLING_CODE, "amount"),
        (True, BILLING_CODE, "amount"),
        (350_000.0, BILLING_CODE, "amount"),
        (1, "89912A", "billing_code"),
    ],
)
def test_bill_payload_refuses_a_non_integer_amount_or_a_billing_code_with_letters(
    amount: int, billing_code: str, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        dynamic_payload(MERCHANT, amount, billing_code)


def test_merchant_name_longer_than_25_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="name: 1 to 25"):
        Merchant(
            name="MAL PELAYANAN PUBLIK KOTA BANDUNG",
            city="BANDUNG",
            postal_code="40111",
            acquirer_guid="ID.CO.BANKDAERAH.WWW",
            merchant_pan="9360011000012345678",
            merchant_id="MPP000000000001",
            nmid="ID1026123456789",
        )


def test_qr_image_decodes_back_to_the_payload_with_zxing() -> None:
    payload = dynamic_payload(MERCHANT, 1_250_000, "327399000000000017")

    png = qr_png(payload)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert [(barcode.format, barcode.text) for barcode in found] == [(zxingcpp.BarcodeFormat.QRCode, payload)]
    assert parse(found[0].text)["54"] == "1250000"
