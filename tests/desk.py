"""The desk on this session's broker and database (with a clock the test moves), the workers' ledger database,
officers' tokens and sign-in through the local Keycloak, tasks assigned by hand, documents in a content-addressed
directory: fixtures and helpers shared by the agency's own tests (``services/agency/tests/conftest.py`` imports them)
and the end-to-end flows that run the desk with routing (``tests/e2e``). Nothing here runs another service."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app
from satupintu.agency_sdk.example_worker import LEDGER_SERVICE
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.catalogue import load_catalogue
from satupintu.common.document_store import DocumentCipher
from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.base import DocumentRef
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned
from satupintu.contract.topics import Topic, all_topic_names
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of, submitted_event, wait_for_events


@pytest.fixture(scope="session")
def auth_settings(tmp_path_factory: pytest.TempPathFactory) -> AuthSettings:
    """Token settings with development keys of this session only."""
    return AuthSettings(keys_dir=tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def documents_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The content-addressed document directory intake would write and the desk reads."""
    return tmp_path_factory.mktemp("documents")


@pytest.fixture
async def agency_settings(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, auth_settings: AuthSettings, documents_dir: Path
) -> AgencySettings:
    """The desk's settings on this session's broker and database."""
    await service_database(database_settings, "agency")
    return AgencySettings(
        kafka=kafka_settings,
        database=database_settings,
        auth=auth_settings,
        documents_dir=documents_dir,
        claim_ttl_seconds=600,
    )


@pytest.fixture
async def ledger_dsn(database_settings: DatabaseSettings) -> str:
    """The DSN of the worker ledger's database (``agency_worker``) of this session, created if needed; the worker
    owns it (it creates its table)."""
    await service_database(database_settings, LEDGER_SERVICE)
    return database_settings.owner().service_url(LEDGER_SERVICE, driver="postgresql")


@pytest.fixture
def clock() -> SettableClock:
    """The desk's clock, at the real time until the test moves it."""
    return SettableClock(datetime.now(UTC))


