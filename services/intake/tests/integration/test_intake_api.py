"""Intake's HTTP contract on the real broker and database: the catalogue, accepting an application and announcing it
as a CloudEvent, personal data kept only as ciphertext, Idempotency-Key replays and conflicts, and the rate limit."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import find, settings
from sqlalchemy import ColumnElement, func, text
from sqlmodel import SQLModel, col, select

from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.outbox import OutboxMessage
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import from_record
from satupintu.devtools.testing.json_schema import closed_objects
from satupintu.devtools.testing.kafka import Record, end_offsets, read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sealing import opened_submission, reader_keys
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from satupintu.intake.storage.tables import ApplicationRecord
from tests.conftest import running
from tests.support import upload_document

pytestmark = pytest.mark.integration

PROBLEM_MEDIA_TYPE = "application/problem+json"
TRACKING_CODE = re.compile(r"^SP-[0-9A-Z]{5}-[0-9A-Z]{6}-[0-9A-Z]{6}$")

NIK = "3171015506900002"
NAME = "Siti Rahayu"
EMAIL = "siti.rahayu@example.id"
PHONE = "081234567890"
ADDRESS = "Jl. Merdeka No. 1, Jakarta"


@dataclass
class Intake:
    """The intake service running against the session's broker and database, with known data keys."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: IntakeSettings
    cipher: FieldCipher
    hasher: KeyedHasher
    ktp: str

    @property
    def bootstrap_servers(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def applications_topic(self) -> str:
        return self.settings.kafka.topic_name("applications")

    def skck(self, **data: str) -> dict[str, Any]:
        """A valid SKCK application with phone and e-mail, whose KTP is uploaded."""
        return {
            "service_code": "skck",
            "applicant": {"nik": NIK, "name": NAME, "email": EMAIL, "phone": PHONE, "language": "id"},
            "data": {"purpose": "Melamar pekerjaan", "address": ADDRESS, **data},
            "documents": [{"name": "ktp", "sha256": self.ktp}],
            "consent_reuse": False,
        }

    async def count(self, table: type[SQLModel], *conditions: ColumnElement[bool]) -> int:
        """Rows of ``table`` (that meet ``conditions``)."""
        statement = select(func.count()).select_from(table).where(*conditions)
        async with self.app.state.runtime.engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def published_since(self, offsets: dict[int, int], application_id: str) -> list[Record]:
        """The records of the applications topic since ``offsets``, once ``application_id``'s is among them and the
        outbox is drained (so everything committed before it is on the topic too)."""
        key = application_id.encode()

        async def records() -> list[Record]:
            return await read_to_end(self.bootstrap_servers, self.applications_topic, since=offsets)

        async def outbox_rows() -> int:
            return await self.count(OutboxMessage)

        await eventually(records, lambda found: any(r.key == key for r in found), what=f"{application_id} published")
        await eventually(outbox_rows, lambda rows: rows == 0, what="outbox drained")
        return await records()


async def relay_active(app: FastAPI) -> bool:
    active: bool = app.state.runtime.relay.is_active
    return active


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def intake_settings(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, root: Path, **overrides: Any
) -> IntakeSettings:
    await service_database(database_settings, "intake")
    return IntakeSettings(
        kafka=kafka_settings,
        database=database_settings,
        documents_dir=root / "documents",
        auth=AuthSettings(keys_dir=root / "keys"),
        **overrides,
    )


@pytest.fixture(scope="module")
async def intake(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Intake]:
    data_key, lookup_key = random_key(), random_key()
    settings = await intake_settings(
        kafka_settings,
        database_settings,
        tmp_path_factory.mktemp("intake-api"),
        encryption_keys=f"test1:{data_key}",
        lookup_hash_key=lookup_key,
        rate_limit_per_minute=0,
    )
    app = create_app(settings)
    async with running(app) as client:
        await eventually(lambda: relay_active(app), what="intake's outbox relay active")
        yield Intake(
            app,
            client,
            settings,
            FieldCipher.from_spec(f"test1:{data_key}"),
            KeyedHasher(base64.b64decode(lookup_key)),
            await upload_document(client, "ktp"),
        )


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith(f"/{problem_type}"), problem
    assert problem["status"] == status
    return problem


async def test_catalogue_lists_at_least_eight_services(intake: Intake) -> None:
    response = await intake.client.get("/services")

    assert response.status_code == 200, response.text
    services = response.json()
    assert len(services) >= 8
    assert {"nib", "pbg", "skck", "paspor"} <= {service["code"] for service in services}
    assert all(set(service["name"]) == {"id", "en"} for service in services)


async def test_service_publishes_its_form_as_json_schema_and_its_stages(intake: Intake) -> None:
    response = await intake.client.get("/services/pbg")

    assert response.status_code == 200, response.text
    service = response.json()
    floors = service["form_schema"]["properties"]["floors"]
    assert (floors["type"], floors["minimum"], floors["maximum"]) == ("integer", 1, 100)
    assert "floors" in service["form_schema"]["required"]
    assert [stage["name"] for stage in service["stages"]] == ["kajian-teknis", "penerbitan"]
    assert sorted(service["stages"][0]["agencies"]) == ["dinas-pupr", "dlh"]
    assert [document["name"] for document in service["documents"]] == ["building_plan", "land_certificate"]
    assert service["applicant_kinds"] == ["person", "business"]
    assert [document["name"] for document in service["business_documents"]] == ["surat_kuasa"]


async def test_a_form_generated_from_the_published_schema_is_accepted(intake: Intake) -> None:
    published = (await intake.client.get("/services/npwp")).json()["form_schema"]
    # The simplest form hypothesis-jsonschema draws: every value at the published edge (one character, income 0).
    form = find(closed_objects(published), lambda _: True, settings=settings(database=None))
    body = {**intake.skck(), "service_code": "npwp", "data": form, "documents": []}

    response = await intake.client.post("/applications", json=body)

    assert response.status_code == 202, (form, response.text)


async def test_service_only_for_persons_publishes_no_business_documents(intake: Intake) -> None:
    response = await intake.client.get("/services/skck")

    assert response.status_code == 200, response.text
    assert response.json()["applicant_kinds"] == ["person"]
    assert response.json()["business_documents"] == []


async def test_unknown_service_is_a_404_problem(intake: Intake) -> None:
    response = await intake.client.get("/services/izin-tambang-emas")

    problem = assert_problem(response, 404, "unknown-service")
    assert "izin-tambang-emas" in problem["detail"]


async def test_valid_application_is_accepted_and_published_as_a_cloudevent(intake: Intake) -> None:
    offsets = await end_offsets(intake.bootstrap_servers, intake.applications_topic)
    body = intake.skck()

    response = await intake.client.post("/applications", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"application_id", "tracking_code", "status", "submitted_at", "verification_id"}
    assert accepted["verification_id"] is None  # nothing kept for reuse, so no code sent
    assert accepted["status"] == "submitted"
    assert TRACKING_CODE.fullmatch(accepted["tracking_code"]), accepted["tracking_code"]
    application_id = accepted["application_id"]
    assert uuid.UUID(application_id)
    submitted_at = datetime.fromisoformat(accepted["submitted_at"])
    assert submitted_at.tzinfo is not None

    published = await intake.published_since(offsets, application_id)
    [record] = [record for record in published if record.key == application_id.encode()]
    assert {
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "ce_dataschema",
        "content-type",
        "ce_actor",
        "ce_correlationid",
    } <= set(record.headers)
    assert record.header("ce_type") == "application.submitted"
    assert record.header("ce_subject") == application_id
    assert record.header("ce_source") == "/satupintu/intake"
    assert record.header("ce_specversion") == "1.0"
    assert record.header("content-type") == "application/json"
    assert record.header("ce_actor") == "citizen"
    assert record.header("ce_dataschema") == ApplicationSubmitted.dataschema()
    assert record.header("ce_correlationid") == record.header("ce_id")  # the first event of its story
    assert datetime.fromisoformat(record.header("ce_time") or "").tzinfo is not None

    event = from_record(record.headers, record.value, record.key)
    sealed = event.payload
    assert isinstance(sealed, ApplicationSubmitted)
    assert NIK not in record.value.decode()
    assert sealed.applicant.citizen == intake.hasher.hash(NIK)
    keys = await reader_keys(intake.settings.kafka, intake.settings.auth.keys_dir)
    payload = opened_submission(sealed, keys)
    assert event.subject == application_id
    assert (payload.application_id, payload.tracking_code) == (application_id, accepted["tracking_code"])
    assert payload.service_code == "skck"
    assert payload.submitted_at == submitted_at
    assert dict(payload.data) == body["data"]
    assert [(document.name, document.sha256) for document in payload.documents] == [("ktp", intake.ktp)]
    assert (payload.applicant.nik, payload.applicant.language) == (NIK, "id")


async def test_personal_data_is_stored_only_as_ciphertext(intake: Intake) -> None:
    response = await intake.client.post("/applications", json=intake.skck())
    assert response.status_code == 202, response.text
    application_id = response.json()["application_id"]

    async with intake.app.state.runtime.engine.connect() as connection:
        row = (
            await connection.execute(select(ApplicationRecord).where(col(ApplicationRecord.id) == application_id))
        ).one()
        row_text = await connection.scalar(
            text("SELECT a::text FROM applications AS a WHERE a.id = :id"), {"id": application_id}
        )

    ciphertexts = {
        "nik": (row.nik_ciphertext, NIK),
        "name": (row.name_ciphertext, NAME),
        "email": (row.email_ciphertext, EMAIL),
        "phone": (row.phone_ciphertext, PHONE),
    }
    for column, (ciphertext, plaintext) in ciphertexts.items():
        assert ciphertext.startswith("v1.test1."), (column, ciphertext)
        assert intake.cipher.decrypt(ciphertext, f"applications.{column}") == plaintext
    assert row.nik_hash == intake.hasher.hash(NIK)
    assert row.nik_hash != hashlib.sha256(NIK.encode()).hexdigest()
    assert json.loads(intake.cipher.decrypt(row.personal_data_ciphertext, "applications.personal_data")) == {
        "address": ADDRESS
    }
    assert row.data == {"purpose": "Melamar pekerjaan"}
    for plaintext in (NIK, NAME, EMAIL, PHONE, ADDRESS):
        assert plaintext not in row_text, f"{plaintext!r} is readable in the applications row"


async def test_same_idempotency_key_and_body_replays_the_answer_and_creates_nothing(intake: Intake) -> None:
    applications_before = await intake.count(ApplicationRecord)
    offsets = await end_offsets(intake.bootstrap_servers, intake.applications_topic)
    key = str(uuid.uuid4())
    body = intake.skck()

    first = await intake.client.post("/applications", json=body, headers={"Idempotency-Key": key})
    second = await intake.client.post("/applications", json=body, headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    application_id = first.json()["application_id"]
    assert await intake.count(ApplicationRecord) == applications_before + 1
    assert await intake.count(ApplicationRecord, col(ApplicationRecord.id) == application_id) == 1
    published = await intake.published_since(offsets, application_id)
    assert [record.key for record in published] == [application_id.encode()]


async def test_replay_recognises_the_same_body_written_differently(intake: Intake) -> None:
    key = str(uuid.uuid4())
    body = intake.skck()
    reordered = {name: copy.deepcopy(body[name]) for name in reversed(list(body))}

    first = await intake.client.post("/applications", json=body, headers={"Idempotency-Key": key})
    second = await intake.client.post(
        "/applications",
        content=json.dumps(reordered, indent=2).encode(),
        headers={"Idempotency-Key": key, "content-type": "application/json; charset=utf-8"},
    )

    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["application_id"] == first.json()["application_id"]


async def test_same_idempotency_key_with_another_body_is_a_409_problem_and_creates_nothing(intake: Intake) -> None:
    key = str(uuid.uuid4())
    first = await intake.client.post("/applications", json=intake.skck(), headers={"Idempotency-Key": key})
    assert first.status_code == 202, first.text
    applications_after_first = await intake.count(ApplicationRecord)

    other = await intake.client.post(
        "/applications", json=intake.skck(purpose="Melanjutkan studi"), headers={"Idempotency-Key": key}
    )

    problem = assert_problem(other, 409, "idempotency-key-reused")
    assert "Idempotent-Replayed" not in other.headers
    assert "application_id" not in problem
    assert await intake.count(ApplicationRecord) == applications_after_first


async def test_posts_beyond_the_burst_are_rate_limited_with_retry_after(
    intake: Intake,
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    tmp_path: Path,
) -> None:
    settings = await intake_settings(
        kafka_settings, database_settings, tmp_path, rate_limit_per_minute=60, rate_limit_burst=3
    )
    limited = create_app(settings)
    async with running(limited) as client:
        answers = [
            await client.post("/applications", json=intake.skck(), headers={"Idempotency-Key": str(uuid.uuid4())})
            for _ in range(4)
        ]
        catalogue = await client.get("/services")

    assert [answer.status_code for answer in answers[:3]] == [202, 202, 202], [a.text for a in answers]
    assert_problem(answers[3], 429, "rate-limited")
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert catalogue.status_code == 200  # reads are not limited
