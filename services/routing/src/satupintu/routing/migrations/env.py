"""Alembic's environment of routing's database: ``satupintu-routing migrate`` and ``alembic -n routing`` run it."""

from satupintu.common.migrations import run_environment
from satupintu.routing.migrations import SCHEMA

run_environment(SCHEMA)
