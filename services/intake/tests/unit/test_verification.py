"""The verification page's rules: a document expires when its last valid day has ended in Jakarta, any spelling of
a UUID names the same document and anything else none, and JSON is answered only when asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from starlette.requests import Request

from satupintu.intake.domain import pdf_filename
from satupintu.intake.issued import document_key, is_expired
from satupintu.intake.web.verify import wants_json

pytestmark = pytest.mark.unit

DOCUMENT_ID = "5f0c8a2e-9b1d-4c3e-8f7a-6d2b1e0c9a84"


def test_a_document_expires_when_its_last_valid_day_has_ended_in_jakarta() -> None:
    last_day = date(2026, 8, 14)

    assert not is_expired(last_day, datetime(2026, 8, 14, 16, 59, 59, tzinfo=UTC))  # 23:59:59 WIB
    assert is_expired(last_day, datetime(2026, 8, 14, 17, 0, tzinfo=UTC))  # 00:00 WIB the next day
    assert not is_expired(None, datetime(2999, 1, 1, tzinfo=UTC))


def test_any_spelling_of_a_uuid_names_the_document_and_anything_else_none() -> None:
    for spelling in (DOCUMENT_ID, DOCUMENT_ID.upper(), DOCUMENT_ID.replace("-", ""), f"{{{DOCUMENT_ID}}}"):
        assert document_key(spelling) == DOCUMENT_ID
    for other in ("", "not-a-document", DOCUMENT_ID[:-1], "' OR 1=1 --", "0" * 300):
        assert document_key(other) is None


def _request(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/verify/x", "headers": headers, "query_string": b""})


@pytest.mark.parametrize(
    ("accept", "answer_format", "json"),
    [
        (None, None, False),
        ("*/*", None, False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None, False),
        ("application/json", None, True),
        ("application/problem+json, application/json", None, True),
        ("application/json, text/html", None, False),
        ("text/html", "json", True),
        ("application/json", "html", False),
        (None, "JSON", True),
    ],
)
def test_json_is_answered_only_when_asked_for(accept: str | None, answer_format: str | None, json: bool) -> None:
    assert wants_json(_request(accept), answer_format) is json


@pytest.mark.parametrize(
    ("number", "filename"),
    [
        ("SKCK/000017/2026/POLRES", "SKCK-000017-2026-POLRES.pdf"),
        ('AKL "x"\r\nSet-Cookie: a=b', "AKL-x-Set-Cookie-a-b.pdf"),
        ("../../etc/passwd", "etc-passwd.pdf"),
        ("Nomor Ü 5", "Nomor-5.pdf"),
        ("///", "document.pdf"),
    ],
)
def test_a_downloads_file_name_is_its_number_with_nothing_a_header_or_path_should_not_hold(
    number: str, filename: str
) -> None:
    assert pdf_filename(number) == filename
