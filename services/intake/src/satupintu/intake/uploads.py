"""Which of intake's requests are uploads, how large each body may be, and how a refused one is answered; the guard
itself (``satupintu.common.uploads``) counts the bytes as they arrive.

- ``POST /documents`` and ``POST /counter/documents`` (a clerk's): one document, ``max_document_bytes`` plus
  ``upload_overhead_bytes`` (multipart framing).
- ``POST /apply/{code}``: the documents the service asks for, each at most its own limit, plus the overhead (which
  also holds the form's typed fields).
- ``POST /track/{tracking_code}/answer``: the largest of those over the catalogue (which service the application
  is for is only known once the database is asked; the guard decides before that).
"""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from satupintu.common.catalogue import Catalogue
from satupintu.common.limits import Quota
from satupintu.common.uploads import Refusal, problem_answer
from satupintu.intake.config import IntakeSettings
from satupintu.intake.web.documents import refused_upload

UPLOAD_VOLUME_NAMESPACE = "intake.upload-bytes"
_APPLY = re.compile(r"/apply/([^/]+)")
_ANSWER = re.compile(r"/track/[^/]+/answer")


class UploadLimits:
    """The body limit of each upload route (None for a request that is not an upload)."""

    def __init__(self, settings: IntakeSettings, catalogue: Catalogue) -> None:
        overhead = settings.upload_overhead_bytes
        self.document = settings.max_document_bytes + overhead
        self.forms = {
            service.code: overhead
            + sum(min(requirement.max_bytes, settings.max_document_bytes) for requirement in service.documents)
            for service in catalogue.services
        }
        self.unknown_form = overhead  # the page answers 404; the body need not be read at all
        self.answer = max(self.forms.values(), default=overhead)

    @property
    def largest(self) -> int:
        """The largest body any upload route accepts."""
        return max(self.document, self.answer)

    def __call__(self, scope: Scope) -> int | None:
        """The body limit of this request, or None when it is not an upload."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        if path in {"/documents", "/counter/documents"}:
            return self.document
        if apply := _APPLY.fullmatch(path):
            return self.forms.get(apply.group(1), self.unknown_form)
        if _ANSWER.fullmatch(path):
            return self.answer
        return None

    def check(self, settings: IntakeSettings) -> None:
        """Refuse settings under which the largest upload could never come in."""
        if settings.max_upload_bytes_in_flight < self.largest:
            raise ValueError(
                f"INTAKE_MAX_UPLOAD_BYTES_IN_FLIGHT ({settings.max_upload_bytes_in_flight}) is below the largest "
                f"upload body ({self.largest} bytes, from INTAKE_MAX_DOCUMENT_BYTES, INTAKE_UPLOAD_OVERHEAD_BYTES "
                f"and the catalogue's documents): such an upload would always be refused"
            )
        volume = settings.upload_bytes_per_client_per_hour
        if volume and volume < self.largest:
            raise ValueError(
                f"INTAKE_UPLOAD_BYTES_PER_CLIENT_PER_HOUR ({volume}) is below the largest upload body "
                f"({self.largest} bytes): such an upload would always be refused; raise it or set 0 to turn it off"
            )


def upload_volume_quota(settings: IntakeSettings) -> Quota | None:
    """Upload bytes per client address per hour, shared by intake's replicas; None when turned off."""
    if not settings.upload_bytes_per_client_per_hour:
        return None
    return Quota(UPLOAD_VOLUME_NAMESPACE, settings.upload_bytes_per_client_per_hour, timedelta(hours=1))


def respond(request: Request, refusal: Refusal) -> Response:
    """A refused upload's answer: problem+json, in the page's language for the pages' forms (a page for a browser)."""
    if request.url.path.startswith(("/apply/", "/track/")):
        return refused_upload(request, refusal)
    return problem_answer(request, refusal)
