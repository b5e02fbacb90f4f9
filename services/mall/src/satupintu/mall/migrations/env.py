"""Alembic's environment of mall's database: ``satupintu-mall migrate`` and ``alembic -n mall`` run it."""

from satupintu.common.migrations import run_environment
from satupintu.mall.migrations import SCHEMA

run_environment(SCHEMA)
