"""The attacks of issue 17 on the real broker and database, each shown to fail and to change nothing: taking over a
profile with nothing but its NIK; asking whether a NIK has a profile; flooding a NIK with codes and guessing codes
(limits shared by two instances and kept across a restart, locks recorded in the audit log); guessing the NIK of a
tracking code. And the way out for a citizen who lost their contact: a counter clerk's reset, told to both contacts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.auth import Role
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationRequested, ApplicationStageStarted, StageTask
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.sealing import opened_submission, reader_keys
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of, skck_application, wait_for_events

from .conftest import (
    access_records,
    code_sent_to,
    codes_to,
    count,
    new_citizen,
    nik_hash,
    notices,
    npwp,
    relayed_access_records,
    skck_without_address,
    staff_headers,
    verified_citizen,
)

pytestmark = pytest.mark.integration

CODES_PER_HOUR = 3
WRONG_TRIES = 3
PROBLEM = "application/problem+json"
PROFILE_ROWS = "SELECT count(*) FROM citizen_profiles"


@pytest.fixture
async def settings(make_settings: Callable[..., Any], tmp_path: Path) -> IntakeSettings:
    built: IntakeSettings = await make_settings(
        IntakeSettings,
        "intake",
        documents_dir=tmp_path,
        rate_limit_per_minute=0,
        codes_per_nik_per_hour=CODES_PER_HOUR,
        wrong_codes_per_nik=WRONG_TRIES,
        wrong_niks_per_tracking_code=WRONG_TRIES,
    )
    return built


@pytest.fixture
async def intake(settings: IntakeSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


async def profile_state(app: FastAPI) -> list[tuple[Any, ...]]:
    """Every profile as stored: contact, data, verification and last change."""
    async with app.state.runtime.engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT nik_hash, email_ciphertext, phone_ciphertext, fields_ciphertext, language, verified_at, updated_at "
            "FROM citizen_profiles ORDER BY nik_hash"
        )
        return [tuple(row) for row in rows]


def is_lock(problem: httpx.Response, field: str) -> bool:
    """A 429 problem+json naming ``field``, with a Retry-After in whole seconds."""
    return (
        problem.status_code == 429
        and problem.headers["content-type"] == PROBLEM
        and problem.json()["type"].endswith("/locked")
        and [error["field"] for error in problem.json()["errors"]] == [field]
        and int(problem.headers["retry-after"]) > 0
    )


async def test_a_stranger_who_knows_a_nik_cannot_take_over_its_profile(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    victim = await verified_citizen(client, kafka_settings, app)
    before = await profile_state(app)
    _, stranger = new_citizen("attacker.id")

    # The stranger applies with the victim's NIK, consent to reuse, their own e-mail and no code...
    attack = await client.post("/applications", json=npwp(victim.nik, stranger, consent=True, address="Jl. Palsu 9"))
    # ... confirms the code that went to their own address...
    stranger_code_id, stranger_code = await code_sent_to(kafka_settings, stranger)
    confirmed = await client.post(
        "/profile/verification/confirm", json={"verification_id": stranger_code_id, "code": stranger_code}
    )
    # ... tries it to reuse the victim's data, and asks for a code for the NIK.
    reuse = await client.post(
        "/applications",
        json=await skck_without_address(client, victim.nik, stranger, consent_reuse=True, one_time_code=stranger_code),
    )
    asked = await client.post("/profile/verification", json={"nik": victim.nik})
    victim_code_id, victim_code = await code_sent_to(kafka_settings, victim.email, 2)
    after = await profile_state(app)

    assert attack.status_code == 202, attack.text  # their own application stands, and reuses nothing
    assert confirmed.status_code == 200  # the same answer as any right code: it proves their address, not the NIK
    assert reuse.status_code == 422
    assert [error["field"] for error in reuse.json()["errors"]] == ["one_time_code"]
    assert victim_code_id == asked.json()["verification_id"]  # the NIK's code still goes to the victim
    assert await codes_to(kafka_settings, stranger) == [(stranger_code_id, stranger_code)]
    assert after == before  # contact, data, verification: not a byte changed
    [attack_event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), attack.json()["application_id"], "application.submitted"
    )
    assert attack_event.payload.reused_fields == ()
    # The victim still reuses their own data, with the code sent to them.
    own = await client.post(
        "/applications",
        json=await skck_without_address(
            client, victim.nik, victim.email, consent_reuse=True, one_time_code=victim_code
        ),
    )
    assert own.status_code == 202, own.text
    [own_event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), own.json()["application_id"], "application.submitted"
    )
    keys = await reader_keys(kafka_settings, AuthSettings().keys_dir)
    assert opened_submission(own_event.payload, keys).data["address"] == "Jl. Kenanga 5, Samarinda"


async def test_no_answer_tells_whether_a_nik_has_a_profile(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    known = await verified_citizen(client, kafka_settings, app)
    unknown_nik, _ = new_citizen()
    codes_before = await count(app, "SELECT count(*) FROM one_time_codes")

    asked = [await client.post("/profile/verification", json={"nik": nik}) for nik in (known.nik, unknown_nik)]
    wrong = [
        await client.post(
            "/profile/verification/confirm",
            json={"verification_id": answer.json()["verification_id"], "code": "999999"},
        )
        for answer in asked
    ]
    kept = [
        await client.post("/applications", json=npwp(nik, new_citizen()[1], consent=True))
        for nik in (known.nik, unknown_nik)
    ]

    def shape(answer: httpx.Response, *varying: str) -> tuple[int, str, dict[str, Any]]:
        body = answer.json()
        return answer.status_code, answer.headers["content-type"], {k: v for k, v in body.items() if k not in varying}

    assert shape(asked[0], "verification_id", "expires_at") == shape(asked[1], "verification_id", "expires_at")
    assert shape(asked[0], "verification_id", "expires_at") == (
        202,
        "application/json",
        {"sent_to": None, "channel": None, "message": asked[0].json()["message"]},
    )
    assert set(asked[0].json()) == set(asked[1].json())
    assert shape(wrong[0]) == shape(wrong[1])  # a wrong code says nothing about the NIK either
    assert wrong[0].status_code == 422
    assert [shape(answer, "application_id", "tracking_code", "submitted_at", "verification_id") for answer in kept] == [
        (202, "application/json", {"status": "submitted"})
    ] * 2
    assert all(answer.json()["verification_id"] for answer in kept)
    # Both NIKs recorded a code through the same path (and each application one for its contact); only the known
    # NIK's went anywhere: its contact on file.
    assert await count(app, "SELECT count(*) FROM one_time_codes") == codes_before + 4
    delivered_id, _ = await code_sent_to(kafka_settings, known.email, 2)
    assert delivered_id == asked[0].json()["verification_id"]
    for answer in kept:  # delivered after the unknown NIK's code would have been
        await _recipient_of(kafka_settings, answer.json()["verification_id"])
    assert asked[1].json()["verification_id"] not in {n["verification_id"] for n in await notices(kafka_settings)}


async def _recipient_of(kafka: KafkaSettings, verification_id: str) -> str:
    found = await eventually(
        lambda: notices(kafka),
        lambda items: any(item["verification_id"] == verification_id for item in items),
        what=f"code {verification_id} delivered",
    )
    return str(next(item["recipient"] for item in found if item["verification_id"] == verification_id))


async def test_codes_per_nik_are_limited_across_two_instances_and_a_restart_and_the_lock_is_audited(
    settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    first_app, second_app = create_app(settings), create_app(settings)
    async with running(first_app) as first, running(second_app) as second:
        citizen = await verified_citizen(first, kafka_settings, first_app)  # its confirmation was one code
        answers = [
            await (first, second)[index % 2].post("/profile/verification", json={"nik": citizen.nik})
            for index in range(CODES_PER_HOUR)
        ]
        codes = await count(first_app, "SELECT count(*) FROM one_time_codes")
        # A later code to someone else: once it is delivered, anything the refused request sent would be too.
        marker_nik, marker_email = new_citizen()
        await second.post("/applications", json=npwp(marker_nik, marker_email, consent=True))
        await code_sent_to(kafka_settings, marker_email)
        delivered = await codes_to(kafka_settings, citizen.email)
        subject = f"profile:{nik_hash(settings, citizen.nik)}"
        locks = [
            record
            for record in await relayed_access_records(first_app, kafka_settings)
            if record["subject_id"] == subject and record["outcome"] == "denied"
        ]
    restarted = create_app(settings)
    async with running(restarted) as client:
        after_restart = await client.post("/profile/verification", json={"nik": citizen.nik})
        codes_after = await count(restarted, "SELECT count(*) FROM one_time_codes")

    assert [answer.status_code for answer in answers] == [202] * (CODES_PER_HOUR - 1) + [429]
    assert is_lock(answers[-1], "nik")
    assert codes_after == codes + 1  # only the marker's since the refusal
    assert len(delivered) == CODES_PER_HOUR  # the confirmation and the codes allowed; the refused one sent nothing
    assert len(locks) == 1
    assert locks[0]["resource"] == "POST /profile/verification"
    assert citizen.nik not in str(locks[0])
    assert "locked" in locks[0]["reason"]
    assert is_lock(after_restart, "nik")


async def test_wrong_codes_lock_the_nik_even_for_the_right_code_and_nothing_is_reused(
    settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    first_app, second_app = create_app(settings), create_app(settings)
    async with running(first_app) as first, running(second_app) as second:
        citizen = await verified_citizen(first, kafka_settings, first_app)
        verification_id = (await first.post("/profile/verification", json={"nik": citizen.nik})).json()[
            "verification_id"
        ]
        _, code = await code_sent_to(kafka_settings, citizen.email, 2)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        guesses = [
            await (first, second)[index % 2].post(
                "/profile/verification/confirm", json={"verification_id": verification_id, "code": wrong}
            )
            for index in range(WRONG_TRIES)
        ]
        applications = await count(first_app, "SELECT count(*) FROM applications")
        right_on_confirm = await second.post(
            "/profile/verification/confirm", json={"verification_id": verification_id, "code": code}
        )
        right_on_application = await first.post(
            "/applications",
            json=await skck_without_address(first, citizen.nik, citizen.email, consent_reuse=True, one_time_code=code),
        )
        unused = await count(
            first_app, "SELECT count(*) FROM one_time_codes WHERE id = :id AND used_at IS NULL", id=verification_id
        )
        stored = await count(first_app, "SELECT count(*) FROM applications")
        subject = f"profile:{nik_hash(settings, citizen.nik)}"
        locks = [
            record
            for record in await relayed_access_records(first_app, kafka_settings)
            if record["subject_id"] == subject and record["outcome"] == "denied"
        ]

    assert [guess.status_code for guess in guesses] == [422] * WRONG_TRIES
    assert is_lock(right_on_confirm, "code")
    assert is_lock(right_on_application, "one_time_code")
    assert unused == 1  # the right code was never checked, so never spent
    assert stored == applications  # the refused application stored nothing
    assert len(locks) == 1
    assert locks[0]["action"] == "confirm-code"
    assert "wrong one-time codes" in locks[0]["reason"]


async def test_wrong_niks_lock_a_tracking_code_across_two_instances_and_the_status_shows_four_digits(
    settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    first_app, second_app = create_app(settings), create_app(settings)
    async with running(first_app) as first, running(second_app) as second:
        accepted = (await first.post("/applications", json=await skck_application(first))).json()
        application_id, tracking_code = accepted["application_id"], accepted["tracking_code"]
        await ask_a_question(kafka_settings, application_id)
        await eventually(lambda: _status(first, tracking_code), lambda body: body["status"] == "information_requested")
        answer = {"nik": "3171015506900002", "message": "Sudah"}
        guesses = [
            await (first, second)[index % 2].post(
                f"/applications/{tracking_code}/information", json={**answer, "nik": f"3171014107900{index + 3:03d}"}
            )
            for index in range(WRONG_TRIES)
        ]
        right = await second.post(f"/applications/{tracking_code}/information", json=answer)
        page = await first.post(
            f"/track/{tracking_code}/answer", data={"answer-nik": answer["nik"], "answer-message": "Sudah"}
        )
        answered = await count(
            first_app,
            "SELECT count(*) FROM application_tasks WHERE application_id = :id AND information_answered_at IS NOT NULL",
            id=application_id,
        )
        status = await _status(first, tracking_code)
        status_page = await first.get(f"/track/{tracking_code}")
        locks = [
            record
            for record in await relayed_access_records(first_app, kafka_settings)
            if record["subject_id"] == application_id and record["outcome"] == "denied"
        ]

    assert [guess.status_code for guess in guesses] == [403] * WRONG_TRIES
    assert is_lock(right, "nik")
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert answered == 0  # nothing was passed on
    assert status["applicant_nik"] == "************0002"
    assert "************0002" in status_page.text
    assert "3171" not in status_page.text.replace(tracking_code, "")
    assert len(locks) == 1
    assert "wrong NIKs" in locks[0]["reason"]


async def _status(client: httpx.AsyncClient, tracking_code: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/applications/{tracking_code}")).json()
    return body


async def ask_a_question(kafka: KafkaSettings, application_id: str) -> None:
    """Routing starts the police's task, and the police ask the citizen something."""
    now = datetime.now(UTC)
    task_id = str(uuid.uuid4())
    started = ApplicationStageStarted(
        application_id=application_id,
        stage_index=0,
        stage_name="pemeriksaan",
        stage_count=1,
        tasks=(StageTask(task_id=task_id, agency="polres", due_at=now + timedelta(days=3)),),
        started_at=now,
    )
    asked = ApplicationInformationRequested(
        application_id=application_id,
        task_id=task_id,
        agency="polres",
        questions=("Alamat lengkap?",),
        requested_at=now,
    )
    await produce(
        kafka,
        Topic.APPLICATIONS.name_for(),
        [
            record_of(Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="routing"))
            for payload in (started, asked)
        ],
    )


