"""End-to-end flows run services in this process (``running``) or as real processes (``tests.processes``), on the
real Kafka broker and PostgreSQL server of the session (fixtures from ``satupintu.devtools.testing.plugin``)."""

from __future__ import annotations

from satupintu.devtools.testing.apps import running

__all__ = ["running"]
