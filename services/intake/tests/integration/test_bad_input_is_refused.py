"""``POST /applications`` refuses bad input with an RFC 9457 problem that names the problem and the field, and a
refused request stores nothing and publishes nothing: proven by row counts and topic end offsets, not by waiting."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, func
from sqlmodel import SQLModel, col, select

from satupintu.common.outbox import OutboxMessage
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.kafka import end_offsets, read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from satupintu.intake.storage.tables import ApplicationRecord
from tests.conftest import running
from tests.support import upload_document

pytestmark = pytest.mark.integration

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 2048

MAN_NIK = "3171011506900003"  # born 15-06-1990
WOMAN_NIK = "3171017101950004"  # women's day plus 40: born 31-01-1995


@dataclass(frozen=True)
class ValidBodies:
    """One valid application per service the table bends, its documents uploaded; each case changes one thing."""

    skck: dict[str, Any]
    nib: dict[str, Any]
    pbg: dict[str, Any]

    def of(self, service: str) -> dict[str, Any]:
        """A fresh copy of the valid body for ``service``, to change."""
        body: dict[str, Any] = copy.deepcopy(getattr(self, service))
        return body


RequestBuilder = Callable[[ValidBodies], dict[str, Any]]
"""Builds the keyword arguments of ``client.post("/applications", ...)`` from the valid bodies."""


class Case(NamedTuple):
    """One bad request and the problem it must be answered with."""

    id: str
    build: RequestBuilder
    status: int
    problem: str
    field: str | None
    bug: str | None = None


def as_json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "headers": {"content-type": "application/json"}}


def raw(content: bytes, content_type: str | None = "application/json") -> RequestBuilder:
    headers = {"content-type": content_type} if content_type else {}
    return lambda _valid: {"content": content, "headers": headers}


def _parent(body: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = path.split("/")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    return target, int(last) if isinstance(target, list) else last


def changed(service: str, path: str, value: Any) -> RequestBuilder:
    """The valid ``service`` body with the value at ``path`` (e.g. ``applicant/nik``) replaced."""

    def build(valid: ValidBodies) -> dict[str, Any]:
        body = valid.of(service)
        target, key = _parent(body, path)
        target[key] = value
        return as_json(body)

    return build


def removed(service: str, path: str) -> RequestBuilder:
    """The valid ``service`` body without the member at ``path``."""

    def build(valid: ValidBodies) -> dict[str, Any]:
        body = valid.of(service)
        target, key = _parent(body, path)
        del target[key]
        return as_json(body)

    return build


def added(service: str, path: str, value: Any) -> RequestBuilder:
    """The valid ``service`` body with one more member at ``path``."""
    return changed(service, path, value)


def with_header(name: str, value: str) -> RequestBuilder:
    def build(valid: ValidBodies) -> dict[str, Any]:
        request = as_json(valid.of("skck"))
        request["headers"][name] = value
        return request

    return build


def oversized(*, declared_length: bool) -> RequestBuilder:
    """A well-formed JSON body of 3000 bytes, sent with its length or streamed without it (chunked)."""
    shell = json.dumps({"service_code": "skck", "padding": ""}).encode()
    content = json.dumps({"service_code": "skck", "padding": "x" * (3000 - len(shell))}).encode()
    assert len(content) == 3000

    def build(_valid: ValidBodies) -> dict[str, Any]:
        if declared_length:
            return {"content": content, "headers": {"content-type": "application/json"}}

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(content), 500):
                yield content[start : start + 500]

        return {"content": chunks(), "headers": {"content-type": "application/json"}}

    return build


def nested_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


CASES = [
    # The body is not JSON, or not sent as JSON, or too large or too deep to read.
    Case("malformed-json", raw(b'{"service_code": "skck", "applicant": '), 400, "malformed-json", None),
    Case("empty-body", raw(b""), 400, "malformed-json", None),
    Case("body-not-utf8", raw(b'{"service_code": "sk\xffck"}'), 400, "malformed-json", None),
    Case(
        "body-in-utf16",
        raw(json.dumps({"service_code": "skck"}).encode("utf-16")),
        400,
        "malformed-json",
        None,
    ),
    Case(
        "body-with-nan",
        changed("pbg", "data/floor_area_m2", float("nan")),
        400,
        "malformed-json",
        None,
    ),
    Case(
        "content-type-text-plain", raw(b'{"service_code": "skck"}', "text/plain"), 415, "unsupported-media-type", None
    ),
    Case(
        "content-type-form-urlencoded",
        raw(b"service_code=skck&consent_reuse=false", "application/x-www-form-urlencoded"),
        415,
        "unsupported-media-type",
        None,
    ),
    Case("content-type-missing", raw(b'{"service_code": "skck"}', None), 415, "unsupported-media-type", None),
    Case("body-too-large", oversized(declared_length=True), 413, "payload-too-large", None),
    Case("body-too-large-streamed", oversized(declared_length=False), 413, "payload-too-large", None),
    Case("nesting-50-levels", changed("skck", "data/purpose", nested_list(50)), 400, "nesting-too-deep", None),
    # The envelope of the application.
    Case("unknown-service", changed("skck", "service_code", "sim-baru"), 422, "validation-error", "service_code"),
    Case("missing-service-code", removed("skck", "service_code"), 422, "validation-error", "service_code"),
    Case("missing-applicant", removed("skck", "applicant"), 422, "validation-error", "applicant"),
    Case("missing-data", removed("skck", "data"), 422, "validation-error", "data"),
    Case("missing-consent-reuse", removed("skck", "consent_reuse"), 422, "validation-error", "consent_reuse"),
    Case("unknown-top-level-field", added("skck", "tracking_code", "SP-1"), 422, "validation-error", "tracking_code"),
    Case("consent-reuse-yes", changed("skck", "consent_reuse", "yes"), 422, "validation-error", "consent_reuse"),
    Case("applicant-a-string", changed("skck", "applicant", "Siti Rahayu"), 422, "validation-error", "applicant"),
    Case("data-a-list", changed("skck", "data", ["Melamar pekerjaan"]), 422, "validation-error", "data"),
    Case(
        "idempotency-key-too-long",
        with_header("Idempotency-Key", "k" * 201),
        422,
        "validation-error",
        "Idempotency-Key",
    ),
    # The applicant.
    Case("nik-missing", removed("skck", "applicant/nik"), 422, "validation-error", "applicant/nik"),
    Case("nik-a-number", changed("skck", "applicant/nik", int(MAN_NIK)), 422, "validation-error", "applicant/nik"),
    Case("nik-15-digits", changed("skck", "applicant/nik", MAN_NIK[:15]), 422, "validation-error", "applicant/nik"),
    Case("nik-letters", changed("skck", "applicant/nik", "31710115069000AB"), 422, "validation-error", "applicant/nik"),
    Case("nik-day-32", changed("skck", "applicant/nik", "3171013206900003"), 422, "validation-error", "applicant/nik"),
    Case(
        "nik-month-13", changed("skck", "applicant/nik", "3171011513900003"), 422, "validation-error", "applicant/nik"
    ),
    Case(
        "nik-womens-day-72",
        changed("skck", "applicant/nik", "3171017206900003"),
        422,
        "validation-error",
        "applicant/nik",
    ),
    Case(
        "nik-serial-0000",
        changed("skck", "applicant/nik", "3171011506900000"),
        422,
        "validation-error",
        "applicant/nik",
    ),
    Case(
        "nik-province-00",
        changed("skck", "applicant/nik", "0071011506900003"),
        422,
        "validation-error",
        "applicant/nik",
    ),
    Case("email-no-domain", changed("skck", "applicant/email", "siti@"), 422, "validation-error", "applicant/email"),
    Case(
        "email-no-at",
        changed("skck", "applicant/email", "siti.example.id"),
        422,
        "validation-error",
        "applicant/email",
    ),
    Case("phone-too-short", changed("skck", "applicant/phone", "0812345"), 422, "validation-error", "applicant/phone"),
    Case(
        "phone-letters",
        changed("skck", "applicant/phone", "0812abc45678"),
        422,
        "validation-error",
        "applicant/phone",
    ),
    Case(
        "phone-philippine-prefix",
        changed("skck", "applicant/phone", "+639171234567"),
        422,
        "validation-error",
        "applicant/phone",
    ),
    Case("language-fr", changed("skck", "applicant/language", "fr"), 422, "validation-error", "applicant/language"),
    Case("name-empty", changed("skck", "applicant/name", ""), 422, "validation-error", "applicant/name"),
    Case("name-whitespace-only", changed("skck", "applicant/name", "   "), 422, "validation-error", "applicant/name"),
    Case("name-121-chars", changed("skck", "applicant/name", "S" * 121), 422, "validation-error", "applicant/name"),
    Case(
        "name-nul-character",
        changed("skck", "applicant/name", "Siti\u0000"),
        422,
        "validation-error",
        "applicant/name",
    ),
    Case(
        "name-newline",
        changed("skck", "applicant/name", "Siti\nRahayu"),
        422,
        "validation-error",
        "applicant/name",
    ),
    # The service's form.
    Case("data-missing-purpose", removed("skck", "data/purpose"), 422, "validation-error", "data/purpose"),
    Case(
        "data-unknown-field",
        added("skck", "data/favourite_colour", "biru"),
        422,
        "validation-error",
        "data/favourite_colour",
    ),
    Case("data-string-too-long", changed("skck", "data/purpose", "x" * 201), 422, "validation-error", "data/purpose"),
    Case(
        "data-value-a-list",
        changed("skck", "data/purpose", ["Melamar pekerjaan"]),
        422,
        "validation-error",
        "data/purpose",
    ),
    Case(
        "data-value-an-object",
        changed("skck", "data/purpose", {"id": "Melamar pekerjaan"}),
        422,
        "validation-error",
        "data/purpose",
    ),
    Case(
        "enum-value-not-allowed",
        changed("nib", "data/business_scale", "besar"),
        422,
        "validation-error",
        "data/business_scale",
    ),
    Case("pattern-mismatch", changed("nib", "data/kbli", "12a45"), 422, "validation-error", "data/kbli"),
    Case("integer-below-minimum", changed("pbg", "data/floors", 0), 422, "validation-error", "data/floors"),
    Case("integer-given-a-fraction", changed("pbg", "data/floors", 2.5), 422, "validation-error", "data/floors"),
    Case(
        "number-given-as-text",
        changed("pbg", "data/floor_area_m2", "120"),
        422,
        "validation-error",
        "data/floor_area_m2",
    ),
    # The documents.
    Case("required-document-missing", changed("skck", "documents", []), 422, "validation-error", "documents"),
    Case(
        "document-never-uploaded",
        changed("skck", "documents/0/sha256", "0" * 64),
        422,
        "validation-error",
        "documents/0/sha256",
    ),
    Case(
        "document-hash-malformed",
        changed("skck", "documents/0/sha256", "not-a-sha256"),
        422,
        "validation-error",
        "documents/0/sha256",
    ),
    Case(
        "document-not-asked-for",
        changed("skck", "documents/0/name", "kk"),
        422,
        "validation-error",
        "documents/0/name",
    ),
]

TABLE = [
    pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [])
    for case in CASES
]


def mismatches(case: Case, response: httpx.Response) -> list[str]:
    """How ``response`` differs from the problem ``case`` expects; empty when it is that problem."""
    found: list[str] = []
    if response.status_code != case.status:
        found.append(f"status {response.status_code}, expected {case.status}")
    if response.headers.get("content-type") != PROBLEM_MEDIA_TYPE:
        found.append(f"content-type {response.headers.get('content-type')!r}, expected {PROBLEM_MEDIA_TYPE}")
    try:
        problem = response.json()
    except ValueError:
        return [*found, f"body is not JSON: {response.text[:200]!r}"]
    if not str(problem.get("type", "")).endswith(f"/{case.problem}"):
        found.append(f"type {problem.get('type')!r}, expected it to end with /{case.problem}")
    if problem.get("status") != response.status_code:
        found.append(f"problem status {problem.get('status')!r} differs from the HTTP status")
    if case.status == 422:
        errors = problem.get("errors", [])
        fields = [error.get("field") for error in errors]
        if case.field not in fields:
            found.append(f"errors name {fields}, expected {case.field!r} among them")
        if any(set(error) != {"field", "message", "code"} for error in errors):
            found.append(f"errors are not all {{field, message, code}}: {errors}")
    if found:
        found.append(f"body: {response.text[:300]}")
    return found


@dataclass
class Intake:
    """The intake service running against the session's broker and database."""

    app: FastAPI
    client: httpx.AsyncClient
    valid: ValidBodies
    bootstrap_servers: str
    applications_topic: str

    async def submit(self, request: dict[str, Any]) -> httpx.Response:
        """POST an application with a new Idempotency-Key (unless the request brings its own)."""
        headers = {"Idempotency-Key": str(uuid.uuid4()), **request.pop("headers", {})}
        return await self.client.post("/applications", headers=headers, **request)

    async def count(self, table: type[SQLModel], *conditions: ColumnElement[bool]) -> int:
        """Rows of ``table`` (that meet ``conditions``)."""
        statement = select(func.count()).select_from(table).where(*conditions)
        async with self.app.state.runtime.engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)


