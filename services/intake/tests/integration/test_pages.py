"""The citizen's web pages on the real database and broker: every catalogue form renders with a label per field, a
form with errors answers 422 with an error summary linking to each field, a valid form (with a PDF) gives a tracking
code the JSON API knows, and an agency's question is answered on its page (only by the applicant)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.catalogue import FieldType, load_catalogue
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import (
    ApplicationInformationRequested,
    ApplicationStageStarted,
    StageTask,
)
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.i18n import TEXTS
from satupintu.intake.main import create_app
from satupintu.intake.storage.repository import ApplicationRepository
from tests.conftest import running
from tests.support import produce, record_of

pytestmark = pytest.mark.integration

NIK = "3171015506900002"


@dataclass
class Element:
    tag: str
    attributes: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    """An HTML page's elements, their attributes and their text, enough to check what a person or a reader sees."""

    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    @classmethod
    def of(cls, response: httpx.Response) -> Page:
        page = cls()
        page.feed(response.text)
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in {"input", "meta", "link", "br", "img"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def by_id(self, element_id: str) -> Element:
        [found] = [element for element in self.elements if element.attributes.get("id") == element_id]
        return found

    def all(self, tag: str, **attributes: str) -> list[Element]:
        return [
            element
            for element in self.elements
            if element.tag == tag and all(element.attributes.get(k) == v for k, v in attributes.items())
        ]

    def labelled(self, element_id: str) -> bool:
        return bool(self.all("label", **{"for": element_id}))

    def error_summary(self) -> Element:
        [summary] = [
            element for element in self.elements if "error-summary" in element.attributes.get("class", "").split()
        ]
        return summary

    def summary_links(self) -> list[str]:
        links = [element for element in self.elements if element.tag == "a" and element.attributes["href"]]
        inside = self.error_summary().text
        return [link.attributes["href"] for link in links if link.attributes["href"][:1] == "#" and link.text in inside]


@pytest.fixture
async def settings(make_settings: Callable[..., Any], tmp_path: Path) -> IntakeSettings:
    built: IntakeSettings = await make_settings(IntakeSettings, "intake", documents_dir=tmp_path)
    return built


def pdf(label: str = "ktp") -> tuple[str, bytes, str]:
    return (f"{label}.pdf", f"%PDF-1.4 {label} {uuid.uuid4()}".encode(), "application/pdf")


def skck_form(**changes: str) -> dict[str, str]:
    return {
        "applicant-nik": NIK,
        "applicant-name": "Siti Rahayu",
        "applicant-email": "siti@example.id",
        "applicant-phone": "",
        "applicant-language": "id",
        "data-purpose": "Melamar pekerjaan",
        "data-address": "Jl. Merdeka No. 1, Jakarta",
        **changes,
    }


def tracking_code_on(response: httpx.Response) -> str:
    match = re.search(r'id="tracking-code">\s*([A-Z0-9-]+)\s*<', response.text)
    assert match, response.text
    return match.group(1)


def test_both_languages_have_every_text() -> None:
    assert TEXTS["id"].keys() == TEXTS["en"].keys()


async def test_every_service_form_renders_its_fields_with_labels_in_both_languages(settings: IntakeSettings) -> None:
    catalogue = load_catalogue()
    async with running(create_app(settings)) as client:
        listing = await client.get("/")
        english_listing = await client.get("/?lang=en")
        forms = {
            (service.code, language): await client.get(f"/apply/{service.code}?lang={language}")
            for service in catalogue.services
            for language in ("id", "en")
        }
        unknown = await client.get("/apply/no-such-service")
        stylesheet = await client.get("/static/site.css")

    assert listing.status_code == 200
    assert 'lang="id"' in listing.text
    assert "Surat Keterangan Catatan Kepolisian (SKCK)" in listing.text
    assert "Police Clearance Certificate (SKCK)" in english_listing.text
    assert "Done in 3 working days" in english_listing.text
    assert 'name="viewport"' in listing.text
    assert "SameSite=lax" in english_listing.headers["set-cookie"]
    assert "default-src 'none'" in listing.headers["content-security-policy"]
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert ":focus" in stylesheet.text
    for service in catalogue.services:
        for language in ("id", "en"):
            answer = forms[(service.code, language)]
            assert answer.status_code == 200, (service.code, answer.text)
            page = Page.of(answer)
            assert len(page.all("main")) == 1
            assert [h.text.strip() for h in page.all("h1")], service.code
            for definition in service.fields:
                element_id = f"field-data-{definition.name}"
                assert page.by_id(element_id).tag == "input"
                if definition.type is FieldType.ENUM:
                    legends = [legend.text for legend in page.all("legend")]
                    assert any(definition.label.in_language(language) in legend for legend in legends)
                else:
                    assert page.labelled(element_id), (service.code, element_id)
                    assert definition.label.in_language(language) in page.all("label", **{"for": element_id})[0].text
            for requirement in service.documents:
                assert page.by_id(f"field-document-{requirement.name}").attributes["type"] == "file"
                assert page.labelled(f"field-document-{requirement.name}")
            for element_id in ("field-applicant-nik", "field-applicant-name", "field-consent-reuse"):
                assert page.labelled(element_id)
    assert unknown.status_code == 404


async def test_form_with_errors_answers_422_with_a_summary_linking_to_each_field(settings: IntakeSettings) -> None:
    async with running(create_app(settings)) as client:
        indonesian = await client.post("/apply/skck", data=skck_form(**{"applicant-nik": "1234", "data-purpose": " "}))
        english = await client.post(
            "/apply/skck?lang=en",
            data=skck_form(**{"applicant-email": "siti-at-example", "applicant-phone": "12"}),
            files={"document-ktp": ("ktp.txt", b"just text", "text/plain")},
        )
        oversized = await client.post(
            "/apply/skck?lang=en",
            content=b"x" * 100,
            headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(10**9)},
        )
        numbers = await client.post(
            "/apply/pbg?lang=id",
            data={"data-floors": "dua", "data-floor_area_m2": "120,5", "data-building_function": "hunian"},
        )

    assert indonesian.status_code == 422
    page = Page.of(indonesian)
    summary = page.error_summary()
    assert summary.attributes["role"] == "alert"
    assert "Ada masalah" in summary.text
    assert page.summary_links() == ["#field-applicant-nik", "#field-data-purpose", "#field-document-ktp"]
    for link in page.summary_links():
        target = page.by_id(link.removeprefix("#"))
        assert f"{link.removeprefix('#')}-error" in target.attributes["aria-describedby"]
        assert target.attributes.get("aria-invalid") == "true"
    assert "Isi NIK dengan 16 angka seperti pada KTP" in page.by_id("field-applicant-nik-error").text
    assert "Isi keperluan" in page.by_id("field-data-purpose-error").text
    assert "Unggah KTP" in page.by_id("field-document-ktp-error").text
    assert page.by_id("field-applicant-name").attributes["value"] == "Siti Rahayu"
    assert page.all("title")[0].text.startswith("Kesalahan: ")

    assert english.status_code == 422
    english_page = Page.of(english)
    assert "There is a problem" in english_page.error_summary().text
    assert english_page.summary_links() == ["#field-applicant-email", "#field-applicant-phone", "#field-document-ktp"]
    assert "Identity card must be a JPG, PNG or PDF" in english_page.by_id("field-document-ktp-error").text

    assert oversized.status_code == 413
    assert "The files are too large" in oversized.text

    number_page = Page.of(numbers)
    assert "Jumlah lantai harus berupa bilangan bulat" in number_page.by_id("field-data-floors-error").text
    assert "#field-data-floor_area_m2" not in number_page.summary_links()
    assert number_page.by_id("field-data-floor_area_m2").attributes["value"] == "120,5"


