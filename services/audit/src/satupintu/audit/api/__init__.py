"""Audit's HTTP surface: the auditors' JSON API (``trail``), their pages (``pages``) and who may use them
(``access``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from satupintu.audit.domain import AuditNotFound, AuditRuleError, TreeIncomplete
from satupintu.common.problems import problem_response


def install_problems(app: FastAPI) -> None:
    """Answer audit's refusals as problem+json: a parameter at fault (422, with its name), nothing there (404), a
    damaged tree (500, naming it)."""

    @app.exception_handler(AuditRuleError)
    async def on_rule(request: Request, error: AuditRuleError) -> JSONResponse:
        errors = [{"field": error.field, "message": error.message, "code": "audit_rule"}]
        return problem_response(request, 422, "validation-error", error.message, errors=errors)

    @app.exception_handler(AuditNotFound)
    async def on_not_found(request: Request, error: AuditNotFound) -> JSONResponse:
        return problem_response(request, 404, "not-found", str(error))

    @app.exception_handler(TreeIncomplete)
    async def on_tree_incomplete(request: Request, error: TreeIncomplete) -> JSONResponse:
        return problem_response(request, 500, "audit-tree-damaged", f"{error}; run GET /audit/verify")
