"""The auditors' pages (server-rendered): signing in, searching the trail, an application's timeline; ``trail``
holds them, on the shared kit :mod:`satupintu.common.web`. Every page view is itself recorded as ``access.recorded``."""

from __future__ import annotations

from satupintu.audit.web.trail import install, router

__all__ = ["install", "router"]
