"""Signing people in through an OpenID Connect provider (Keycloak locally, any conforming provider in production):
Authorization Code with PKCE through authlib, a server-side session whose cookie holds only an opaque id, logout
through the provider (RP-initiated) and the provider's back-channel logout (docs/decisions/0023-staff-sign-in.md).

- :mod:`.settings`: where the provider is and who this service is to it (``OIDC_*``).
- :mod:`.provider`: its discovery document, its keys, and the tokens it signs.
- :mod:`.sessions`: sign-in attempts and sessions in the service's own database.
- :mod:`.web`: the ``/auth/*`` routes and the signed-in principal of a page request.
"""
