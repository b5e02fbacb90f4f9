"""The officers' desk pages (server-rendered, Indonesian): signing in, the task pool, a task and its decision;
``desk`` holds them, on the shared kit :mod:`satupintu.common.web`."""

from __future__ import annotations

from satupintu.agency.web.desk import install_page_security, router

__all__ = ["install_page_security", "router"]
