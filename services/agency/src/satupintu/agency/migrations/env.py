"""Alembic's environment of agency's database: ``satupintu-agency migrate`` and ``alembic -n agency`` run it."""

from satupintu.agency.migrations import SCHEMA
from satupintu.common.migrations import run_environment

run_environment(SCHEMA)
