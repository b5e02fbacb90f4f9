"""Alembic's environment of intake's database: ``satupintu-intake migrate`` and ``alembic -n intake`` run it."""

from satupintu.common.migrations import run_environment
from satupintu.intake.migrations import SCHEMA

run_environment(SCHEMA)
