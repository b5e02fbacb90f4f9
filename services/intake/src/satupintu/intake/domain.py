"""Intake's rules: tracking codes, and the errors a citizen can act on. No I/O."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from satupintu.contract.envelope import event_source

SOURCE = event_source("intake")
"""The CloudEvents source of everything intake publishes."""

# Crockford's base32 without I, L, O, U: easy to read aloud, no confusable letters.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TRACKING_CODE_SYMBOLS = 17  # 17 symbols of 5 bits = 85 bits of randomness


def new_tracking_code() -> str:
    """A short, unguessable tracking code (85 random bits), grouped for reading aloud: ``SP-XXXXX-XXXXXX-XXXXXX``."""
    symbols = "".join(secrets.choice(_ALPHABET) for _ in range(_TRACKING_CODE_SYMBOLS))
    return f"SP-{symbols[:5]}-{symbols[5:11]}-{symbols[11:]}"


def request_fingerprint(body: Any) -> str:
    """SHA-256 of a request body's canonical JSON: the same body always gives the same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one field of a request."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        """The error as problem+json's `errors` entries show it."""
        return {"field": self.field, "message": self.message, "code": self.code}


class ValueProblem(StrEnum):
    """Why one of intake's own validators refused a value: a code to choose a message by (pydantic keeps the
    :class:`InvalidValue` raised in its error's context, so no one has to read the English text)."""

    BLANK = "blank"
    CONTROL_CHARACTERS = "control_characters"
    NOT_A_DATE = "not_a_date"
    NOT_A_PHONE_NUMBER = "not_a_phone_number"
    NOT_A_SCALAR = "not_a_scalar"


class InvalidValue(ValueError):
    """A value one of intake's validators refused: ``problem`` says why, the text says it in English (as the API
    shows it)."""

    def __init__(self, problem: ValueProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class InvalidApplication(Exception):
    """The application breaks the catalogue's rules; every error names its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key was sent again with a different request body."""


class ApplicationNotFound(LookupError):
    """No application has this tracking code."""


class NoOpenBill(LookupError):
    """The application has no bill still to pay (none yet, or it was paid, expired or withdrawn)."""


class NotTheApplicant(PermissionError):
    """The NIK given does not belong to the application's applicant."""


class NoInformationRequested(Exception):
    """Nothing was asked of the citizen (or not by that task)."""


class InformationAlreadyProvided(Exception):
    """The agency's question was already answered."""


class UnknownDocument(LookupError):
    """No issued document has this id (or the id is not one): a verification answers "unknown document"."""


class DocumentUnavailable(LookupError):
    """No issued document answers this request: an unknown tracking code, a NIK that is not the applicant's, another
    citizen's application, or an application without that document. Said the same way whichever it was."""


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def pdf_filename(number: str) -> str:
    """The name a downloaded document is saved under: its number with every run of characters a file name or a
    ``Content-Disposition`` header should not hold (slashes, spaces, quotes, non-ASCII) made one ``-``."""
    stem = _UNSAFE_IN_FILENAME.sub("-", number).strip("-.") or "document"
    return f"{stem[:100]}.pdf"
