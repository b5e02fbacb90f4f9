"""Fixtures of the agency tests: the desk on this session's broker and database (with a clock the test moves), the
workers' ledger database, officers' tokens, tasks assigned by hand, documents in a content-addressed directory. They
live in ``tests/desk.py``, shared with the end-to-end flows that run the desk with routing (``tests/e2e``); pytest
registers the fixtures imported here."""

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
    reassigned,
    store_document,
    topics,
)

__all__ = [
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
    "reassigned",
    "store_document",
    "topics",
]
