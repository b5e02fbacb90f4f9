"""What audit's routers read of the process: its context, and the collaborators taken from it."""

from __future__ import annotations

from fastapi import Request

from satupintu.audit.factory import AuditContext
from satupintu.audit.services import AuditQueries
from satupintu.audit.signing import CheckpointSigner


def context(request: Request) -> AuditContext:
    """The process's context (``app.state.audit``)."""
    found: AuditContext = request.app.state.audit
    return found


def queries(request: Request) -> AuditQueries:
    """The auditors' queries (each recorded as ``access.recorded``)."""
    return context(request).queries


def signer(request: Request) -> CheckpointSigner:
    """The key checkpoints are signed with."""
    return context(request).signer
