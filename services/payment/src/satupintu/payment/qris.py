"""Dynamic QRIS payloads: the EMVCo merchant-presented QR code a citizen's banking app scans to pay a bill.

A payload is a string of tag-length-value fields (a two-digit tag, a two-digit length, the value), some of them
templates whose value is itself such fields (merchant account information 26-51, additional data 62), ending with
tag 63: the CRC-16/CCITT-FALSE of everything before it, ``6304`` included, as four upper-case hex digits. The
bill's amount is in tag 54 (whole rupiah, so an integer string), its billing code in tag 62's bill number (01).
"""

from __future__ import annotations

import binascii
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import segno

PAYLOAD_FORMAT = "01"
DYNAMIC = "12"
"""Point of initiation 12: a QR for one transaction (its amount given), not a merchant's reusable sticker (11)."""
RUPIAH = "360"
"""ISO 4217 numeric code of the Indonesian rupiah."""
QRIS_GUID = "ID.CO.QRIS.WWW"
"""Globally unique identifier of QRIS's national template (51), which carries the merchant's NMID."""
CRC_TAG = "63"
_CRC_PREFIX = CRC_TAG + "04"
TEMPLATE_TAGS = frozenset({*(f"{tag:02d}" for tag in range(26, 52)), "62"})
"""Tags whose value is itself tag-length-value fields: merchant account information (26-51), additional data (62)."""
_MAX_VALUE_LENGTH = 99

Field: TypeAlias = tuple[str, "str | Sequence[Field]"]
"""One field to build: its tag and either its value or a template's fields."""
Parsed: TypeAlias = dict[str, "str | dict[str, str]"]
"""A parsed payload: each tag's value, a template's as a dictionary of its own fields."""


class InvalidQrisPayload(ValueError):
    """A payload that is not well-formed tag-length-value text, or whose CRC does not match its content."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor) of ``data``.

    ``binascii.crc_hqx`` is the standard library's CRC-CCITT (the same polynomial, not reflected) with the initial
    value given; from 0xFFFF it is CCITT-FALSE. Its check value, for ``b"123456789"``, is 0x29B1.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def _checked_value(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError(f"tag {tag!r}: a tag is two digits")
    if not value:
        raise ValueError(f"tag {tag}: an empty value is left out, not sent")
    if len(value) > _MAX_VALUE_LENGTH:
        raise ValueError(f"tag {tag}: {len(value)} characters, more than {_MAX_VALUE_LENGTH}")
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"tag {tag}: {value!r} has characters outside printable ASCII")
    return value


def tlv(tag: str, value: str) -> str:
    """One field: ``tag`` (two digits), the value's length (two digits) and ``value`` (printable ASCII, 1-99)."""
    return f"{tag}{len(_checked_value(tag, value)):02d}{value}"


def build(fields: Sequence[Field]) -> str:
    """The fields in the order given, a template's fields built inside it."""
    return "".join(tlv(tag, value if isinstance(value, str) else build(value)) for tag, value in fields)


def parse_fields(text: str) -> list[tuple[str, str]]:
    """The fields of ``text`` in order, as (tag, value), templates left as text."""
    fields = []
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise InvalidQrisPayload(f"at character {position}: expected a two-digit tag and length, got {header!r}")
        tag, length = header[:2], int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if length == 0 or len(value) < length:
            raise InvalidQrisPayload(f"tag {tag} at character {position}: length {length} runs past the end")
        fields.append((tag, value))
        position += 4 + length
    return fields


def parse(payload: str) -> Parsed:
    """The payload's fields by tag, templates (26-51, 62) parsed into their own fields, once its CRC is checked.

    Raises :class:`InvalidQrisPayload` when the CRC is not tag 63 at the end or does not match the content (a
    changed amount or billing code), when a field's length runs past the end, or a tag appears twice.
    """
    if not payload.isascii():
        raise InvalidQrisPayload("the payload has characters outside ASCII")
    if len(payload) < 8 or payload[-8:-4] != _CRC_PREFIX:
        raise InvalidQrisPayload("the payload does not end with its CRC (tag 63, four hex digits)")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('ascii')):04X}"
    if payload[-4:].upper() != expected:
        raise InvalidQrisPayload(f"CRC mismatch: the payload says {payload[-4:]!r}, its content gives {expected!r}")
    parsed: Parsed = {}
    for tag, value in parse_fields(payload):
        if tag in parsed:
            raise InvalidQrisPayload(f"tag {tag} appears twice")
        if tag in TEMPLATE_TAGS:
            sub_fields = parse_fields(value)
            template = dict(sub_fields)
            if len(template) != len(sub_fields):
                raise InvalidQrisPayload(f"template {tag}: a sub-tag appears twice")
            parsed[tag] = template
        else:
            parsed[tag] = value
    if next(iter(parsed)) != "00":
        raise InvalidQrisPayload("the payload does not start with its format indicator (tag 00)")
    if next(reversed(parsed)) != CRC_TAG:
        raise InvalidQrisPayload("the last field is not the CRC (tag 63): an earlier field's length covers it")
    return parsed


