"""Alembic's environment of audit's database: ``satupintu-audit migrate`` and ``alembic -n audit`` run it."""

from satupintu.audit.migrations import SCHEMA
from satupintu.common.migrations import run_environment

run_environment(SCHEMA)