async def test_valid_form_with_a_pdf_gives_a_tracking_code_the_api_knows(settings: IntakeSettings) -> None:
    async with running(create_app(settings)) as client:
        first_try = await client.post(
            "/apply/skck?lang=en", data=skck_form(**{"applicant-name": ""}), files={"document-ktp": pdf()}
        )
        kept = Page.of(first_try).all("input", name="document-ktp-kept")[0].attributes["value"]
        sent = await client.post("/apply/skck?lang=en", data=skck_form(**{"document-ktp-kept": kept}))
        confirmation = await client.get(sent.headers["location"])
        code = tracking_code_on(confirmation)
        api = await client.get(f"/applications/{code}")
        status = await client.get(f"/track/{code.lower()}")
        tracked = await client.get("/track", params={"code": f" {code.lower()} "})
        unknown = await client.get("/track", params={"code": "SP-NOPE0-000000-000000"})
        npwp = await client.post(
            "/apply/npwp",
            data={
                **{key: value for key, value in skck_form().items() if key.startswith("applicant")},
                "data-occupation": "Guru",
                "data-monthly_income": "5.000.000",
                "data-address": "Jl. Sudirman 5",
            },
            follow_redirects=True,
        )
        npwp_api = await client.get(f"/applications/{tracking_code_on(npwp)}")

    assert first_try.status_code == 422
    assert "Uploaded: ktp.pdf" in first_try.text
    assert sent.status_code == 303
    assert confirmation.status_code == 200
    assert "Application sent" in confirmation.text
    assert f'href="/track/{code}"' in confirmation.text
    assert api.status_code == 200
    assert api.json()["service_code"] == "skck"
    assert status.status_code == 200
    assert "Received" in Page.of(status).by_id("application-state").text
    assert "Application received" in status.text
    assert "S. R." in status.text
    assert "Siti" not in status.text
    assert (tracked.status_code, tracked.headers["location"]) == (303, f"/track/{code}")
    assert unknown.status_code == 404
    assert "#field-code" in Page.of(unknown).summary_links()
    assert npwp_api.status_code == 200


