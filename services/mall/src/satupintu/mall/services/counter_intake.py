"""Intake's counter endpoints, called by the mall's server as the clerk signed in (their access token, decision
0036): a code to the citizen's contact, the citizen's documents, and the application submitted for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(15.0)


@dataclass(frozen=True)
class IntakeError:
    """One field intake refused: its path (``data/occupation``, ``contact_code/code``) and why."""

    field: str
    message: str


class IntakeRefused(Exception):
    """Intake answered with a problem: its status, its sentence and the fields it names."""

    def __init__(self, status: int, detail: str, errors: list[IntakeError]) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


class IntakeUnavailable(Exception):
    """Intake could not be reached; nothing was submitted."""


@dataclass(frozen=True)
class Submitted:
    """Intake accepted the application."""

    application_id: str
    tracking_code: str


class CounterIntake:
    """A client of intake's ``/counter`` endpoints at ``base_url``."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._transport = transport

    async def _post(self, token: str, path: str, **request: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(base_url=self._base_url, timeout=TIMEOUT, transport=self._transport) as client:
                answer = await client.post(path, headers=headers, **request)
        except httpx.HTTPError as error:
            raise IntakeUnavailable(str(error)) from error
        body: dict[str, Any] = (
            answer.json() if answer.headers.get("content-type", "").endswith("json") and answer.content else {}
        )
        if answer.is_success:
            return body
        errors = [
            IntakeError(str(error.get("field", "")), str(error.get("message", "")))
            for error in body.get("errors", [])
            if isinstance(error, dict)
        ]
        raise IntakeRefused(answer.status_code, str(body.get("detail") or answer.reason_phrase), errors)

    async def send_code(self, token: str, *, nik: str, email: str | None, phone: str | None, language: str) -> str:
        """Have a code sent to the citizen's contact; the verification's id."""
        contact = {"email": email} if email else {"phone": phone} if phone else {}
        body = await self._post(token, "/counter/contact-codes", json={"nik": nik, "language": language, **contact})
        return str(body["verification_id"])

    async def upload(self, token: str, filename: str, content: bytes, media_type: str) -> str:
        """Upload one of the citizen's documents; its sha256."""
        body = await self._post(token, "/counter/documents", files={"file": (filename, content, media_type)})
        return str(body["sha256"])

    async def submit(self, token: str, application: dict[str, Any]) -> Submitted:
        """Submit the application for the citizen at the counter."""
        body = await self._post(token, "/counter/applications", json=application)
        return Submitted(str(body["application_id"]), str(body["tracking_code"]))
