"""The citizen's web pages (server-rendered, work without JavaScript), in Indonesian and English: choose a service,
apply with the form the catalogue describes, follow the application, answer an agency's question, and, for a citizen
who signs in with an account, see their own applications. They call the same use cases as the JSON API; errors are
shown GOV.UK-style, in a summary linking to each field and beside it.

One module per journey (``choose``, ``apply``, ``track``, ``answer``, ``account``, and ``verify``: the public
verification page of an issued document, the one page in the OpenAPI document, since it answers JSON too);
``fields``, ``forms``, ``messages``, ``documents`` and ``rendering`` are what they share. ``router`` is every page."""

from __future__ import annotations

from fastapi import APIRouter

from satupintu.intake.web import account, answer, apply, choose, rendering, track, verify

router = APIRouter()
for journey in (rendering, choose, apply, track, answer, account, verify):
    router.include_router(journey.router)

__all__ = ["router"]