async def test_applicant_answers_the_agency_question_on_its_page(
    settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_app(settings)
    async with running(app) as client:
        sent = await client.post("/apply/skck", data=skck_form(), files={"document-ktp": pdf()}, follow_redirects=True)
        code = tracking_code_on(sent)
        submitted = (await client.get(f"/applications/{code}")).json()
        before = await client.get(f"/track/{code}/answer")
        tasks = await _ask(kafka_settings, app, code, client)
        asked = await client.get(f"/track/{code}/answer?lang=en")
        stranger = await client.post(
            f"/track/{code}/answer?lang=en", data={"answer-nik": "3171014107900003", "answer-message": "Sudah"}
        )
        empty = await client.post(f"/track/{code}/answer?lang=id", data={"answer-nik": NIK})
        answered = await client.post(
            f"/track/{code}/answer",
            data={"answer-nik": NIK, "data-address": "Jl. Merdeka No. 1 RT 02/RW 03", "answer-message": "Sudah"},
        )
        status = await client.get(answered.headers["location"])
        again = await client.get(f"/track/{code}/answer")

    assert submitted["status"] == "submitted"
    assert "Tidak ada pertanyaan" in before.text
    assert tasks[0]["questions"] == ["Alamat lengkap dengan RT/RW?"]
    assert asked.status_code == 200
    assert "Alamat lengkap dengan RT/RW?" in asked.text
    assert stranger.status_code == 403
    assert Page.of(stranger).summary_links() == ["#field-answer-nik"]
    assert "This NIK is not the applicant's NIK" in Page.of(stranger).by_id("field-answer-nik-error").text
    assert empty.status_code == 422
    assert Page.of(empty).summary_links() == ["#field-answer-message"]
    assert answered.status_code == 303
    assert "Jawaban Anda sudah diteruskan" in status.text
    assert "Tidak ada pertanyaan" in again.text


async def _ask(kafka: KafkaSettings, app: FastAPI, code: str, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Publish routing's events for a polres question on the application; wait until intake shows it."""
    application_id = await _application_id(app, code)
    now = datetime.now(UTC)
    task_id = str(uuid.uuid4())

    def event(payload: Any) -> Event[Any]:
        return Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="service:routing")

    started = ApplicationStageStarted(
        application_id=application_id,
        stage_index=0,
        stage_name="pemeriksaan",
        stage_count=1,
        tasks=(StageTask(task_id=task_id, agency="polres", due_at=now + timedelta(days=3)),),
        started_at=now,
    )
    question = ApplicationInformationRequested(
        application_id=application_id,
        task_id=task_id,
        agency="polres",
        questions=("Alamat lengkap dengan RT/RW?",),
        requested_at=now,
    )
    await produce(kafka, Topic.APPLICATIONS.name_for(), [record_of(event(started)), record_of(event(question))])

    async def status() -> dict[str, Any]:
        body: dict[str, Any] = (await client.get(f"/applications/{code}")).json()
        return body

    waiting = await eventually(status, lambda body: body["status"] == "information_requested", what="question shown")
    tasks: list[dict[str, Any]] = waiting["tasks"]
    return tasks


async def _application_id(app: FastAPI, code: str) -> str:
    """The application's id, which pages and the status API never show, as intake stored it."""
    async with app.state.runtime.sessions() as session:
        record = await ApplicationRepository(session).by_tracking_code(code)
    assert record is not None
    return record.id
