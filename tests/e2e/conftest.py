"""Fixtures of the flows across services: the officers' desk (``tests.desk``) and routing in-process
(``tests.routing_in_process``), for the modules that run them together."""

from __future__ import annotations

from tests.desk import (
    agency_settings,
    assign,
    auth_settings,
    clock,
    desk,
    desk_client_at_keycloak,
    documents_dir,
    issuer,
    ledger_dsn,
    officer_desk,
    store_document,
    topics,
)
from tests.routing_in_process import routing, start_routing

__all__ = [  # fixtures pytest registers from this conftest
    "agency_settings",
    "assign",
    "auth_settings",
    "clock",
    "desk",
    "desk_client_at_keycloak",
    "documents_dir",
    "issuer",
    "ledger_dsn",
    "officer_desk",
    "routing",
    "start_routing",
    "store_document",
    "topics",
]
