"""What a service dead-lettered, for operators: ``GET /dlq`` and ``POST /dlq/replay`` (bearer token, operator role)
and the page ``/operator/dead-letters`` (operators signed in through the provider), on every service
(``create_service_app`` installs them). Dead letters are
read from the dead-letter topics of the topics the service's consumers read, and replayed through the consumer that
dead-lettered each (decision 0014)."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.dead_letters import api, page
from satupintu.common.dead_letters.service import DeadLetterService
from satupintu.common.runtime import ServiceRuntime


def install(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Give ``app`` the dead-letter API and page of ``runtime``'s consumers."""
    app.state.dead_letters = DeadLetterService(runtime)
    app.include_router(api.router)
    app.include_router(page.router)
