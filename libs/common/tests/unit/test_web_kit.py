"""The page kit every service's pages share (``satupintu.common.web``): the translator's one fallback rule, CSRF
tokens bound to their session, the environment's escaping and strictness, and the upload reader's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO

import httpx
import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import PlainTextResponse
from jinja2 import UndefinedError
from starlette.datastructures import UploadFile
from starlette.middleware.sessions import SessionMiddleware

from satupintu.common.web.csrf import csrf_token, csrf_valid, renew_csrf_token
from satupintu.common.web.dates import clock_time, local_time, numeric_moment
from satupintu.common.web.pages import PAGE_CSP_OWN_IMAGES, page_headers, stylesheet_response
from satupintu.common.web.templates import page_environment
from satupintu.common.web.translator import Translator, switch_url
from satupintu.common.web.uploads import FormLimits, UploadTooLarge, read_form, read_text_form, read_upload

pytestmark = pytest.mark.unit

TEXTS = {
    "id": {"greeting": "Halo, {name}", "only_id": "Hanya bahasa Indonesia", "both": "Dua"},
    "en": {"greeting": "Hello, {name}", "both": "Two"},
}
TEMPLATE_PACKAGE = "satupintu.common.dead_letters"


# ----------------------------------------------------------------------------------------------------------------------
# Translator


def test_a_text_is_said_in_the_asked_language_with_its_values_filled_in() -> None:
    assert Translator(TEXTS, "en")("greeting", name="Siti") == "Hello, Siti"
    assert Translator(TEXTS, "id")("greeting", name="Siti") == "Halo, Siti"


def test_a_text_missing_in_the_asked_language_falls_back_to_indonesian_then_to_its_key() -> None:
    english = Translator(TEXTS, "en")
    assert english("only_id") == "Hanya bahasa Indonesia"
    assert english("nowhere") == "nowhere"
    assert english.has("only_id")
    assert not english.has("nowhere")


def test_a_language_the_pages_do_not_speak_is_read_as_indonesian_and_keeps_no_query() -> None:
    french = Translator(TEXTS, "fr")
    assert (french.language, french("both"), french.query) == ("id", "Dua", "")
    assert Translator(TEXTS, "en").query == "?lang=en"


# ----------------------------------------------------------------------------------------------------------------------
# CSRF tokens


def csrf_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="test-secret")

    @app.get("/form")
    async def form(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    @app.post("/sign-in")
    async def sign_in(request: Request) -> PlainTextResponse:
        return PlainTextResponse(renew_csrf_token(request))

    @app.post("/submit")
    async def submit(request: Request, token: str = Form("")) -> PlainTextResponse:
        return PlainTextResponse(
            "ok" if csrf_valid(request, token) else "refused", 200 if csrf_valid(request, token) else 403
        )

    return app


@pytest.fixture
async def browsers() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    app = csrf_app()
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as first,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as second,
    ):
        yield first, second


async def test_a_form_is_accepted_with_its_own_sessions_token_only(
    browsers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    mine, other = browsers
    my_token = (await mine.get("/form")).text
    await other.get("/form")  # the other browser has a session and a token of its own

    assert (await mine.get("/form")).text == my_token  # stable within the session
    assert (await mine.post("/submit", data={"token": my_token})).status_code == 200
    assert (await other.post("/submit", data={"token": my_token})).status_code == 403
    assert (await mine.post("/submit", data={"token": ""})).status_code == 403


async def test_a_token_known_before_signing_in_is_refused_after_it(
    browsers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    browser, _ = browsers
    before = (await browser.get("/form")).text
    after = (await browser.post("/sign-in")).text

    assert after != before
    assert (await browser.post("/submit", data={"token": before})).status_code == 403
    assert (await browser.post("/submit", data={"token": after})).status_code == 200


async def test_a_form_without_a_session_is_refused() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=csrf_app()), base_url="http://pages") as browser:
        assert (await browser.post("/submit", data={"token": "guessed"})).status_code == 403


# ----------------------------------------------------------------------------------------------------------------------
# Templates and dates


def test_the_environment_escapes_what_a_page_is_given() -> None:
    environment = page_environment(TEMPLATE_PACKAGE)
    assert environment.autoescape("page.html") is True
    rendered = environment.from_string("<p>{{ value }}</p>").render(value='<script>alert("x")</script>')
    assert rendered == "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"


def test_a_name_the_page_was_not_given_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        page_environment(TEMPLATE_PACKAGE).from_string("{{ missing }}").render()


def test_the_shared_filters_write_times_in_the_local_zone() -> None:
    moment = datetime(2026, 11, 20, 16, 59, tzinfo=UTC)
    rendered = page_environment(TEMPLATE_PACKAGE).from_string(
        "{{ at | local_time }} / {{ at | local_time('Asia/Makassar') }} / {{ payload | compact_json }}"
    )
    assert rendered.render(at=moment, payload={"b": 1, "a": "é"}) == (
        "Jum, 20 Nov 2026 23:59 WIB / Sab, 21 Nov 2026 00:59 WITA / {&#34;a&#34;: &#34;é&#34;, &#34;b&#34;: 1}"
    )
    assert (numeric_moment(moment), clock_time(moment), local_time(None)) == ("20-11-2026 23:59", "23:59", "-")


# ----------------------------------------------------------------------------------------------------------------------
# Uploads


async def test_an_upload_within_its_limit_is_read_whole() -> None:
    content = b"x" * 200_000  # more than one chunk
    assert await read_upload(UploadFile(BytesIO(content)), len(content)) == content


async def test_an_upload_over_its_limit_is_refused_while_it_is_read() -> None:
    with pytest.raises(UploadTooLarge) as refused:
        await read_upload(UploadFile(BytesIO(b"x" * 200_001)), 200_000)
    assert refused.value.max_bytes == 200_000


async def test_an_upload_that_declares_a_size_over_its_limit_is_refused_unread() -> None:
    upload = UploadFile(BytesIO(b"x" * 10), size=5_000)
    with pytest.raises(UploadTooLarge):
        await read_upload(upload, 1_000)
    assert upload.file.tell() == 0


async def test_a_form_with_more_files_than_its_limit_is_refused() -> None:
    app = FastAPI()

    @app.post("/form")
    async def form(request: Request) -> PlainTextResponse:
        async with read_form(request, FormLimits(max_fields=5, max_files=1)) as submitted:
            return PlainTextResponse(str(len(submitted)))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as client:
        one = await client.post("/form", data={"name": "a"}, files={"first": ("a.pdf", b"%PDF")})
        two = await client.post("/form", files=[("first", ("a.pdf", b"%PDF")), ("second", ("b.pdf", b"%PDF"))])

    assert (one.status_code, one.text) == (200, "2")
    assert two.status_code == 400


async def test_a_text_form_gives_its_fields_and_refuses_a_file() -> None:
    app = FastAPI()

    @app.post("/form")
    async def form(request: Request) -> PlainTextResponse:
        fields = await read_text_form(request)
        return PlainTextResponse(",".join(f"{name}={value}" for name, value in sorted(fields.items())))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages") as client:
        text = await client.post("/form", data={"service_code": "skck", "nik": "3171"})
        with_file = await client.post("/form", data={"nik": "3171"}, files={"ktp": ("ktp.pdf", b"%PDF")})

    assert (text.status_code, text.text) == (200, "nik=3171,service_code=skck")
    assert with_file.status_code == 400


def test_the_switch_link_keeps_the_query_but_its_language_and_what_a_page_leaves_out() -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/display",
            "query_string": b"lang=id&agency=djp&answered=1",
            "headers": [],
        }
    )

    assert switch_url(request, "en") == "/display?agency=djp&answered=1&lang=en"
    assert switch_url(request, "en", leave_out={"answered"}) == "/display?agency=djp&lang=en"
    assert switch_url(request, "en", path="/board", keep_query=False) == "/board?lang=en"


def test_a_packages_stylesheet_is_served_as_css_browsers_may_keep() -> None:
    answer = stylesheet_response(TEMPLATE_PACKAGE, "static/page.css")
    assert (answer.media_type, answer.headers["Cache-Control"]) == ("text/css", "public, max-age=3600")
    assert answer.body


def test_a_pages_headers_forbid_framing_sniffing_caching_and_referrers_unless_a_service_keeps_them_on_site() -> None:
    headers = page_headers(PAGE_CSP_OWN_IMAGES, referrer_policy="same-origin")

    assert "img-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert (headers["X-Content-Type-Options"], headers["Cache-Control"]) == ("nosniff", "no-store")
    assert headers["Referrer-Policy"] == "same-origin"
    assert page_headers()["Referrer-Policy"] == "no-referrer"
