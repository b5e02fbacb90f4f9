"""``satupintu-intake citizen-account``: an operator creates a local citizen account at the identity provider
(decision 0024): a realm user holding the role ``citizen`` and the verified attribute ``nik``, with a temporary
password printed once. Refused in production, where citizens' accounts come from the national digital identity
provider through the realm's identity brokering, never from an operator."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from satupintu.common.auth import Role
from satupintu.common.identity import InvalidNik, parse_nik
from satupintu.common.oidc.settings import LOCAL_ISSUER
from satupintu.common.production import ENVIRONMENT_VARIABLE, Environment
from satupintu.common.settings import AuthSettings

COMMAND = "citizen-account"
ADMIN_USERNAME_VARIABLE = "KEYCLOAK_ADMIN_USERNAME"
ADMIN_PASSWORD_VARIABLE = "KEYCLOAK_ADMIN_PASSWORD"  # noqa: S105 (the variable's name, not a password)
LOCAL_ADMIN_FILE = "keycloak-admin.json"
"""The local Keycloak's bootstrap administrator, in the auth keys directory (``make up`` writes it)."""


class AccountRefused(Exception):
    """The account cannot be created; the message says why and what to do."""


@dataclass(frozen=True)
class Administrator:
    """Who the command acts as at the provider's admin REST API."""

    username: str
    password: str

    @classmethod
    def configured(cls, keys_dir: Path) -> Administrator:
        """From ``KEYCLOAK_ADMIN_USERNAME``/``KEYCLOAK_ADMIN_PASSWORD``, else the local bootstrap administrator."""
        password = os.environ.get(ADMIN_PASSWORD_VARIABLE)
        if password:
            return cls(os.environ.get(ADMIN_USERNAME_VARIABLE, "admin"), password)
        local = keys_dir / LOCAL_ADMIN_FILE
        if not local.is_file():
            raise AccountRefused(
                f"no administrator of the identity provider: set {ADMIN_USERNAME_VARIABLE} and "
                f"{ADMIN_PASSWORD_VARIABLE}, or start the local Keycloak (make up), which writes {local}"
            )
        stored = json.loads(local.read_text())
        return cls(str(stored["username"]), str(stored["password"]))


@dataclass(frozen=True)
class CreatedAccount:
    """The account made: its username at the provider and its temporary password (shown once)."""

    username: str
    temporary_password: str


class CitizenAccounts:
    """Citizens' accounts in one realm of a Keycloak, through its admin REST API."""

    def __init__(self, issuer: str, administrator: Administrator, *, timeout: float = 30) -> None:
        base, separator, realm = issuer.rstrip("/").rpartition("/realms/")
        if not separator or not realm:
            raise AccountRefused(f"{issuer} is not a Keycloak realm's issuer (…/realms/<realm>)")
        self._base, self._realm = base, realm
        self._administrator = administrator
        self._timeout = timeout

    def _token(self, client: httpx.Client) -> str:
        answer = client.post(
            f"{self._base}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self._administrator.username,
                "password": self._administrator.password,
            },
        )
        if answer.status_code != 200:
            raise AccountRefused(f"the identity provider refused its administrator ({answer.status_code})")
        return str(answer.json()["access_token"])

    def create(self, *, nik: str, email: str, name: str) -> CreatedAccount:
        """A new enabled user with the role ``citizen``, the attribute ``nik`` and a temporary password, its e-mail
        marked verified. Refuses a NIK or an e-mail address another account already holds."""
        parse_nik(nik, today=date.today())
        first, _, last = name.strip().partition(" ")
        username = f"warga-{uuid.uuid4().hex[:12]}"  # no NIK or e-mail in audit names
        password = secrets.token_urlsafe(12)
        with httpx.Client(timeout=self._timeout) as client:
            client.headers["Authorization"] = f"Bearer {self._token(client)}"
            users = f"{self._base}/admin/realms/{self._realm}/users"
            if self._found(client, users, {"q": f"nik:{nik}", "exact": "true"}):
                raise AccountRefused("an account with this NIK already exists")
            if self._found(client, users, {"email": email, "exact": "true"}):
                raise AccountRefused("an account with this e-mail address already exists")
            user: dict[str, Any] = {
                "username": username,
                "email": email,
                "emailVerified": True,
                "firstName": first,
                "lastName": last,
                "enabled": True,
                "attributes": {"nik": [nik]},
                "credentials": [{"type": "password", "value": password, "temporary": True}],
            }
            created = client.post(users, json=user)
            if created.status_code != 201:
                raise AccountRefused(
                    f"the identity provider refused the account ({created.status_code}): {created.text}"
                )
            user_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            role = client.get(f"{self._base}/admin/realms/{self._realm}/roles/{Role.CITIZEN.value}")
            role.raise_for_status()
            granted = client.post(f"{users}/{user_id}/role-mappings/realm", json=[role.json()])
            granted.raise_for_status()
        return CreatedAccount(username, password)

    @staticmethod
    def _found(client: httpx.Client, users: str, params: dict[str, str]) -> bool:
        answer = client.get(users, params=params)
        answer.raise_for_status()
        return bool(answer.json())


def citizen_account_main(argv: Sequence[str]) -> int:
    """``satupintu-intake citizen-account --nik … --email … --name …``: create the account, print its temporary
    password once; refused in production. The exit status: 0 made, 1 refused, 2 a usage error."""
    parser = argparse.ArgumentParser(
        prog=f"satupintu-intake {COMMAND}",
        description=(
            "Create a local citizen account at the identity provider (role citizen, verified attribute nik) with a "
            "temporary password printed once. Not in production: there accounts come from the national digital "
            f"identity provider. Acts as {ADMIN_USERNAME_VARIABLE}/{ADMIN_PASSWORD_VARIABLE}, else the local "
            "Keycloak's bootstrap administrator; the realm is OIDC_ISSUER's (unset, the local one)."
        ),
    )
    parser.add_argument("--nik", required=True, help="the citizen's 16-digit NIK")
    parser.add_argument("--email", required=True, help="the citizen's e-mail address (they sign in with it)")
    parser.add_argument("--name", required=True, help="the citizen's full name as on the KTP")
    arguments = parser.parse_args(argv)
    if os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower() == Environment.PRODUCTION.value:
        sys.stderr.write(
            f"satupintu-intake {COMMAND}: refused in production: citizens' accounts come from the national digital "
            "identity provider (decision 0024)\n"
        )
        return 1
    try:
        nik = arguments.nik.strip()
        parse_nik(nik, today=date.today())
        accounts = CitizenAccounts(
            os.environ.get("OIDC_ISSUER") or LOCAL_ISSUER, Administrator.configured(AuthSettings().keys_dir)
        )
        created = accounts.create(nik=nik, email=arguments.email.strip(), name=arguments.name)
    except InvalidNik as invalid:
        sys.stderr.write(f"satupintu-intake {COMMAND}: --nik is not a valid NIK: {invalid}\n")
        return 2
    except (AccountRefused, httpx.HTTPError) as refused:
        sys.stderr.write(f"satupintu-intake {COMMAND}: {refused}\n")
        return 1
    sys.stdout.write(
        f"Created the citizen account {created.username} (sign in with {arguments.email.strip()}).\n"
        f"Temporary password, shown only now: {created.temporary_password}\n"
        "The citizen chooses their own password at their first sign-in.\n"
    )
    return 0