async def test_a_counter_clerk_resets_the_contact_on_file_and_both_contacts_are_told(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    citizen = await verified_citizen(client, kafka_settings, app)
    _, new_email = new_citizen()
    body = {"nik": citizen.nik, "ktp_seen": True, "email": new_email}
    before = await profile_state(app)

    anonymous = await client.post("/profile/contact-reset", json=body)
    auditor = await client.post("/profile/contact-reset", json=body, headers=staff_headers(app, Role.AUDITOR))
    unseen = await client.post(
        "/profile/contact-reset", json={**body, "ktp_seen": False}, headers=staff_headers(app, Role.OPERATOR)
    )
    unchanged = await profile_state(app)
    reset = await client.post(
        "/profile/contact-reset", json=body, headers=staff_headers(app, Role.OFFICER, agency="disdukcapil")
    )
    told = await eventually(
        lambda: notices(kafka_settings, "profile.contact_reset"),
        lambda items: any(item["reset_id"] == reset.json()["reset_id"] for item in items),
        what="reset told",
    )
    await client.post("/profile/verification", json={"nik": citizen.nik})
    _, code = await code_sent_to(kafka_settings, new_email)
    reused = await client.post(
        "/applications",
        json=await skck_without_address(client, citizen.nik, new_email, consent_reuse=True, one_time_code=code),
    )
    records = await eventually(
        lambda: access_records(kafka_settings),
        lambda items: any(item["action"] == "reset-contact" and item["outcome"] == "granted" for item in items),
    )

    assert anonymous.status_code == 401
    assert auditor.status_code == 403
    assert auditor.headers["content-type"] == PROBLEM
    assert unseen.status_code == 422
    assert [error["field"] for error in unseen.json()["errors"]] == ["ktp_seen"]
    assert unchanged == before  # the refused resets changed nothing
    assert reset.status_code == 200, reset.text
    [notice] = [item for item in told if item["reset_id"] == reset.json()["reset_id"]]
    assert (notice["old_recipient"], notice["new_recipient"]) == (citizen.email, new_email)
    assert reused.status_code == 202, reused.text  # the data stayed; the code went to the new contact
    granted = [item for item in records if item["action"] == "reset-contact" and item["outcome"] == "granted"]
    assert granted[-1]["principal"] == "officer:disdukcapil:rina"
    assert any(item["action"] == "reset-contact" and item["outcome"] == "denied" for item in records)
    assert await count(app, PROFILE_ROWS) == len(before)
