"""Citizens with an account, on the real Keycloak, broker and database (decision 0024): the local user `citizen`
signs in through Keycloak's real login form and sees every application of their verified NIK, across services,
and nobody else's; their own application opens without its tracking code, someone else's does not; applying for
their own NIK reuses their saved data without a one-time code, for another NIK it still needs one; nobody needs
to sign in; and an operator creates a local account, never in production."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import REALM, LocalKeycloak
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.accounts import citizen_account_main
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of, wait_for_events

from .conftest import consent_event, new_citizen, nik_hash, npwp, relayed_access_records, skck_without_address
from .test_verification import agency_event, issued

pytestmark = pytest.mark.integration

CITIZEN_NIK = "3171015506900001"
"""The realm's local user `citizen` holds this NIK as its verified attribute."""
APPLIED_AT = "http://service"
"""Where the tests' client reaches intake (the address its Keycloak client is registered for)."""


@pytest.fixture
async def intake(
    make_settings: Callable[..., Any], tmp_path: Path, keycloak: LocalKeycloak
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    oidc = KeycloakAdmin(keycloak).register_web_client("intake", APPLIED_AT)
    app = create_app(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path, oidc=oidc))
    async with running(app) as client:
        yield app, client


@pytest.fixture
async def citizen() -> AsyncIterator[Person]:
    person = Person.named("citizen")
    yield person
    await person.close()


async def submitted(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    answer = await client.post("/applications", json=body)
    assert answer.status_code == 202, answer.text
    application_id: str = answer.json()["application_id"]
    return application_id


def listed(page: httpx.Response) -> list[str]:
    """The application ids "my applications" links to, in its order."""
    return list(dict.fromkeys(re.findall(r'href="/my-applications/([0-9a-f-]{36})"', page.text)))


async def ids_of(app: FastAPI, settings: IntakeSettings, nik: str) -> set[str]:
    async with app.state.runtime.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM applications WHERE nik_hash = :hash"), {"hash": nik_hash(settings, nik)}
        )
        return {str(row[0]) for row in rows}


async def application_id_of(app: FastAPI, confirmation: httpx.Response) -> str:
    assert confirmation.status_code == 303, confirmation.text
    tracking_code = confirmation.headers["location"].split("/")[2]
    async with app.state.runtime.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id FROM applications WHERE tracking_code = :code"), {"code": tracking_code}
        )
        return str(found.scalar_one())


