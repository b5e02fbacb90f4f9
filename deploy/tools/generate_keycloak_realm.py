"""Generate the Keycloak realm ``satupintu`` of ``deploy/keycloak/`` from the catalogue's agencies (``kafka_layout``):
one group ``/agencies/<code>`` and one client-credentials client ``agency-<code>`` per agency, the web clients of
every service (intake, routing, the desk, notification, audit, the mall and payment: operators sign in to the
dead-letter page of each), the realm roles, brute-force protection and the user profile (with ``nik``).

Two files come out of it. ``satupintu-realm.json`` is the local realm ``make up`` and the tests import: it holds the
local users with their initial passwords, the command-line client ``satupintu-cli`` (the only one that takes the
password grant, for ``satupintu-token``) and ``local-development-*`` client secrets. ``satupintu-realm-production.json``
has none of them: the clients' secrets and the services' public addresses are Keycloak import placeholders
(``${SATUPINTU_CLIENT_SECRET_<CLIENT>}``, ``${SATUPINTU_PUBLIC_URL_<SERVICE>}``) that the deployment resolves, and
staff accounts come from the organisation's directory, not from this file. The output is committed;
``tests/deploy`` fails when it is out of date.

Usage: ``uv run python deploy/tools/generate_keycloak_realm.py [--check]``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_files import write_or_check
from kafka_layout import catalogue_agency_codes

REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPOSITORY / "deploy" / "keycloak"
REALM = "satupintu"
AUDIENCE = "satupintu"
COMMAND_LINE_CLIENT = "satupintu-cli"
"""The local realm's public client that alone accepts the password grant: ``satupintu-token --user`` uses it."""


@dataclass(frozen=True)
class WebClient:
    """A service's pages that sign people in with Authorization Code + PKCE."""

    client_id: str
    name: str
    service: str
    port: int
    nik: bool = False
    """Whether its tokens carry the citizen's ``nik`` (only intake's, where citizens sign in)."""


WEB_CLIENTS = (
    WebClient("satupintu-intake", "Citizens' sign-in (intake)", "intake", 8001, nik=True),
    WebClient("satupintu-routing", "Routing's dead-letter page", "routing", 8002),
    WebClient("satupintu-desk", "Agency desk", "agency", 8003),
    WebClient("satupintu-notification", "Notification's dead-letter page", "notification", 8004),
    WebClient("satupintu-audit", "Audit pages", "audit", 8005),
    WebClient("satupintu-mall", "Mall staff pages", "mall", 8006),
    WebClient("satupintu-payment", "Payment's dead-letter page", "payment", 8007),
)


@dataclass(frozen=True)
class LocalUser:
    """A user of the local realm, whose initial password is ``local-<username>``."""

    username: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    agency: str | None = None
    nik: str | None = None


LOCAL_USERS = (
    LocalUser("officer-polres", "Budi", "Santoso", ("officer",), agency="polres"),
    LocalUser("supervisor-polres", "Hendra", "Gunawan", ("officer", "supervisor"), agency="polres"),
    LocalUser("officer-imigrasi", "Sari", "Wulandari", ("officer",), agency="imigrasi"),
    LocalUser("clerk-mall", "Siti", "Rahayu", ("officer",), agency="dpmptsp"),
    LocalUser("auditor", "Dewi", "Lestari", ("auditor",)),
    LocalUser("operator", "Agus", "Wijaya", ("operator",)),
    LocalUser("citizen", "Rina", "Kusuma", ("citizen",), nik="3171015506900001"),
)

REALM_SETTINGS: dict[str, Any] = {
    "realm": REALM,
    "displayName": "Satu Pintu",
    "enabled": True,
    "sslRequired": "external",
    "registrationAllowed": False,
    "loginWithEmailAllowed": True,
    "resetPasswordAllowed": False,
    "accessTokenLifespan": 300,
    "ssoSessionIdleTimeout": 1800,
    "ssoSessionMaxLifespan": 36000,
    # Brute-force protection is the provider's: five wrong passwords lock the account for a growing while.
    "bruteForceProtected": True,
    "permanentLockout": False,
    "failureFactor": 5,
    "waitIncrementSeconds": 60,
    "maxFailureWaitSeconds": 900,
    "maxDeltaTimeSeconds": 43200,
    "quickLoginCheckMilliSeconds": 1000,
    "minimumQuickLoginWaitSeconds": 60,
    "internationalizationEnabled": True,
    "supportedLocales": ["id", "en"],
    "defaultLocale": "id",
}