@dataclass
class Desk:
    """A running desk and what tests do with it: its app, an HTTP client, its clock, tokens, tasks."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: SettableClock
    kafka: KafkaSettings
    issuer: TokenIssuer

    def token(self, agency: str, subject: str | None = None) -> dict[str, str]:
        """Authorization headers of an officer of ``agency`` (a fresh user name unless ``subject`` is given)."""
        token = self.issuer.issue(subject or f"officer-{uuid.uuid4().hex[:6]}", {Role.OFFICER}, agency)
        return {"Authorization": f"Bearer {token}"}

    def supervisor(self, agency: str, subject: str | None = None) -> dict[str, str]:
        """Authorization headers of a supervisor of ``agency`` (an officer holding the supervisor role too)."""
        name = subject or f"supervisor-{uuid.uuid4().hex[:6]}"
        token = self.issuer.issue(name, {Role.OFFICER, Role.SUPERVISOR}, agency)
        return {"Authorization": f"Bearer {token}"}

    async def assign(self, agency: str, **kwargs: Any) -> Event[TaskAssigned]:
        """Publish a ``task.assigned`` (``assigned_event``'s arguments, or ``event=``) on the agency's tasks topic."""
        return await publish_assignment(self.kafka, agency, **kwargs)

    async def pool(self, headers: dict[str, str]) -> list[str]:
        """The task ids in an officer's pool (``GET /tasks``)."""
        return await open_task_ids(self.client, headers)

    async def wait_for_task(self, headers: dict[str, str], task_id: str) -> None:
        """Wait until the task is in the officer's pool (the desk consumed its assignment)."""
        await eventually(lambda: self.pool(headers), lambda ids: task_id in ids, what=f"task {task_id} on the desk")

    async def routed_task(self, headers: dict[str, str], agency: str = "polres") -> Event[TaskAssigned]:
        """Submit an SKCK application (one police task) to the running routing, its fee paid, and wait until the
        officer's pool lists its task; the assignment."""
        submitted = submitted_event("skck")
        paid = payment_confirmed(submitted.subject)
        await produce(self.kafka, Topic.APPLICATIONS.name_for(), [record_of(submitted), record_of(paid)])
        [assignment] = await wait_for_events(
            self.kafka, Topic.AGENCY_TASKS.name_for(agency), submitted.subject, "task.assigned"
        )
        await self.wait_for_task(headers, assignment.payload.task_id)
        return assignment

    async def listed(self, headers: dict[str, str], task_id: str) -> dict[str, Any] | None:
        """The task as the officer's pool lists it (``GET /tasks``), or None when it is not listed."""
        answer = await self.client.get("/tasks", headers=headers)
        assert answer.status_code == 200, answer.text
        return next((task for task in answer.json() if task["task_id"] == task_id), None)

    async def wait_for_state(
        self, headers: dict[str, str], task_id: str, state: str, **expected: Any
    ) -> dict[str, Any]:
        """Wait until the pool lists the task in ``state`` (and with the ``expected`` fields); the listed task."""
        listed = await eventually(
            lambda: self.listed(headers, task_id),
            lambda task: (
                task is not None
                and task["state"] == state
                and all(task[name] == value for name, value in expected.items())
            ),
            what=f"task {task_id} listed as {state} {expected or ''}",
        )
        assert listed is not None
        return listed


@pytest.fixture
def issuer(auth_settings: AuthSettings) -> TokenIssuer:
    """Signs officers' tokens with this session's development key."""
    private_pem, _ = load_or_create_local_keys(auth_settings.keys_dir)
    return TokenIssuer(auth_settings, private_key_pem=private_pem)


@pytest.fixture
async def desk(
    agency_settings: AgencySettings, clock: SettableClock, issuer: TokenIssuer, topics: None
) -> AsyncIterator[Desk]:
    """A running desk."""
    app = create_app(agency_settings, clock=clock)
    async with running(app) as client:
        yield Desk(app, client, clock, agency_settings.kafka, issuer)


@pytest.fixture(scope="session")
def desk_client_at_keycloak(keycloak: LocalKeycloak) -> OidcSettings:
    """A client of the local Keycloak for a desk answering at the test client's address (``http://service``)."""
    return KeycloakAdmin(keycloak).register_web_client("desk", "http://service")


@pytest.fixture
async def officer_desk(
    agency_settings: AgencySettings,
    desk_client_at_keycloak: OidcSettings,
    clock: SettableClock,
    issuer: TokenIssuer,
    topics: None,
) -> AsyncIterator[Desk]:
    """A running desk whose officers sign in through the local Keycloak (:func:`sign_in_officer`)."""
    settings = agency_settings.model_copy(update={"oidc": desk_client_at_keycloak})
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        yield Desk(app, client, clock, settings.kafka, issuer)


def assigned_event(
    agency: str,
    *,
    service_code: str = "skck",
    stage_index: int = 0,
    fields: dict[str, Any] | None = None,
    documents: tuple[DocumentRef, ...] = (),
    due_at: datetime | None = None,
    task_id: str | None = None,
    application_id: str | None = None,
    answers: dict[str, Any] | None = None,
) -> Event[TaskAssigned]:
    """A ``task.assigned`` as routing would publish it."""
    application_id = application_id or str(uuid.uuid4())
    now = datetime.now(UTC)
    return Event(
        payload=TaskAssigned(
            application_id=application_id,
            task_id=task_id or str(uuid.uuid4()),
            agency=agency,
            service_code=service_code,
            stage_index=stage_index,
            fields=fields if fields is not None else {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"},
            documents=documents,
            answers=answers or {},
            due_at=due_at or now + timedelta(days=10),
            assigned_at=now,
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )


@pytest.fixture(scope="module")
async def topics(kafka_settings: KafkaSettings) -> None:
    """Every topic of this module exists (services create them at start; a worker alone does not)."""
    await ensure_topics(kafka_settings, all_topic_names(load_catalogue().agency_codes()))


@pytest.fixture
def reassigned() -> Callable[..., Event[TaskAssigned]]:
    """The same task assigned again (a new assignment event), as after the citizen answered."""

    def again(first: Event[TaskAssigned], answers: dict[str, Any]) -> Event[TaskAssigned]:
        payload = first.payload.model_copy(update={"answers": answers, "assigned_at": datetime.now(UTC)})
        return Event(payload=payload, source=first.source, subject=first.subject, actor=first.actor)

    return again


async def publish_assignment(kafka: KafkaSettings, agency: str, **kwargs: Any) -> Event[TaskAssigned]:
    """Publish a ``task.assigned`` on the agency's tasks topic; the event."""
    event = kwargs.pop("event", None) or assigned_event(agency, **kwargs)
    await produce(kafka, Topic.AGENCY_TASKS.name_for(event.payload.agency), [record_of(event)])
    return event


@pytest.fixture
def assign(kafka_settings: KafkaSettings, topics: None) -> Callable[..., Awaitable[Event[TaskAssigned]]]:
    """Publish a ``task.assigned`` on the agency's tasks topic (``assigned_event``'s arguments); the event."""

    async def publish(agency: str, **kwargs: Any) -> Event[TaskAssigned]:
        return await publish_assignment(kafka_settings, agency, **kwargs)

    return publish


async def open_task_ids(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """The task ids in an officer's pool."""
    answer = await client.get("/tasks", headers=headers)
    assert answer.status_code == 200, answer.text
    return [task["task_id"] for task in answer.json()]


@pytest.fixture
def store_document(documents_dir: Path, auth_settings: AuthSettings) -> Callable[..., str]:
    """Store bytes as intake does (sealed with the documents key the desk holds, at ``<dir>/<sha[:2]>/<sha>``) and
    return their hash; ``sealed_with=None`` as intake stored them before sealing, or with another cipher."""
    desk_key = DocumentCipher.configured(None, auth_settings.keys_dir)

    def store(content: bytes, *, sealed_with: DocumentCipher | None = desk_key) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        path = documents_dir / sha256[:2] / sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sealed_with.seal(sha256, content) if sealed_with else content)
        return sha256

    return store


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def sign_in_officer(desk: Desk, username: str = "officer-polres") -> httpx.Response:
    """Sign a local realm officer in to the desk through Keycloak's login form; the callback's answer."""
    person = Person.named(username)
    try:
        return await person.sign_in(desk.client, "/desk")
    finally:
        await person.close()


def row_of(page: httpx.Response, task_id: str) -> str:
    """The task's row in a page's task table."""
    found = re.search(rf'<tr data-task-id="{task_id}">.*?</tr>', page.text, re.DOTALL)
    assert found, f"no row of task {task_id}"
    return found.group(0)