async def relay_active(app: FastAPI) -> bool:
    active: bool = app.state.runtime.relay.is_active
    return active


@pytest.fixture(scope="module")
async def intake(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Intake]:
    """Intake with a 2048-byte body limit and no rate limit (the table sends many requests from one client)."""
    await service_database(database_settings, "intake")
    root: Path = tmp_path_factory.mktemp("intake-bad-input")
    settings = IntakeSettings(
        kafka=kafka_settings,
        database=database_settings,
        documents_dir=root / "documents",
        auth=AuthSettings(keys_dir=root / "keys"),
        max_body_bytes=MAX_BODY_BYTES,
        rate_limit_per_minute=0,
    )
    app = create_app(settings)
    async with running(app) as client:
        await eventually(lambda: relay_active(app), what="intake's outbox relay active")
        applicant = {"nik": MAN_NIK, "name": "Budi Santoso", "email": "budi@example.id", "language": "id"}
        ktp = await upload_document(client, "ktp")
        valid = ValidBodies(
            skck={
                "service_code": "skck",
                "applicant": {**applicant, "phone": "081234567890"},
                "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
                "documents": [{"name": "ktp", "sha256": ktp}],
                "consent_reuse": False,
            },
            nib={
                "service_code": "nib",
                "applicant": applicant,
                "data": {
                    "business_name": "Warung Budi",
                    "business_scale": "mikro",
                    "kbli": "56103",
                    "business_address": "Jl. Melati No. 2, Jakarta",
                },
                "documents": [{"name": "ktp", "sha256": ktp}],
                "consent_reuse": True,
            },
            pbg={
                "service_code": "pbg",
                "applicant": applicant,
                "data": {
                    "building_function": "hunian",
                    "floor_area_m2": 120.5,
                    "floors": 2,
                    "site_address": "Jl. Kenanga No. 3, Jakarta",
                    "land_certificate_number": "SHM 09.01.02.03.1.01234",
                },
                "documents": [
                    {"name": "building_plan", "sha256": await upload_document(client, "building_plan")},
                    {"name": "land_certificate", "sha256": await upload_document(client, "land_certificate")},
                ],
                "consent_reuse": False,
            },
        )
        yield Intake(app, client, valid, kafka_settings.bootstrap_servers, kafka_settings.topic_name("applications"))


