"""An agency's own system reaches the desk's task API with its client's client-credentials token from the running
Keycloak (``satupintu.agency_sdk.desk_access``): the token carries only that agency, the desk lists and shows that
agency's tasks and hides another agency's (404, as it does for officers). The desk verifies the provider's tokens as
``make up`` configures it; the realm is a throwaway copy of this checkout's realm file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app
from satupintu.agency_sdk.desk_access import DeskAccess
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.keycloak_admin import ThrowawayRealm, throwaway_realm
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def realm(keycloak: LocalKeycloak) -> Iterator[ThrowawayRealm]:
    with throwaway_realm(keycloak) as copy:
        yield copy


@pytest.fixture
async def desk_transport(
    agency_settings: AgencySettings, realm: ThrowawayRealm, clock: SettableClock, topics: None
) -> AsyncIterator[httpx.AsyncBaseTransport]:
    """The desk, verifying the realm's access tokens; the transport that reaches it."""
    app = create_app(agency_settings.model_copy(update={"auth": realm.auth_settings()}), clock=clock)
    async with running(app):
        yield httpx.ASGITransport(app=app)


async def _task_ids(desk: DeskAccess) -> list[str]:
    answer = await desk.get("/tasks")
    assert answer.status_code == 200, answer.text
    return [task["task_id"] for task in answer.json()]


async def test_an_agency_system_sees_its_agencys_tasks_and_not_anothers(
    realm: ThrowawayRealm, desk_transport: httpx.AsyncBaseTransport, assign: Any
) -> None:
    own = await assign("polres")
    other = await assign("imigrasi")
    access = DeskAccess(
        "polres",
        "local-development-agency-polres",
        issuer=realm.issuer,
        desk_url="http://service",
        transport=desk_transport,
    )
    async with access as desk:
        await eventually(lambda: _task_ids(desk), lambda ids: own.payload.task_id in ids, what="the police task")
        token = await desk.access_token()
        listed = await _task_ids(desk)
        shown = await desk.get(f"/tasks/{own.payload.task_id}")
        hidden = await desk.get(f"/tasks/{other.payload.task_id}")
        cached = await desk.access_token()

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["agency"] == "polres"
    assert claims["azp"] == "agency-polres"
    assert cached == token  # kept until shortly before it expires
    assert other.payload.task_id not in listed
    assert shown.status_code == 200
    assert hidden.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
