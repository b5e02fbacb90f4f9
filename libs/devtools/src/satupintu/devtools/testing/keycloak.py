"""The ``keycloak`` fixture: the local Keycloak with the realm ``satupintu``, started the first time a test asks for
it (once per session, its database on the session's PostgreSQL server) and stopped at the end only if this session
started it (in a run split across workers, by the controller: :mod:`satupintu.devtools.testing.workers`). Only
tests that ask for it pay its start-up."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.localstack.selection import Endpoint
from satupintu.devtools.testing.workers import stop_if_ours


@pytest.fixture(scope="session")
def keycloak(postgres_endpoint: Endpoint) -> Iterator[LocalKeycloak]:
    """The local Keycloak answering the realm ``satupintu``'s discovery document."""
    local = LocalKeycloak(postgres_url=postgres_endpoint.address)
    with processes.one_starter(local.name):
        started = local.start()
    yield local
    if stop_if_ours(started):
        local.stop()


def user_token(keycloak: LocalKeycloak, username: str) -> str:
    """An access token of the local realm's user ``username`` (its local password), from the command-line client."""
    answer = httpx.post(
        f"{keycloak.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "satupintu-cli",
            "username": username,
            "password": f"local-{username}",
            "scope": "openid",
        },
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])