@pytest.mark.parametrize("case", TABLE)
async def test_bad_request_is_refused_with_a_problem_naming_the_field(intake: Intake, case: Case) -> None:
    response = await intake.submit(case.build(intake.valid))

    assert not mismatches(case, response), "\n".join(mismatches(case, response))


@pytest.mark.parametrize("service", ["skck", "nib", "pbg"])
async def test_the_valid_bodies_the_table_bends_are_accepted(intake: Intake, service: str) -> None:
    response = await intake.submit(as_json(intake.valid.of(service)))

    assert response.status_code == 202, response.text


async def test_a_womans_nik_with_day_plus_forty_is_accepted(intake: Intake) -> None:
    response = await intake.submit(changed("skck", "applicant/nik", WOMAN_NIK)(intake.valid))

    assert response.status_code == 202, response.text


async def test_refused_requests_store_nothing_and_publish_nothing(intake: Intake) -> None:
    async def outbox_rows() -> int:
        return await intake.count(OutboxMessage)

    await eventually(outbox_rows, lambda rows: rows == 0, what="outbox drained before the baseline")
    applications_before = await intake.count(ApplicationRecord)
    offsets_before = await end_offsets(intake.bootstrap_servers, intake.applications_topic)

    failing = []
    for case in CASES:
        if case.bug:
            continue
        response = await intake.submit(case.build(intake.valid))
        failing += [f"{case.id}: {mismatch}" for mismatch in mismatches(case, response)]
    assert not failing, "cases not refused as expected:\n" + "\n".join(failing)

    sentinel = await intake.submit(as_json(intake.valid.of("skck")))
    assert sentinel.status_code == 202, sentinel.text
    sentinel_key = sentinel.json()["application_id"].encode()

    async def published_since_baseline() -> list[Any]:
        return await read_to_end(intake.bootstrap_servers, intake.applications_topic, since=offsets_before)

    await eventually(
        published_since_baseline,
        lambda records: any(record.key == sentinel_key for record in records),
        what="the sentinel application published",
    )
    await eventually(outbox_rows, lambda rows: rows == 0, what="outbox drained after the sentinel")
    published = await published_since_baseline()
    assert [(record.key, record.header("ce_type")) for record in published] == [(sentinel_key, "application.submitted")]
    assert await intake.count(ApplicationRecord) == applications_before + 1
    assert await intake.count(ApplicationRecord, col(ApplicationRecord.id) == sentinel_key.decode()) == 1
    assert await intake.count(OutboxMessage) == 0


@pytest.mark.parametrize("verification_id", ["\x00", "not-a-verification", "A" * 36])
async def test_a_code_for_an_id_no_verification_can_have_is_refused_with_the_field_path(
    intake: Intake, verification_id: str
) -> None:
    answer = await intake.client.post(
        "/profile/verification/confirm", json={"verification_id": verification_id, "code": "123456"}
    )

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == ["verification_id"]
