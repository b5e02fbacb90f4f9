"""The language a page speaks and the words it says: a service keeps its texts (``{language: {key: text}}``); the
:class:`Translator` looks one up with the one fallback rule every page follows: the asked language, then
Indonesian, then the key itself (a missing text shows as its key, never as an error page)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request

LANGUAGES: Final = ("id", "en")
DEFAULT_LANGUAGE: Final = "id"
LANGUAGE_NAMES: Final = {"id": "Bahasa Indonesia", "en": "English"}

Texts = Mapping[str, Mapping[str, str]]
"""A service's texts: for each language of :data:`LANGUAGES`, each key's text (``str.format`` placeholders)."""


def language_or_default(language: str | None) -> str:
    """``language`` if the pages speak it, Indonesian otherwise."""
    if language is not None and language in LANGUAGES:
        return language
    return DEFAULT_LANGUAGE


def other_language(language: str) -> str:
    """The language a page's switch link offers."""
    return "en" if language == "id" else "id"


def switch_url(
    request: Request,
    language: str,
    *,
    path: str | None = None,
    keep_query: bool = True,
    leave_out: Collection[str] = (),
) -> str:
    """The link to this page (or ``path``) in ``language``: the request's query kept but for ``lang`` and
    ``leave_out`` (none of it with ``keep_query=False``), and ``lang=<language>`` last."""
    dropped = {"lang", *leave_out}
    kept = [(name, value) for name, value in request.query_params.multi_items() if name not in dropped]
    kept = kept if keep_query else []
    return f"{path or request.url.path}?{urlencode([*kept, ('lang', language)])}"


def page_language(request: Request) -> str:
    """The page's language: ``?lang=en``, else Indonesian."""
    return language_or_default(request.query_params.get("lang"))


class Translator:
    """A service's texts in one language (the asked one, then Indonesian, then the key), with values filled in.
    Services subclass it to add how they write dates, numbers or state names."""

    def __init__(self, texts: Texts, language: str | None) -> None:
        self.language = language_or_default(language)
        self._texts = texts

    def template(self, key: str) -> str:
        """The text ``key`` as written, placeholders unfilled."""
        return self._texts.get(self.language, {}).get(key) or self._texts.get(DEFAULT_LANGUAGE, {}).get(key) or key

    def __call__(self, key: str, **values: object) -> str:
        """The text ``key``, with ``values`` filled in."""
        text = self.template(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether there is a text ``key`` (in this language or in Indonesian)."""
        return key in self._texts.get(self.language, {}) or key in self._texts.get(DEFAULT_LANGUAGE, {})

    @property
    def query(self) -> str:
        """The query string that keeps this language on a link or a form's action (empty for Indonesian)."""
        return "" if self.language == DEFAULT_LANGUAGE else f"?lang={self.language}"