ROLES = (
    ("officer", "An agency officer: works the agency's tasks at the desk"),
    ("supervisor", "An agency head or supervisor (also an officer): the agency's workload, reassigning its tasks"),
    ("auditor", "Reads the audit trail, proofs and exports"),
    ("operator", "Runs the system: dead letters, replays, citizen accounts"),
    ("citizen", "A citizen with an account (a verified nik attribute)"),
)

_PERMISSIONS_ALL = {"view": ["admin", "user"], "edit": ["admin", "user"]}
USER_PROFILE: dict[str, Any] = {
    "attributes": [
        {
            "name": "username",
            "displayName": "${username}",
            "validations": {
                "length": {"min": 3, "max": 255},
                "username-prohibited-characters": {},
                "up-username-not-idn-homograph": {},
            },
            "permissions": _PERMISSIONS_ALL,
            "multivalued": False,
        },
        {
            "name": "email",
            "displayName": "${email}",
            "validations": {"email": {}, "length": {"max": 255}},
            "required": {"roles": ["user"]},
            "permissions": _PERMISSIONS_ALL,
            "multivalued": False,
        },
        {
            "name": "firstName",
            "displayName": "${firstName}",
            "validations": {"length": {"max": 255}, "person-name-prohibited-characters": {}},
            "required": {"roles": ["user"]},
            "permissions": _PERMISSIONS_ALL,
            "multivalued": False,
        },
        {
            "name": "lastName",
            "displayName": "${lastName}",
            "validations": {"length": {"max": 255}, "person-name-prohibited-characters": {}},
            "permissions": _PERMISSIONS_ALL,
            "multivalued": False,
        },
        {
            "name": "nik",
            "displayName": "NIK",
            "validations": {"pattern": {"pattern": "^[0-9]{16}$", "error-message": "A NIK is 16 digits"}},
            "permissions": {"view": ["admin", "user"], "edit": ["admin"]},
            "multivalued": False,
        },
    ],
    "groups": [
        {
            "name": "user-metadata",
            "displayHeader": "User metadata",
            "displayDescription": "Attributes, which refer to user metadata",
        }
    ],
    "unmanagedAttributePolicy": "ADMIN_VIEW",
}


def _placeholder(kind: str, name: str) -> str:
    return "${SATUPINTU_" + kind + "_" + name.upper().replace("-", "_") + "}"


def _secret(client_id: str, production: bool) -> str:
    return _placeholder("CLIENT_SECRET", client_id) if production else f"local-development-{client_id}"


def _attribute_mapper(attribute: str) -> dict[str, Any]:
    return {
        "name": attribute,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-usermodel-attribute-mapper",
        "consentRequired": False,
        "config": {
            "user.attribute": attribute,
            "claim.name": attribute,
            "jsonType.label": "String",
            "id.token.claim": "true",
            "access.token.claim": "true",
            "userinfo.token.claim": "true",
            "introspection.token.claim": "true",
            "multivalued": "false",
            "aggregate.attrs": "false",
        },
    }


def protocol_mappers(nik: bool = False) -> list[dict[str, Any]]:
    """What every client's tokens carry: the audience ``satupintu`` (access tokens), the realm roles as ``roles``
    and the ``agency`` (resolved from the agency group's attribute); intake's also the citizen's ``nik``."""
    mappers = [
        {
            "name": "audience-satupintu",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-audience-mapper",
            "consentRequired": False,
            "config": {
                "included.custom.audience": AUDIENCE,
                "id.token.claim": "false",
                "access.token.claim": "true",
                "introspection.token.claim": "true",
            },
        },
        {
            "name": "roles",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usermodel-realm-role-mapper",
            "consentRequired": False,
            "config": {
                "claim.name": "roles",
                "jsonType.label": "String",
                "multivalued": "true",
                "id.token.claim": "true",
                "access.token.claim": "true",
                "userinfo.token.claim": "true",
                "introspection.token.claim": "true",
            },
        },
        _attribute_mapper("agency"),
    ]
    if nik:
        mappers.append(_attribute_mapper("nik"))
    return mappers