@dataclass(frozen=True)
class Merchant:
    """The payee as QRIS knows it: the acquirer's merchant account (tag 26) and the national merchant id (tag 51).

    Built from the payment service's settings; the values are the ones the acquiring bank (PJSP) registered.
    """

    name: str
    """Tag 59, at most 25 characters."""
    city: str
    """Tag 60, at most 15 characters."""
    postal_code: str
    """Tag 61."""
    acquirer_guid: str
    """Tag 26's globally unique id: the acquirer's reverse domain name, e.g. ``ID.CO.BANKNAME.WWW``."""
    merchant_pan: str
    """Tag 26's merchant PAN: the acquirer's NNS (8 digits) and the merchant's number, at most 19 digits."""
    merchant_id: str
    """Tag 26's merchant id at the acquirer, at most 15 characters."""
    nmid: str
    """Tag 51's national merchant id (NMID), e.g. ``ID1020012345678``."""
    merchant_category_code: str = "9399"
    """Tag 52, ISO 18245: 9399 is government services not elsewhere classified."""
    merchant_criteria: str = "URE"
    """Sub-tag 03 of 26 and 51: the merchant's size class; URE (regular) for a government payee."""

    def __post_init__(self) -> None:
        limits = {"name": 25, "city": 15, "postal_code": 10, "merchant_id": 15}
        for attribute, limit in limits.items():
            value = getattr(self, attribute)
            if not value or len(value) > limit:
                raise ValueError(f"merchant {attribute}: 1 to {limit} characters, got {value!r}")
        if not (self.merchant_pan.isdigit() and len(self.merchant_pan) <= 19):
            raise ValueError(f"merchant merchant_pan: at most 19 digits, got {self.merchant_pan!r}")
        if not (len(self.merchant_category_code) == 4 and self.merchant_category_code.isdigit()):
            raise ValueError(f"merchant merchant_category_code: four digits, got {self.merchant_category_code!r}")
        for tag, value in self.payload_fields(amount=1, billing_code="0"):
            build([(tag, value)])  # every value fits its field: printable ASCII, 1-99 characters

    def payload_fields(self, *, amount: int, billing_code: str) -> list[Field]:
        """The payload's fields before the CRC, for ``amount`` rupiah and the bill ``billing_code``."""
        return [
            ("00", PAYLOAD_FORMAT),
            ("01", DYNAMIC),
            (
                "26",
                [
                    ("00", self.acquirer_guid),
                    ("01", self.merchant_pan),
                    ("02", self.merchant_id),
                    ("03", self.merchant_criteria),
                ],
            ),
            ("51", [("00", QRIS_GUID), ("02", self.nmid), ("03", self.merchant_criteria)]),
            ("52", self.merchant_category_code),
            ("53", RUPIAH),
            ("54", str(amount)),
            ("58", "ID"),
            ("59", self.name),
            ("60", self.city),
            ("61", self.postal_code),
            ("62", [("01", billing_code)]),
        ]


def dynamic_payload(merchant: Merchant, amount: int, billing_code: str) -> str:
    """The dynamic QRIS payload asking ``amount`` whole rupiah for the bill with ``billing_code``, CRC included."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueError(f"amount: a positive whole number of rupiah, got {amount!r}")
    if not (billing_code.isascii() and billing_code.isdigit()):
        raise ValueError(f"billing_code: digits only, got {billing_code!r}")
    body = build(merchant.payload_fields(amount=amount, billing_code=billing_code)) + _CRC_PREFIX
    return f"{body}{crc16_ccitt_false(body.encode('ascii')):04X}"


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """The payload as a QR code PNG (error correction M, the four-module quiet zone), for the citizen's pages."""
    code = segno.make(payload, error="m", micro=False)
    image = io.BytesIO()
    code.save(image, kind="png", scale=scale, border=4)
    return image.getvalue()
