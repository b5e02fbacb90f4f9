"""The page plumbing every service's server-rendered pages share, one small module each.

- :mod:`~satupintu.common.web.templates`: the Jinja environment of a package's ``templates/`` (autoescape, strict
  undefined, the shared filters) and the HTML answer it renders.
- :mod:`~satupintu.common.web.translator`: the page's language and the :class:`Translator` of a service's texts, with
  one fallback rule (the asked language, then Indonesian, then the key itself).
- :mod:`~satupintu.common.web.dates`: dates and times the way the pages write them, in a local time zone.
- :mod:`~satupintu.common.web.csrf`: CSRF tokens bound to the page session.
- :mod:`~satupintu.common.web.uploads`: reading a submitted form and its files within their limits.
- :mod:`~satupintu.common.web.pages`: the pages' security headers and a whole page in the request's language (the
  operators' pages every service has use it as it is).

A service keeps its own words, templates and routes; it takes everything else from here.
"""