def web_client(client: WebClient, production: bool) -> dict[str, Any]:
    """A confidential client with Authorization Code + PKCE, RP-initiated and back-channel logout."""
    if production:
        origins = [_placeholder("PUBLIC_URL", client.service)]
    else:
        origins = [f"http://127.0.0.1:{client.port}", f"http://localhost:{client.port}"]
    return {
        "clientId": client.client_id,
        "name": client.name,
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": _secret(client.client_id, production),
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "frontchannelLogout": False,
        "redirectUris": [f"{origin}/auth/callback" for origin in origins],
        "webOrigins": origins,
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": "##".join(f"{origin}/auth/signed-out" for origin in origins),
            "backchannel.logout.url": f"{origins[0]}/auth/backchannel-logout",
            "backchannel.logout.session.required": "true",
            "backchannel.logout.revoke.offline.tokens": "false",
        },
        "protocolMappers": protocol_mappers(nik=client.nik),
    }


def agency_client(code: str, production: bool) -> dict[str, Any]:
    """The client-credentials client of an agency's systems; its service account is an officer of the agency."""
    client_id = f"agency-{code}"
    return {
        "clientId": client_id,
        "name": f"Systems of agency {code}",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": _secret(client_id, production),
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": True,
        "protocolMappers": protocol_mappers(),
    }


def command_line_client() -> dict[str, Any]:
    """The local realm's public client for ``satupintu-token --user``: the password grant only."""
    return {
        "clientId": COMMAND_LINE_CLIENT,
        "name": "Local command line (satupintu-token)",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": True,
        "serviceAccountsEnabled": False,
        "protocolMappers": protocol_mappers(),
    }


def local_user(user: LocalUser) -> dict[str, Any]:
    """A local user with its initial password ``local-<username>``."""
    representation: dict[str, Any] = {
        "username": user.username,
        "enabled": True,
        "emailVerified": True,
        "email": f"{user.username}@satupintu.local",
        "firstName": user.first_name,
        "lastName": user.last_name,
        "credentials": [{"type": "password", "value": f"local-{user.username}", "temporary": False}],
        "realmRoles": [f"default-roles-{REALM}", *user.roles],
        "groups": [f"/agencies/{user.agency}"] if user.agency else [],
    }
    if user.nik:
        representation["attributes"] = {"nik": [user.nik]}
    return representation


def service_account(code: str) -> dict[str, Any]:
    """The service account of ``agency-<code>``: an officer in the agency's group."""
    return {
        "username": f"service-account-agency-{code}",
        "enabled": True,
        "serviceAccountClientId": f"agency-{code}",
        "realmRoles": [f"default-roles-{REALM}", "officer"],
        "groups": [f"/agencies/{code}"],
    }


def realm(agency_codes: Iterable[str], production: bool = False) -> dict[str, Any]:
    """The realm representation Keycloak imports."""
    codes = sorted(agency_codes)
    clients = [web_client(client, production) for client in WEB_CLIENTS]
    clients += [agency_client(code, production) for code in codes]
    users = [] if production else [local_user(user) for user in LOCAL_USERS]
    if not production:
        clients.append(command_line_client())
    users += [service_account(code) for code in codes]
    return {
        **REALM_SETTINGS,
        "roles": {"realm": [{"name": name, "description": description} for name, description in ROLES]},
        "groups": [
            {
                "name": "agencies",
                "path": "/agencies",
                "subGroups": [
                    {"name": code, "path": f"/agencies/{code}", "attributes": {"agency": [code]}} for code in codes
                ],
            }
        ],
        "clients": clients,
        "users": users,
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {
                    "providerId": "declarative-user-profile",
                    "subComponents": {},
                    "config": {"kc.user.profile.config": [json.dumps(USER_PROFILE)]},
                }
            ]
        },
    }


def render(representation: dict[str, Any]) -> str:
    """The realm as the committed JSON text."""
    return json.dumps(representation, indent=2) + "\n"


def rendered_files(agency_codes: Iterable[str]) -> dict[Path, str]:
    """Every generated file and its content."""
    codes = sorted(agency_codes)
    return {
        OUTPUT_DIR / f"{REALM}-realm.json": render(realm(codes)),
        OUTPUT_DIR / f"{REALM}-realm-production.json": render(realm(codes, production=True)),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the files, or with ``--check`` report the ones that differ and exit 1."""
    return write_or_check(__doc__, lambda: rendered_files(catalogue_agency_codes()), argv)


if __name__ == "__main__":
    sys.exit(main())