async def test_a_signed_in_citizen_sees_every_application_of_their_nik_and_nobody_elses(
    intake: tuple[FastAPI, httpx.AsyncClient], citizen: Person, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    settings: IntakeSettings = app.state.intake.settings
    stranger_nik, stranger_email = new_citizen()
    tax = await submitted(client, npwp(CITIZEN_NIK, "rina@example.id", consent=False))
    police_body = await skck_without_address(client, CITIZEN_NIK, "rina@example.id", consent_reuse=False)
    police = await submitted(client, {**police_body, "data": {**police_body["data"], "address": "Jl. Melati 9"}})
    stranger = await submitted(client, npwp(stranger_nik, stranger_email, consent=False))
    by_id_without_code = await client.get(f"/applications/{stranger}")  # an id is no tracking code

    signed_out = await client.get("/my-applications")
    back = await citizen.sign_in(client, "/my-applications")
    mine = await client.get("/my-applications?lang=en")
    own = await client.get(f"/my-applications/{tax}?lang=en")
    someone_elses = await client.get(f"/my-applications/{stranger}?lang=en")

    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/auth/login?next=%2Fmy-applications")
    assert (back.status_code, back.headers["location"]) == (303, "/my-applications")
    assert mine.status_code == 200, mine.text
    assert listed(mine)[:2] == [police, tax]  # newest first
    assert set(listed(mine)) == await ids_of(app, settings, CITIZEN_NIK)  # every one of theirs, only theirs
    assert stranger not in mine.text
    assert "Police Clearance Certificate (SKCK)" in mine.text
    assert "Taxpayer" in mine.text or "NPWP" in mine.text
    assert "Signed in as" in mine.text
    assert 'name="csrf_token"' in mine.text
    assert CITIZEN_NIK not in mine.text  # only its public part
    assert own.status_code == 200
    assert 'id="application-state"' in own.text
    assert someone_elses.status_code == 404
    assert by_id_without_code.status_code == 404
    records = await relayed_access_records(app, kafka_settings)
    listings = {r["subject_id"] for r in records if r["principal"] == "citizen:citizen" and r["action"] == "list"}
    assert {tax, police} <= listings
    assert stranger not in listings
    [refused] = [r for r in records if r["subject_id"] == stranger and r["principal"] == "citizen:citizen"]
    assert (refused["action"], refused["outcome"]) == ("read", "denied")
    assert any(r["subject_id"] == tax and r["action"] == "read" and r["outcome"] == "granted" for r in records)


async def test_signing_out_ends_the_citizens_session(
    intake: tuple[FastAPI, httpx.AsyncClient], citizen: Person
) -> None:
    _, client = intake
    await citizen.sign_in(client, "/my-applications")
    mine = await client.get("/my-applications")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', mine.text)
    assert csrf

    out = await client.post("/auth/logout", data={"csrf_token": csrf[1]})
    after = await client.get("/my-applications")
    landing = await client.get("/sign-in?signed_out=1&lang=en")

    assert out.status_code == 303
    assert after.status_code == 303  # to sign in again
    assert "You are signed out." in landing.text
    assert "/auth/login?next=%2Fmy-applications" in landing.text


async def test_a_signed_in_citizen_reuses_their_saved_data_without_a_code_but_not_for_another_nik(
    intake: tuple[FastAPI, httpx.AsyncClient], citizen: Person, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    await citizen.sign_in(client, "/")
    form = await client.get("/apply/npwp")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    assert f'value="{CITIZEN_NIK}"' in form.text  # their verified NIK, filled in
    email = f"warga-{uuid.uuid4().hex[:8]}@example.id"
    applicant = {
        "applicant-nik": CITIZEN_NIK,
        "applicant-name": "Rina Kusuma",
        "applicant-email": email,
        "applicant-language": "en",
        "consent-reuse": "yes",
        "csrf_token": csrf[1],
    }
    first = await client.post(
        "/apply/npwp",
        data={**applicant, "data-occupation": "Guru", "data-monthly_income": "7500000", "data-address": "Jl. Melati 9"},
    )
    first_id = await application_id_of(app, first)
    await consent_event(kafka_settings, app, first_id, "polres", ("address",), granted=True)

    def skck(**changes: str) -> tuple[dict[str, str], dict[str, Any]]:
        ktp = ("ktp.pdf", f"%PDF-1.4 ktp {uuid.uuid4()}".encode(), "application/pdf")
        return {**applicant, "data-purpose": "Melamar pekerjaan", "data-address": "", **changes}, {"document-ktp": ktp}

    data, files = skck()
    reused = await client.post("/apply/skck", data=data, files=files)
    reused_id = await application_id_of(app, reused)
    [event] = await wait_for_events(kafka_settings, Topic.APPLICATIONS.name_for(), reused_id, "application.submitted")
    other_nik, _ = new_citizen()
    data, files = skck(**{"applicant-nik": other_nik})
    for_another = await client.post("/apply/skck?lang=en", data=data, files=files)
    data, files = skck(csrf_token="forged")
    forged = await client.post("/apply/skck?lang=en", data=data, files=files)

    assert event.payload.reused_fields == ("address",)
    assert event.payload.applicant.language == "en"  # their messages in the language they chose
    assert for_another.status_code == 422  # another NIK's data needs its one-time code
    assert "field-data-address-error" in for_another.text
    assert forged.status_code == 422  # a form not from their page counts as not signed in
    records = await relayed_access_records(app, kafka_settings)
    assert any(r["subject_id"] == reused_id and r["action"] == "reuse-profile" for r in records)
    codes = await _codes_issued(app)
    assert codes == 0  # the identity was the proof: no code was sent


async def _codes_issued(app: FastAPI) -> int:
    async with app.state.runtime.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT count(*) FROM one_time_codes WHERE nik_hash = :hash"),
            {"hash": nik_hash(app.state.intake.settings, CITIZEN_NIK)},
        )
        return int(found.scalar_one())


async def test_without_signing_in_everything_works_as_before(intake: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = intake
    nik, email = new_citizen()
    application_id = await submitted(client, npwp(nik, email, consent=False))
    track_form = await client.get("/track")
    landing = await client.get("/sign-in?lang=en")
    form = await client.get("/apply/skck")
    reuse_without_code = await client.post(
        "/apply/skck",
        data={
            "applicant-nik": CITIZEN_NIK,
            "applicant-name": "Rina Kusuma",
            "applicant-language": "id",
            "consent-reuse": "yes",
            "data-purpose": "Melamar pekerjaan",
        },
        files={"document-ktp": ("ktp.pdf", f"%PDF-1.4 {uuid.uuid4()}".encode(), "application/pdf")},
    )

    assert application_id
    assert track_form.status_code == 200
    assert landing.status_code == 200
    assert "You do not need an account" in landing.text
    assert form.status_code == 200
    assert 'name="csrf_token"' not in form.text
    assert f'value="{CITIZEN_NIK}"' not in form.text
    assert reuse_without_code.status_code == 422  # without an account, reuse still needs a code


async def test_an_operator_creates_a_local_citizen_account_never_in_production(
    keycloak: LocalKeycloak, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = KeycloakAdmin(keycloak)
    nik, email = new_citizen()
    monkeypatch.setenv("OIDC_ISSUER", keycloak.issuer)

    invalid = citizen_account_main(["--nik", "1234", "--email", email, "--name", "Dewi Lestari"])
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")
    in_production = citizen_account_main(["--nik", nik, "--email", email, "--name", "Dewi Lestari"])
    monkeypatch.delenv("SATUPINTU_ENVIRONMENT")
    assert not admin.request("GET", f"{REALM}/users", params={"q": f"nik:{nik}", "exact": "true"}).json()
    made = citizen_account_main(["--nik", nik, "--email", email, "--name", "Dewi Lestari"])
    printed = capsys.readouterr()
    again = citizen_account_main(["--nik", nik, "--email", f"other-{email}", "--name", "Dewi Lestari"])

    [user] = admin.request("GET", f"{REALM}/users", params={"q": f"nik:{nik}", "exact": "true"}).json()
    try:
        roles = admin.request("GET", f"{REALM}/users/{user['id']}/role-mappings/realm").json()
        assert (invalid, in_production, made, again) == (2, 1, 0, 1)
        assert "refused in production" in printed.err
        assert user["attributes"]["nik"] == [nik]
        assert user["email"] == email
        assert user["emailVerified"] is True
        assert "citizen" in {role["name"] for role in roles}
        assert "UPDATE_PASSWORD" in user.get("requiredActions", []) or "Temporary password" in printed.out
        assert "Temporary password, shown only now:" in printed.out
        assert nik not in user["username"]
    finally:
        admin.request("DELETE", f"{REALM}/users/{user['id']}")
    await eventually(lambda: _gone(admin, nik), what="the test account removed")


async def _gone(admin: KeycloakAdmin, nik: str) -> bool:
    return not admin.request("GET", f"{REALM}/users", params={"q": f"nik:{nik}", "exact": "true"}).json()


async def test_an_operator_signed_in_for_the_dead_letter_page_is_nobody_on_the_citizens_pages(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = intake
    operator = Person.named("operator")

    back = await operator.sign_in(client, "/operator/dead-letters")
    dead_letters = await client.get("/operator/dead-letters")
    mine = await client.get("/my-applications")
    one = await client.get(f"/my-applications/{uuid.uuid4()}")
    landing = await client.get("/sign-in?lang=en")
    form = await client.get("/apply/skck")

    assert (back.status_code, back.headers["location"]) == (303, "/operator/dead-letters")
    assert dead_letters.status_code == 200
    # no citizen: to the sign-in page, not round through the provider, which would sign the operator straight back
    for refused in (mine, one):
        assert (refused.status_code, refused.headers["location"]) == (303, "/sign-in")
    assert landing.status_code == 200
    assert "/auth/login?next=%2Fmy-applications" in landing.text
    assert form.status_code == 200
    assert 'name="csrf_token"' not in form.text  # applying as nobody signed in
    await operator.close()


async def test_a_signed_in_citizen_downloads_their_own_document_and_not_another_citizens(
    intake: tuple[FastAPI, httpx.AsyncClient], citizen: Person, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    stranger_nik, stranger_email = new_citizen()
    body = await skck_without_address(client, CITIZEN_NIK, "rina@example.id", consent_reuse=False)
    own = await submitted(client, {**body, "data": {**body["data"], "address": "Jl. Melati 9"}})
    stranger = await submitted(client, npwp(stranger_nik, stranger_email, consent=False))
    pdfs = {application: f"%PDF-1.7 {application}".encode() for application in (own, stranger)}
    documents = {application: issued(application, pdf) for application, pdf in pdfs.items()}
    for pdf in pdfs.values():
        await app.state.intake.document_store.put(hashlib.sha256(pdf).hexdigest(), pdf)
    await produce(
        kafka_settings,
        Topic.APPLICATIONS.name_for(),
        [record_of(agency_event(application, document)) for application, document in documents.items()],
    )
    for document in documents.values():
        await eventually(
            lambda document=document: client.get(f"/verify/{document.document_id}?format=json"),
            lambda answer: answer.status_code == 200,
            what="the document recorded",
        )
    mine, theirs = documents[own].document_id, documents[stranger].document_id

    signed_out = await client.get(f"/my-applications/{own}/documents/{mine}")
    await citizen.sign_in(client, "/my-applications")
    page = await client.get(f"/my-applications/{own}?lang=en")
    download = await client.get(f"/my-applications/{own}/documents/{mine}")
    someone_elses = await client.get(f"/my-applications/{stranger}/documents/{theirs}")
    theirs_under_mine = await client.get(f"/my-applications/{own}/documents/{theirs}")
    records = await relayed_access_records(app, kafka_settings)

    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/auth/login?next=")
    assert page.status_code == 200
    assert f'href="/my-applications/{own}/documents/{mine}"' in page.text
    assert documents[own].number in page.text
    assert (download.status_code, download.content) == (200, pdfs[own])
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="SKCK-000017-2026-POLRES.pdf"'
    assert download.headers["cache-control"] == "no-store"
    for refused in (someone_elses, theirs_under_mine):
        assert refused.status_code == 404
        assert b"%PDF" not in refused.content
    downloads = [r for r in records if r["action"] == "download"]
    assert [(r["subject_id"], r["principal"], r["outcome"]) for r in downloads] == [(own, "citizen:citizen", "granted")]
    assert any(
        r["subject_id"] == stranger and r["principal"] == "citizen:citizen" and r["outcome"] == "denied"
        for r in records
    )
