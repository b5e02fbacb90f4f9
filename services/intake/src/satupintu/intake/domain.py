"""Intake's rules: tracking codes and errors a citizen can act on. No I/O."""

from __future__ import annotations

import secrets

# Crockford's base32 without I, L, O, U: easy to read aloud, no confusable letters.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TRACKING_CODE_SYMBOLS = 17  # 17 symbols of 5 bits = 85 bits of randomness


def new_tracking_code() -> str:
    """A short, unguessable tracking code (85 random bits), grouped for reading aloud: ``SP-XXXXX-XXXXXX-XXXXXX``."""
    symbols = "".join(secrets.choice(_ALPHABET) for _ in range(_TRACKING_CODE_SYMBOLS))
    return f"SP-{symbols[:5]}-{symbols[5:11]}-{symbols[11:]}"


class UnknownServiceError(LookupError):
    """The application names a service the catalogue does not have."""

    def __init__(self, service_code: str) -> None:
        super().__init__(f"no service with code {service_code!r} in the catalogue")
        self.service_code = service_code
